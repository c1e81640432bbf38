import { ApplicationFailure } from '@temporalio/common';
import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import { ErrorType, failure } from '../../errors';
import type { Analysis, AnalysisRequest, Analyzer } from './port';

/**
 * Circuit breaker around the AI provider, as a decorating adapter over the Analyzer port
 * (cockatiel's CircuitBreakerPolicy; the inner analyzer does not know it is wrapped).
 *
 * It opens after `failures` consecutive availability failures (AiUnavailable: timeouts, 5xx,
 * broken connections, garbage); rate limits and refusals do not count (the rate limit and the
 * error taxonomy handle those). While open, calls fail at once with a typed AiUnavailable whose
 * next retry delay is the time left until half-open, so Temporal does not burn attempts against
 * a dead provider; half-open admits one probe. The state is per worker process: with W AI
 * workers the provider sees at most W probes per half-open interval.
 */
export interface BreakerOptions {
  failures: number;
  halfOpenAfterMs: number;
}

export class BreakerAnalyzer implements Analyzer {
  readonly name: string;
  readonly model: string;
  readonly offline: boolean;
  private readonly policy: CircuitBreakerPolicy;
  private openedAt = 0;

  constructor(
    private readonly inner: Analyzer,
    private readonly opts: BreakerOptions,
  ) {
    this.name = inner.name;
    this.model = inner.model;
    this.offline = inner.offline;
    this.policy = circuitBreaker(
      handleWhen((err) => err instanceof ApplicationFailure && err.type === ErrorType.AiUnavailable),
      { halfOpenAfter: opts.halfOpenAfterMs, breaker: new ConsecutiveBreaker(opts.failures) },
    );
    this.policy.onBreak(() => {
      this.openedAt = Date.now();
    });
  }

  get state(): 'closed' | 'open' | 'half-open' {
    const s = this.policy.state;
    return s === CircuitState.Closed ? 'closed' : s === CircuitState.HalfOpen ? 'half-open' : 'open';
  }

  analyze(req: AnalysisRequest): Promise<Analysis> {
    return this.guard(() => this.inner.analyze(req));
  }

  embedQuery(text: string, signal?: AbortSignal): Promise<number[]> {
    return this.guard(() => this.inner.embedQuery(text, signal));
  }

  private async guard<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await this.policy.execute(run);
    } catch (err) {
      if (err instanceof BrokenCircuitError) {
        // Half-open with the probe already out: wait about one interval for its verdict.
        const left = this.state === 'half-open' ? this.opts.halfOpenAfterMs : this.opts.halfOpenAfterMs - (Date.now() - this.openedAt);
        // Spread over one half-open interval past the opening: callers turned away together must
        // not all come back at the moment the probe closes the circuit.
        const wait = Math.max(250, left) + Math.floor(Math.random() * this.opts.halfOpenAfterMs);
        throw failure(
          ErrorType.AiUnavailable,
          `the AI provider's circuit is open after repeated failures; next probe in ${Math.ceil(wait / 1000)} s`,
          {
            details: { breaker: this.state, retryInMs: wait },
            nextRetryDelayMs: wait,
          },
        );
      }
      throw err;
    }
  }
}
