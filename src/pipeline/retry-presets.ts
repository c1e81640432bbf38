/**
 * Every activity's timeouts and retry budget, named by intent and declared once. The workflows
 * build their activity proxies from these; the catalogue names the preset of every activity, so
 * "how often may X run" is answered here and nowhere else.
 *
 * Every policy is bounded (Temporal's default is unlimited attempts) and carries the typed
 * non-retryable errors. Workflow-safe: no Node imports, no config; values a deployment tunes
 * (the media heartbeat timeout) arrive as arguments from the workflow input.
 */
import type { ActivityOptions, Duration, LocalActivityOptions, RetryPolicy } from '@temporalio/common';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors';

const nonRetryableErrorTypes = [...NON_RETRYABLE_ERROR_TYPES];

/** Production default of MEDIA_HEARTBEAT_TIMEOUT_MS when a starter sends none. */
export const DEFAULT_MEDIA_HEARTBEAT_TIMEOUT_MS = 30_000;

/** One attempt of the AI analysis: every provider call's own deadline must fit inside it (checked at start-up). */
export const AI_ATTEMPT_TIMEOUT_MS = 3 * 60_000;

function retry(initialInterval: Duration, maximumInterval: Duration, maximumAttempts: number): RetryPolicy {
  return { initialInterval, backoffCoefficient: 2, maximumInterval, maximumAttempts, nonRetryableErrorTypes };
}

export const RETRY_PRESETS = {
  /**
   * ffmpeg work on the media queue. 1 s first retry: a dead worker's attempt (heartbeat timeout)
   * is retried within ~12 s of its death; three attempts, then the video is dead-lettered.
   */
  mediaStep: (heartbeatTimeoutMs: number): ActivityOptions => ({
    startToCloseTimeout: '2h',
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: retry('1s', '1m', 3),
  }),
  /** One segment of a segmented transcode: small, so three attempts within 30 minutes each. */
  segment: (heartbeatTimeoutMs: number): ActivityOptions => ({
    startToCloseTimeout: '30m',
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: retry('1s', '1m', 3),
  }),
  /** Keyframes and audio chunks for the AI step, cut from the published rendition. */
  analysisInputs: (heartbeatTimeoutMs: number): ActivityOptions => ({
    startToCloseTimeout: '30m',
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: retry('2s', '1m', 3),
  }),
  /**
   * Scrub previews: a nicety. A killed worker's attempt is retried (heartbeat timeout), but after
   * two attempts the video goes on without one rather than wait.
   */
  storyboard: (heartbeatTimeoutMs: number): ActivityOptions => ({
    startToCloseTimeout: '30m',
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: retry('2s', '30s', 2),
  }),
  /**
   * The AI analysis spaces its retries itself (full jitter via nextRetryDelay) and stops with
   * AiDeferred after its bounded wait, so the attempt cap here is only a backstop.
   */
  aiSelfPaced: (): ActivityOptions => ({
    startToCloseTimeout: AI_ATTEMPT_TIMEOUT_MS,
    heartbeatTimeout: '10s',
    retry: retry('2s', '5m', 40),
  }),
  /** The metadata-only stand-in when the provider is unavailable: no provider call, a few quick retries. */
  aiStandIn: (): ActivityOptions => ({
    startToCloseTimeout: '3m',
    retry: retry('2s', '1m', 5),
  }),
  /** Main-DB writes of the index saga ride out an outage of ~3 minutes (2+4+8+16+30×5 s). */
  dbRidesOutage: (): ActivityOptions => ({
    startToCloseTimeout: '1m',
    heartbeatTimeout: '10s',
    retry: retry('2s', '30s', 10),
  }),
  /** "Failed for good" = five attempts over ~15 s; then the saga compensates and the video is dead-lettered. */
  vectorWriteFailsFast: (): ActivityOptions => ({
    startToCloseTimeout: '1m',
    heartbeatTimeout: '10s',
    retry: retry('1s', '10s', 5),
  }),
  /** Recording a failure retries for ~5 minutes, so a DB outage cannot leave the row 'queued'. */
  recordFailure: (): ActivityOptions => ({
    startToCloseTimeout: '1m',
    retry: retry('2s', '30s', 14),
  }),
  /** The deletion saga finishes through ~10 minutes of store outage (1, 2, 4, 8, 15, 15, … s). */
  cleanupPersistent: (): ActivityOptions => ({
    startToCloseTimeout: '2m',
    heartbeatTimeout: '30s',
    retry: retry('1s', '15s', 45),
  }),
  /** One page of the reconciler; the next scheduled pass picks up what a failed one left. */
  reconcilePage: (): ActivityOptions => ({
    startToCloseTimeout: '10m',
    heartbeatTimeout: '2m',
    retry: retry('2s', '30s', 3),
  }),
} as const;

/** Local activities on the pipeline worker (signing a GET URL with the worker's credentials). */
export const LOCAL_PRESETS = {
  /**
   * Reading an upload's completion (its ETag) needs the main DB: ride out an outage of ~2.5
   * minutes (1+2+4+8+16+30×4 s) like the index saga's writes, not ~15 s: a resumable upload
   * started while PostgreSQL restarted was dead-lettered by the soak.
   */
  localSigning: (): LocalActivityOptions => ({
    startToCloseTimeout: '30s',
    retry: retry('1s', '30s', 10),
  }),
} as const;

export type RetryPresetName = keyof typeof RETRY_PRESETS | keyof typeof LOCAL_PRESETS;

/** The attempt budget of a preset (its policy's maximumAttempts): what a test may count against. */
export function maximumAttemptsOf(name: RetryPresetName): number {
  const preset =
    name in RETRY_PRESETS
      ? RETRY_PRESETS[name as keyof typeof RETRY_PRESETS](DEFAULT_MEDIA_HEARTBEAT_TIMEOUT_MS)
      : LOCAL_PRESETS[name as keyof typeof LOCAL_PRESETS]();
  return preset.retry?.maximumAttempts ?? Infinity;
}
