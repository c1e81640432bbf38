import { ErrorType } from '../errors';
import { DATABASE_RETRY_AFTER_SEC, isDatabaseUnavailable } from '../db/unavailable';
import { HttpError, type ErrorBody } from './http-error';
import type { StaleVideoStatus } from '../app/last-known-status';
import { VideoUnreadableError } from '../app/errors';

/**
 * 503 DatabaseUnavailable in the one error shape, with Retry-After; for GET /videos/:id of a
 * video this process has served before, `lastKnown` carries that status document (stale: true).
 */
export class DatabaseUnavailableError extends HttpError {
  readonly lastKnown: StaleVideoStatus | undefined;

  constructor(message: string, opts: { videoId?: string; lastKnown?: StaleVideoStatus } = {}) {
    super(503, ErrorType.DatabaseUnavailable, message, {
      videoId: opts.videoId,
      hint: opts.lastKnown
        ? `The main database is unreachable; lastKnown is what this server last saw (as of ${opts.lastKnown.asOf}). Retry after Retry-After.`
        : 'The main database is unreachable; nothing was changed. Retry after Retry-After.',
      headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SEC) },
    });
    this.lastKnown = opts.lastKnown;
  }

  override toBody(): ErrorBody & { lastKnown?: StaleVideoStatus } {
    return this.lastKnown ? { ...super.toBody(), lastKnown: this.lastKnown } : super.toBody();
  }
}

/** The typed 503 for an error that means the database is down (see db/unavailable.ts, app/errors.ts), else undefined. */
export function asDatabaseUnavailable(err: unknown): DatabaseUnavailableError | undefined {
  if (err instanceof DatabaseUnavailableError) return err;
  if (err instanceof VideoUnreadableError)
    return new DatabaseUnavailableError(err.message, { videoId: err.videoId, lastKnown: err.lastKnown });
  if (err instanceof HttpError || !isDatabaseUnavailable(err)) return undefined;
  return new DatabaseUnavailableError('the main database is unreachable');
}
