/**
 * Whether the provider has an optional route (e.g. /v1/audio/transcriptions), learnt from the
 * first call and remembered for the life of the process: many OpenAI-compatible servers lack
 * some routes, and asking again for every video would only cost time. While the answer is
 * unknown, one call at a time probes (concurrent analyses wait for its verdict instead of all
 * probing at once). A failure that says nothing about the route (timeout, 5xx) leaves it unknown.
 * A worker restart forgets it, which is how a provider that gained the route is noticed.
 */
export type RouteState = 'unknown' | 'present' | 'absent';
/** What a failed call says: the route is missing (remember it), this input cannot be served (skip it), or neither. */
export type FailureVerdict = 'absent' | 'skip' | 'rethrow';

export class RouteSupport {
  private current: RouteState;
  private probe: Promise<void> | undefined;

  constructor(initial: RouteState = 'unknown') {
    this.current = initial;
  }

  get state(): RouteState {
    return this.current;
  }

  markAbsent(): void {
    this.current = 'absent';
  }

  /**
   * Runs `call` unless the route is known absent (then `undefined`). `judge` reads a failure of
   * `call` (knowing what was known before it): 'absent' and 'skip' resolve to undefined (only
   * 'absent' is remembered), 'rethrow' rethrows.
   */
  async run<T>(call: () => Promise<T>, judge: (err: unknown, before: RouteState) => FailureVerdict): Promise<T | undefined> {
    while (this.current === 'unknown' && this.probe) await this.probe;
    if (this.current === 'absent') return undefined;
    let release: (() => void) | undefined;
    if (this.current === 'unknown') this.probe = new Promise<void>((r) => (release = r));
    try {
      const out = await call();
      this.current = 'present';
      return out;
    } catch (err) {
      const verdict = judge(err, this.current);
      if (verdict === 'rethrow') throw err;
      if (verdict === 'absent') this.current = 'absent';
      return undefined;
    } finally {
      if (release) {
        this.probe = undefined;
        release();
      }
    }
  }
}
