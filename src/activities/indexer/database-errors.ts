import { ApplicationFailure } from '@temporalio/common';
import { isDatabaseUnavailable } from '../../db/unavailable';
import { ErrorType, failure } from '../../errors';

/**
 * Every index activity reads or writes the main database, most of them in several places: rather
 * than a try/catch at each query, the activities are wrapped once, so a lost database always
 * reaches Temporal (and the status document's lastError) as a retryable DatabaseUnavailable
 * instead of a raw `Error: connect ECONNREFUSED`. Typed failures pass through untouched; other
 * errors stay what they are (a bug is not an outage).
 */
export function withTypedDatabaseErrors<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, (...args: never[]) => Promise<unknown>> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        if (err instanceof ApplicationFailure || !isDatabaseUnavailable(err)) throw err;
        throw failure(ErrorType.DatabaseUnavailable, `the main database is unreachable (${name}): ${(err as Error).message}`, {
          cause: err as Error,
        });
      }
    };
  }
  return wrapped as T;
}
