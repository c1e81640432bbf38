import { fullJitterDelayMs } from '../../src/adapters/analyzer/backoff';
import { parseResetDuration } from '../../src/adapters/analyzer/rate-limit-gate';

describe('full-jitter backoff', () => {
  const policy = { baseMs: 1_000, capMs: 30_000 };

  it('draws uniformly in [0, base·2^(attempt-1)], capped', () => {
    expect(fullJitterDelayMs(1, policy, undefined, () => 0)).toBe(1);
    expect(fullJitterDelayMs(1, policy, undefined, () => 0.999)).toBe(999);
    expect(fullJitterDelayMs(4, policy, undefined, () => 0.5)).toBe(4_000);
    expect(fullJitterDelayMs(20, policy, undefined, () => 0.999)).toBe(29_970);
  });

  it('is never sooner than Retry-After, and spreads callers told the same moment over [RA, 2·RA]', () => {
    expect(fullJitterDelayMs(1, policy, 5_000, () => 0)).toBe(5_000);
    expect(fullJitterDelayMs(1, policy, 5_000, () => 0.999)).toBe(9_995);
    const draws = Array.from({ length: 1000 }, () => fullJitterDelayMs(1, policy, 2_000));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(2_000);
    // No second holds most of them: the herd is spread.
    const perSecond = new Map<number, number>();
    for (const d of draws) perSecond.set(Math.floor(d / 1000), (perSecond.get(Math.floor(d / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThan(700);
  });
});

describe('rate-limit headers', () => {
  it('parses OpenAI reset durations', () => {
    expect(parseResetDuration('59.99s')).toBeCloseTo(59_990);
    expect(parseResetDuration('1ms')).toBe(1);
    expect(parseResetDuration('6m0s')).toBe(360_000);
    expect(parseResetDuration('1h2m3.5s')).toBe(3_723_500);
    expect(parseResetDuration('2')).toBe(2_000);
    expect(parseResetDuration('soon')).toBeUndefined();
    expect(parseResetDuration(null)).toBeUndefined();
  });
});
