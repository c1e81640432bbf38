import { AuthThrottle } from '../../src/security/auth-throttle';

const opts = { freeFailures: 3, baseDelayMs: 1_000, maxDelayMs: 8_000, forgetAfterMs: 60_000, maxAddresses: 2 };

test('free failures, then a delay that doubles per failure up to the cap', () => {
  let now = 0;
  const t = new AuthThrottle(opts, () => now);
  expect([t.fail('a'), t.fail('a'), t.fail('a')]).toEqual([0, 0, 0]);
  expect(t.blockedFor('a')).toBe(0);
  expect([t.fail('a'), t.fail('a'), t.fail('a'), t.fail('a'), t.fail('a')]).toEqual([1_000, 2_000, 4_000, 8_000, 8_000]);
  expect(t.blockedFor('a')).toBe(8_000);
  expect(t.blockedFor('b')).toBe(0);
  now = 8_000;
  expect(t.blockedFor('a')).toBe(0);
  // Still remembered: the next failure waits the capped delay again, not a free one.
  expect(t.fail('a')).toBe(8_000);
  // Quiet for longer than forgetAfterMs: starts over.
  now += 70_000;
  expect(t.fail('a')).toBe(0);
});

test('memory is bounded: the least recently failing address is forgotten first', () => {
  const t = new AuthThrottle({ ...opts, freeFailures: 0 }, () => 0);
  t.fail('a');
  t.fail('b');
  t.fail('c');
  expect(t.blockedFor('a')).toBe(0);
  expect(t.blockedFor('b')).toBe(1_000);
  expect(t.blockedFor('c')).toBe(1_000);
});
