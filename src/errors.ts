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
  /** The API could not reach Temporal within its answer deadline (~5 s): retry after Retry-After. */
  TemporalUnavailable: 'TemporalUnavailable',
  /** Object storage (local store or S3) could not be read or written: retryable. */
  StorageUnavailable: 'StorageUnavailable',

  // Media: one type per reason a user can act on.
  /** The file has no video stream (audio only, subtitles, data). */
  NoVideoStream: 'NoVideoStream',
  /** A still image (PNG, JPEG…), not a video. */
  NotAVideo: 'NotAVideo',
  /** Width, height or pixel count over the configured limits. */
  MediaTooLarge: 'MediaTooLarge',
  /** Longer than the configured maximum duration. */
  MediaTooLong: 'MediaTooLong',
  /** Shorter than the minimum duration or frame count (e.g. a one-frame "video"). */
  MediaTooShort: 'MediaTooShort',
  /** The container promises more than the file holds (cut-off upload). */
  TruncatedMedia: 'TruncatedMedia',
  /** The file source resolves outside the ingest directory (e.g. a symlink swapped in after the upload). */
  SourceOutsideIngestDir: 'SourceOutsideIngestDir',
  /** The file source is a directory, FIFO, device or socket, not a regular file. */
  SourceNotRegularFile: 'SourceNotRegularFile',
  /** ffmpeg stopped making progress and was killed by the stall watchdog: worth retrying. */
  TranscodeStalled: 'TranscodeStalled',
  /** The media worker running the attempt stopped renewing its liveness lease (killed, frozen, host lost): retried at once elsewhere. */
  WorkerLost: 'WorkerLost',
  /** The disk filled up while fetching, encoding or publishing; the attempt freed what it wrote: retryable. */
  DiskFull: 'DiskFull',
  /** An operator cancelled the run (Web UI, CLI, DELETE). */
  WorkflowCancelled: 'WorkflowCancelled',
  /** An operator terminated the run (Web UI, CLI): none of its code ran after, not even its failure path. */
  WorkflowTerminated: 'WorkflowTerminated',
  /** The run failed and neither its query nor the row says why (its history in the Web UI does). */
  WorkflowFailed: 'WorkflowFailed',
  /** The AI account is out of credit (429 insufficient_quota): no retry helps until billing is fixed. */
  AiQuotaExhausted: 'AiQuotaExhausted',
  /** The AI service refused the content (content policy): this video's analysis fails for good. */
  AiContentRejected: 'AiContentRejected',
  /** The AI service stayed unavailable past the bounded wait: the video goes ready without AI, analysis later. */
  AiDeferred: 'AiDeferred',
  /** Admission control refused a new upload (backlog too long or old): retry after Retry-After. */
  Overloaded: 'Overloaded',
  /** This client sent more requests than its per-client rate limit allows. */
  RateLimited: 'RateLimited',
  /** The run exceeded its workflow execution timeout (the TTL) and was stopped by Temporal. */
  WorkflowTimedOut: 'WorkflowTimedOut',
  /** A presigned/signed source URL expired or was rejected (403); the workflow refreshes or waits for a new one. */
  SourceUrlExpired: 'SourceUrlExpired',
  /** A URL source (or one of its redirects) points at a loopback, private or metadata address. */
  SourceForbidden: 'SourceForbidden',
  /** An uploaded object is not the one its upload completed with (ETag changed): never processed. */
  SourceChanged: 'SourceChanged',
  /** The run ended (terminated, cancelled, timed out) without updating its row; set by the reconciler. */
  RunEnded: 'RunEnded',
  /** The AI provider cannot do this at all (no such route or model, 404/405/501): asking again cannot help; the analysis degrades. */
  AiUnsupported: 'AiUnsupported',
  /** The AI service answered (and was paid) but not in the shape asked for, even after one cheaper repair: the analysis degrades. */
  AiBadAnswer: 'AiBadAnswer',
  /**
   * A payload was encrypted under another payload key than this process holds: the hosts do not
   * share BIBLIO_PAYLOAD_KEY. Retryable: another worker with the right key may take the retry.
   */
  PayloadKeyMismatch: 'PayloadKeyMismatch',
  /** The keyframes or audio chunks the AI step was handed are in neither its cache nor the store: cut them again; the analysis degrades. */
  AnalysisInputsMissing: 'AnalysisInputsMissing',
} as const;

export type ErrorTypeName = (typeof ErrorType)[keyof typeof ErrorType];

/** Types that can never succeed on retry: listed in every retry policy's nonRetryableErrorTypes. */
/**
 * The first pause before retrying after a full disk (DiskFull): space is freed by people or by
 * other attempts finishing, not in 2 s. The media activities double it each attempt
 * (src/activities/media/media-failures.ts).
 */
export const DISK_FULL_RETRY_MS = 30_000;

export const NON_RETRYABLE_ERROR_TYPES: readonly ErrorTypeName[] = [
  ErrorType.InvalidMedia,
  ErrorType.SourceNotFound,
  ErrorType.SourceTooLarge,
  ErrorType.AiRejected,
  ErrorType.NoVideoStream,
  ErrorType.NotAVideo,
  ErrorType.MediaTooLarge,
  ErrorType.MediaTooLong,
  ErrorType.MediaTooShort,
  ErrorType.TruncatedMedia,
  ErrorType.SourceOutsideIngestDir,
  ErrorType.SourceNotRegularFile,
  ErrorType.AiQuotaExhausted,
  ErrorType.AiContentRejected,
  ErrorType.AiDeferred,
  // Retrying the same expired URL cannot help: the workflow gets a fresh one instead.
  ErrorType.SourceUrlExpired,
  ErrorType.SourceForbidden,
  ErrorType.AiUnsupported,
  ErrorType.AiBadAnswer,
  ErrorType.SourceChanged,
  ErrorType.AnalysisInputsMissing,
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
