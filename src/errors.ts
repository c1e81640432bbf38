import { ApplicationFailure } from '@temporalio/common';

/**
 * The failure taxonomy every part agrees on: activities throw these, workflows rethrow
 * them, the API and CLI show their `type`. Never match on messages.
 *
 * Workflow-safe: imports nothing from Node (workflow code is bundled into a sandbox), and
 * builds `ApplicationFailure`s rather than Error subclasses, because a plain Error thrown in
 * workflow code fails the workflow *task*, which Temporal retries forever.
 */
export const ErrorType = {
  /** The input is not playable video (ffprobe rejects it or finds no video stream). */
  InvalidMedia: 'InvalidMedia',
  /** The source file or URL does not exist (or is not allowed). */
  SourceNotFound: 'SourceNotFound',
  /** The source is larger than the configured cap. */
  SourceTooLarge: 'SourceTooLarge',
  /** The source could not be fetched right now (network, 5xx): worth retrying. */
  SourceUnavailable: 'SourceUnavailable',
  /** ffmpeg failed on media that probed fine. */
  TranscodeFailed: 'TranscodeFailed',
  /** The AI service throttled us (429). */
  AiRateLimited: 'AiRateLimited',
  /** The AI service is down, slow or answered garbage. */
  AiUnavailable: 'AiUnavailable',
  /** The AI service refused our credentials or request; retrying cannot help. */
  AiRejected: 'AiRejected',
  /** The vector store could not be written or read. */
  VectorStoreUnavailable: 'VectorStoreUnavailable',
  /** The main database could not be written or read. */
  DatabaseUnavailable: 'DatabaseUnavailable',
  /** The run ended (terminated, cancelled, timed out) without updating its row; set by the reconciler. */
  RunEnded: 'RunEnded',
} as const;

export type ErrorTypeName = (typeof ErrorType)[keyof typeof ErrorType];

/** Types that can never succeed on retry: listed in every retry policy's nonRetryableErrorTypes. */
export const NON_RETRYABLE_ERROR_TYPES: readonly ErrorTypeName[] = [
  ErrorType.InvalidMedia,
  ErrorType.SourceNotFound,
  ErrorType.SourceTooLarge,
  ErrorType.AiRejected,
];

export interface FailureOptions {
  /** Extra machine-readable facts for the status document (kept small: it goes into history). */
  details?: Record<string, unknown>;
  /** Overrides Temporal's backoff for the next attempt (e.g. from a Retry-After header). */
  nextRetryDelayMs?: number;
  cause?: Error;
}

export function failure(type: ErrorTypeName, message: string, opts: FailureOptions = {}): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: NON_RETRYABLE_ERROR_TYPES.includes(type),
    details: opts.details ? [opts.details] : undefined,
    nextRetryDelay: opts.nextRetryDelayMs,
    cause: opts.cause,
  });
}
