/**
 * An S3-compatible store that cannot be reached (restarting, network cut, answering 5xx) fails
 * with one typed, retryable StorageUnavailable, never a raw socket error: a raw ECONNREFUSED
 * used to dead-letter valid uploads within three quick media attempts, and the API read it as a
 * database outage. The workers' retries then pause long enough for a store restart, and the
 * API answers 503 StorageUnavailable with Retry-After.
 *
 * Only failures that say "the store is not there right now" are typed; anything else (a refused
 * signature, a bug) passes through as it was, and so do failures already typed.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { ErrorType, failure } from '../../errors';
import { SOCKET_FAILURE_CODES } from '../../net/socket-errors';

/** First pause before the retry of an attempt the store failed, doubled each attempt up to a minute. */
export const STORAGE_RETRY_MS = 15_000;
const STORAGE_RETRY_CAP_MS = 60_000;

/** What the AWS SDK names a store that is busy or failing (its own retries exhausted). */
const UNAVAILABLE_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'ServiceUnavailable', 'InternalError', 'SlowDown', 'NetworkingError']);

export function isStoreUnreachable(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 4) return false;
  const e = err as { code?: unknown; name?: unknown; errors?: unknown; cause?: unknown; $metadata?: { httpStatusCode?: number } };
  if (typeof e.code === 'string' && SOCKET_FAILURE_CODES.has(e.code)) return true;
  // The SDK re-wraps a socket error from another realm (a vm context, a test runner) into a new
  // Error that keeps only the text: the code is then read from the message.
  const wrapped = /^AWS SDK error wrapper for .*?\b(E[A-Z_]+)\b/.exec(String((err as { message?: unknown }).message ?? ''));
  if (wrapped && SOCKET_FAILURE_CODES.has(wrapped[1]!)) return true;
  if (typeof e.name === 'string' && UNAVAILABLE_NAMES.has(e.name)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isStoreUnreachable(x, depth + 1))) return true;
  return isStoreUnreachable(e.cause, depth + 1);
}

/** The pause before the next attempt: 15 s, 30 s, 60 s… (outside an activity, the first). */
export function storageRetryDelayMs(): number {
  let attempt = 1;
  try {
    attempt = Context.current().info.attempt;
  } catch {
    // Not in an activity (the API, a test).
  }
  return Math.min(STORAGE_RETRY_CAP_MS, STORAGE_RETRY_MS * 2 ** Math.max(0, attempt - 1));
}

function typed(err: unknown, method: string): unknown {
  if (err instanceof ApplicationFailure || !isStoreUnreachable(err)) return err;
  return failure(ErrorType.StorageUnavailable, `the object store could not be reached (${method}): ${(err as Error).message}`, {
    nextRetryDelayMs: storageRetryDelayMs(),
  });
}

/** The same store, its asynchronous calls failing typed as above. */
export function withTypedStorageFailures<T extends object>(store: T): T {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const out: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (out instanceof Promise) return out.catch((err: unknown) => Promise.reject(typed(err, String(prop))));
        return out;
      };
    },
  });
}
