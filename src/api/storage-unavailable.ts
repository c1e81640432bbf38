import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../errors';
import { HttpError } from './http-error';

/** How long a client should wait before retrying a call the object store failed. */
export const STORAGE_RETRY_AFTER_SEC = 5;

/**
 * The typed 503 for a call the object store could not serve (src/adapters/storage/typed-failures.ts),
 * else undefined: checked before the database's, whose socket errors look alike.
 */
export function asStorageUnavailable(err: unknown): HttpError | undefined {
  if (!(err instanceof ApplicationFailure) || err.type !== ErrorType.StorageUnavailable) return undefined;
  return new HttpError(503, ErrorType.StorageUnavailable, 'the object store is unreachable', {
    hint: 'The object store is unreachable; nothing was stored. Retry after Retry-After.',
    headers: { 'retry-after': String(STORAGE_RETRY_AFTER_SEC) },
  });
}
