import { ErrorType } from '../errors';
import { TEMPORAL_RETRY_AFTER_SEC } from '../temporal/deadline';
import type { StaleVideoStatus } from './last-known-status';

/**
 * Why a service refused a request, in words free of any transport: the API maps each kind to
 * one HTTP status (src/api/http-error.ts), a CLI or a test reads the kind and the type.
 */
export type AppErrorKind =
  /** The request itself is wrong (a path outside the ingest dir, a forbidden URL, a bad key). */
  | 'invalid'
  /** The caller may not touch this (another key's upload). */
  | 'forbidden'
  | 'not-found'
  /** The request contradicts the current state (an id taken, a run not in the right state). */
  | 'conflict'
  /** It existed and is gone for good (an abandoned upload). */
  | 'gone'
  | 'too-large'
  | 'unsupported-type'
  /** Well-formed but not processable (a source that does not exist). */
  | 'unprocessable'
  /** A dependency (Temporal, the database) could not be reached: worth retrying after `retryAfterSec`. */
  | 'unavailable';

export interface AppErrorOptions {
  videoId?: string;
  /** What the person should do next. */
  hint?: string;
  /** For 'unavailable': how long to wait before retrying. */
  retryAfterSec?: number;
}

/**
 * The one error a service throws at its callers. `type` is the stable name clients match on
 * (from src/errors.ts's taxonomy where one fits, e.g. SourceNotFound, else a name of its own
 * like VideoNotFound); never match on `message`.
 */
export class AppError extends Error {
  override readonly name = 'AppError';

  constructor(
    readonly kind: AppErrorKind,
    readonly type: string,
    message: string,
    readonly opts: AppErrorOptions = {},
  ) {
    super(message);
  }
}

/** Temporal could not be reached in time (src/temporal/deadline.ts): nothing was changed. */
export function temporalUnavailable(message: string, o: { videoId?: string; hint?: string } = {}): AppError {
  return new AppError('unavailable', ErrorType.TemporalUnavailable, message, {
    videoId: o.videoId,
    hint: o.hint ?? 'Temporal is unreachable; nothing was changed. Retry after Retry-After.',
    retryAfterSec: TEMPORAL_RETRY_AFTER_SEC,
  });
}

/** The main database is down, so the video's row cannot be read; `lastKnown` is what this process served for it last, if anything. */
export class VideoUnreadableError extends AppError {
  constructor(
    message: string,
    readonly videoId: string,
    readonly lastKnown: StaleVideoStatus | undefined,
  ) {
    super('unavailable', ErrorType.DatabaseUnavailable, message, { videoId });
  }
}
