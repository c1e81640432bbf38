/**
 * Failed authentications per client address: the first few failures are free (a typo,
 * a revoked key), then the address is refused for a delay that doubles with every further failure,
 * up to a cap. While refused, a request costs no key lookup. Memory stays bounded: the oldest
 * addresses are forgotten first, and an address with no failure for `forgetAfterMs` starts over.
 *
 * In memory, per API process: with N replicas an address gets N times the free failures, which
 * is still a small constant — the point is that guessing (and the database load it caused) stops.
 */
export interface AuthThrottleOptions {
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
  forgetAfterMs: number;
  maxAddresses: number;
}

export const DEFAULT_AUTH_THROTTLE: AuthThrottleOptions = {
  freeFailures: 10,
  baseDelayMs: 1_000,
  maxDelayMs: 15 * 60_000,
  forgetAfterMs: 15 * 60_000,
  maxAddresses: 10_000,
};

interface Entry {
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
}

export class AuthThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly opts: AuthThrottleOptions = DEFAULT_AUTH_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds this address must still wait, 0 when it may try. */
  blockedFor(address: string): number {
    const e = this.current(address);
    return e ? Math.max(0, e.blockedUntil - this.now()) : 0;
  }

  /** Counts a failed authentication; returns the delay it imposes (0 while failures are free). */
  fail(address: string): number {
    const now = this.now();
    const e = this.current(address) ?? { failures: 0, lastFailureAt: now, blockedUntil: 0 };
    e.failures += 1;
    e.lastFailureAt = now;
    const over = e.failures - this.opts.freeFailures;
    const delay = over > 0 ? Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** Math.min(over - 1, 30)) : 0;
    e.blockedUntil = now + delay;
    // Re-insert: Map order is the eviction order (least recently failed first).
    this.entries.delete(address);
    this.entries.set(address, e);
    while (this.entries.size > this.opts.maxAddresses) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return delay;
  }

  private current(address: string): Entry | undefined {
    const e = this.entries.get(address);
    if (e && this.now() - e.lastFailureAt > this.opts.forgetAfterMs && this.now() >= e.blockedUntil) {
      this.entries.delete(address);
      return undefined;
    }
    return e;
  }
}
