/**
 * Retry spacing for AI calls, computed by the activity and handed to Temporal as the failure's
 * `nextRetryDelay` (the server's own backoff has no jitter, so every video throttled at the
 * same moment would come back at the same moment: the thundering herd).
 *
 * Full jitter (AWS architecture blog, "Exponential Backoff and Jitter"): a uniform draw in
 * [0, min(cap, base·2^(attempt-1))]. When the provider named a Retry-After (or the breaker its
 * time to half-open), the draw is added on top of it and is at least as wide as it: no retry is
 * ever sooner than asked, and callers told the same moment spread over [RA, 2·RA] instead of
 * coming back together.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export function fullJitterDelayMs(
  attempt: number,
  policy: BackoffPolicy,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const jitter = Math.floor(random() * Math.max(exp, Math.min(policy.capMs, retryAfterMs ?? 0)));
  return Math.max(1, Math.ceil((retryAfterMs ?? 0) + jitter));
}
