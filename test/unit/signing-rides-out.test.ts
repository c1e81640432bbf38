import { LOCAL_PRESETS } from '../../src/pipeline/retry-presets';

/** Seconds of backoff a policy waits before giving up: initial × 2^i, capped, over attempts − 1 pauses. */
function rideOutSec(policy: {
  initialInterval?: unknown;
  maximumInterval?: unknown;
  backoffCoefficient?: number;
  maximumAttempts?: number;
}) {
  const sec = (d: unknown) => Number(String(d).replace(/s$/, ''));
  let total = 0;
  for (let i = 0; i < (policy.maximumAttempts ?? 1) - 1; i++) {
    total += Math.min(sec(policy.initialInterval) * (policy.backoffCoefficient ?? 2) ** i, sec(policy.maximumInterval));
  }
  return total;
}

// Signing an upload's GET URL reads its completion from the main DB; the soak restarted
// PostgreSQL for 22.6 s and a resumable upload started then was dead-lettered with a raw
// ECONNREFUSED after ~15 s of retries.
test('signing an upload URL rides out a main-DB outage of two minutes, and the DB error is retryable', () => {
  const retry = LOCAL_PRESETS.localSigning().retry!;
  expect(rideOutSec(retry)).toBeGreaterThanOrEqual(120);
  expect(retry.nonRetryableErrorTypes).not.toContain('DatabaseUnavailable');
});
