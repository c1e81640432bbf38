import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  condition,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertMemo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { StorageActivities } from '../activities/storage';
import type { AiActivities } from '../activities/ai';
import type { IndexerActivities } from '../activities/indexer';
import type { MediaActivities } from '../activities/media';
import type { AnalysisInputsActivities } from '../activities/media/analysis-inputs';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../errors';
import type {
  AnalysisInputs,
  AnalyzeInput,
  AnalyzeOutput,
  IndexInput,
  IndexOutput,
  PipelineState,
  PipelineStep,
  StepRecord,
  ProcessVideoInput,
  ProcessVideoResult,
  TranscodeOutput,
  VideoSource,
} from './contracts';
import { runIndexSaga } from './index-saga';
import { refreshSourceUrlSignal, statusQuery } from './messages';
import { segmentedTranscode } from './segmented-transcode';

/** Issue 18: signed upload URLs and refreshable external URLs (old histories replay the unpatched path). */
const SOURCE_REFRESH_PATCH = 'biblio-18-source-refresh';
const MAX_SOURCE_REFRESHES = 5;
/** Issue 15: segmented transcode and the HLS ladder. */
const SEGMENTED_PATCH = 'biblio-15-segmented';

const nonRetryableErrorTypes = [...NON_RETRYABLE_ERROR_TYPES];

/** Every retry policy is bounded: Temporal's default is unlimited attempts. */
function activityOptions(taskQueue: string, extra: Partial<ActivityOptions>): ActivityOptions {
  return {
    taskQueue,
    startToCloseTimeout: '10m',
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 5, nonRetryableErrorTypes },
    ...extra,
  };
}

/**
 * One upload, end to end: transcode on `media`, analyze on `ai`, index on `index`.
 * Deterministic: no I/O, no clock or randomness but Temporal's, no Node or config imports.
 */
export async function processVideo(input: ProcessVideoInput): Promise<ProcessVideoResult> {
  const { videoId, queues } = input;
  const state: PipelineState = { videoId, step: 'queued', steps: {} };
  // Registered before any await, so a query never misses the handler.
  setHandler(statusQuery, () => state);
  let refreshedUrl: string | undefined;
  // Taken only while the run waits for it; the API sends it only then.
  setHandler(refreshSourceUrlSignal, ({ url }) => {
    if (state.waitingForSource) refreshedUrl = url;
  });

  // Issue 17: a cancelled run (DELETE, an operator) closes only once its media activities have
  // stopped their ffmpeg, so nothing of it outlives the run. Runs recorded before resolve at once.
  const mediaCancellation = patched('biblio-17-wait-media-cancel') ? ActivityCancellationType.WAIT_CANCELLATION_COMPLETED : undefined;
  const mediaOptions = activityOptions(queues.media, {
    cancellationType: mediaCancellation,
    startToCloseTimeout: '2h',
    heartbeatTimeout: input.mediaHeartbeatTimeoutMs ?? 30_000,
    // 1 s: a dead worker's attempt (heartbeat timeout) is retried within ~12 s of its death.
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 3, nonRetryableErrorTypes },
  });
  const media = proxyActivities<MediaActivities>(mediaOptions);
  const ai = proxyActivities<AiActivities>(activityOptions(queues.ai, { startToCloseTimeout: '3m' }));
  // Issue 19: the index step rides out a main-DB outage of ~3 minutes (backoff 2+4+8+16+30×5 s), and
  // recording a failure retries for ~5 minutes, so a DB outage cannot leave the row 'queued'.
  // Retry options are not part of the command sequence: old histories replay unchanged.
  const indexer = proxyActivities<IndexerActivities>(
    activityOptions(queues.index, {
      startToCloseTimeout: '1m',
      retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes },
    }),
  );
  const recorder = proxyActivities<IndexerActivities>(
    activityOptions(queues.index, {
      startToCloseTimeout: '1m',
      retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 14, nonRetryableErrorTypes },
    }),
  );
  // Issue 16: keyframes + audio on the media queue; analysis that degrades instead of failing.
  const inputsStep = proxyActivities<AnalysisInputsActivities>(
    activityOptions(queues.media, {
      cancellationType: mediaCancellation,
      startToCloseTimeout: '30m',
      heartbeatTimeout: input.mediaHeartbeatTimeoutMs ?? 30_000,
      retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 3, nonRetryableErrorTypes },
    }),
  );
  // The activity spaces its retries itself (full jitter via nextRetryDelay) and stops with
  // AiDeferred after its bounded wait, so the attempt cap here is only a backstop.
  const aiResilient = proxyActivities<AiActivities>(
    activityOptions(queues.ai, {
      startToCloseTimeout: '3m',
      heartbeatTimeout: '10s',
      retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '5m', maximumAttempts: 40, nonRetryableErrorTypes },
    }),
  );

  /**
   * Issue 16: the provider being unavailable past the activity's bounded wait (AiDeferred) or
   * refusing the content makes the video ready on a metadata-only stand-in; a deferred analysis
   * is tried again on durable timers (bounded, growing intervals: history stays small) and the
   * video is re-indexed when it succeeds.
   */
  async function analyzeDegradably(analyzeInput: AnalyzeInput, mediaOut: NonNullable<PipelineState['media']>): Promise<ProcessVideoResult> {
    let analysis: AnalyzeOutput;
    let later: number[] = [];
    try {
      analysis = await step('analyze', queues.ai, () => aiResilient.analyze({ ...analyzeInput, degradable: true }));
      state.analysisState = 'complete';
    } catch (err) {
      const why = failureOf(err);
      if (why?.type !== ErrorType.AiDeferred && why?.type !== ErrorType.AiContentRejected) throw err;
      analysis = await ai.analyzeDegraded({ ...analyzeInput, reason: why.type });
      state.analysisState = why.type === ErrorType.AiDeferred ? 'delayed' : 'failed';
      later = why.type === ErrorType.AiDeferred ? reanalyzeDelays(why) : [];
    }
    state.analysis = analysis;
    state.index = await step('index', queues.index, () => indexStep({ videoId, source: input.source, media: mediaOut, analysis }));
    state.step = 'done';
    for (const delayMs of later) {
      // Jittered (workflow Math.random is seeded and replays identically): videos degraded by the
      // same outage must not all come back at the same moment when it ends.
      await sleep(Math.round(delayMs * (1 + Math.random() / 2)));
      try {
        const full = await aiResilient.analyze({ ...analyzeInput, degradable: true });
        const index = await indexStep({ videoId, source: input.source, media: mediaOut, analysis: full });
        state.analysis = full;
        state.index = index;
        state.analysisState = 'complete';
        break;
      } catch (err) {
        // The video is ready and stays so: a failed re-analysis only waits for the next timer.
        const why = failureOf(err);
        log.warn('re-analysis failed', { videoId, type: why?.type ?? 'unknown' });
        if (why?.type === ErrorType.AiContentRejected || why?.type === ErrorType.AiRejected) {
          state.analysisState = 'failed';
          break;
        }
      }
    }
    return { videoId, media: mediaOut, analysis: state.analysis, index: state.index };
  }

  /**
   * Issue 17: the index step is a saga (row → point → searchable, compensated when the vector
   * store fails for good). Runs recorded before it replay the single indexVideo activity.
   */
  function indexStep(indexInput: IndexInput): Promise<IndexOutput> {
    return patched('biblio-17-saga') ? runIndexSaga(queues.index, indexInput) : indexer.indexVideo(indexInput);
  }

  // Signing a GET URL is a local computation with the worker's credentials: a local activity on the pipeline worker.
  const storage = proxyLocalActivities<StorageActivities>({
    startToCloseTimeout: '30s',
    retry: { initialInterval: '1s', maximumAttempts: 5, nonRetryableErrorTypes },
  });

  /** Waits for signal refreshSourceUrl up to the deadline; no signal → typed failure (dead-lettered by the catch below). */
  async function waitForNewUrl(reason: string): Promise<string> {
    const deadlineMs = input.sourceRefreshDeadlineMs ?? 24 * 3600 * 1000;
    const since = Date.now();
    state.waitingForSource = { since: new Date(since).toISOString(), deadline: new Date(since + deadlineMs).toISOString(), reason };
    upsertMemo({ sourceStatus: 'waiting_for_source' });
    const got = await condition(() => refreshedUrl !== undefined, deadlineMs);
    state.waitingForSource = undefined;
    upsertMemo({ sourceStatus: got ? 'refreshed' : 'expired' });
    if (!got || refreshedUrl === undefined) {
      throw ApplicationFailure.create({
        type: ErrorType.SourceUrlExpired,
        nonRetryable: true,
        message: `the source URL expired and no new one arrived within ${Math.round(deadlineMs / 1000)} s (POST /videos/${videoId}/refresh-url sends one)`,
      });
    }
    const url = refreshedUrl;
    refreshedUrl = undefined;
    return url;
  }

  /** Transcode with a source URL that may expire: ours is re-signed, an external one is waited for. */
  async function transcodeWithFreshSource(): Promise<TranscodeOutput> {
    if (!patched(SOURCE_REFRESH_PATCH)) return media.transcode({ videoId, source: input.source });
    let source = input.source;
    for (let refreshes = 0; ; refreshes++) {
      const attempt: VideoSource =
        source.kind === 'upload' ? { kind: 'upload', key: source.key, url: await storage.signSourceUrl({ key: source.key }) } : source;
      try {
        // Issue 15: segmented, checkpointed transcode + HLS ladder (old histories replay the single pass).
        if (patched(SEGMENTED_PATCH)) {
          const opts = { videoId, source: attempt, mediaQueue: queues.media, mediaOptions, hls: input.hls, state };
          return await segmentedTranscode({ ...opts, maxParallel: input.segmentation?.maxParallel });
        }
        return await media.transcode({ videoId, source: attempt });
      } catch (err) {
        const expired =
          err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === ErrorType.SourceUrlExpired;
        if (!expired || refreshes >= MAX_SOURCE_REFRESHES || source.kind === 'file') throw err;
        if (source.kind === 'url') source = { kind: 'url', url: await waitForNewUrl((err.cause as ApplicationFailure).message) };
      }
    }
  }

  async function step<T>(name: 'transcode' | 'analyze' | 'index', queue: string, run: () => Promise<T>): Promise<T> {
    state.step = name;
    const record: StepRecord = { queue, startedAt: new Date().toISOString() };
    state.steps[name] = record;
    const out = await run();
    record.finishedAt = new Date().toISOString();
    return out;
  }

  try {
    let inputs: AnalysisInputs | undefined;
    state.media = await step('transcode', queues.media, async () => {
      const out = await transcodeWithFreshSource();
      if (patched('biblio-16-analysis-inputs')) {
        inputs = await inputsStep.extractAnalysisInputs({
          videoId,
          renditionPath: out.renditionPath,
          durationSec: out.rendition.durationSec,
          hasAudio: out.rendition.audioCodec !== null,
        });
      }
      return out;
    });
    const mediaOut = state.media;
    const analyzeInput: AnalyzeInput = { videoId, facts: mediaOut.source, title: titleOf(input.source), ...(inputs ? { inputs } : {}) };
    if (patched('biblio-16-degrade')) {
      return await analyzeDegradably(analyzeInput, mediaOut);
    }
    state.analysis = await step('analyze', queues.ai, () => ai.analyze(analyzeInput));
    const analysis = state.analysis;
    const indexInput = { videoId, source: input.source, media: mediaOut, analysis };
    state.index = await step('index', queues.index, () => indexStep(indexInput));
    state.step = 'done';
    return { videoId, media: mediaOut, analysis, index: state.index };
  } catch (err) {
    // An operator's cancel (Web UI, CLI) ends the run CANCELLED with a consistent row, and is
    // not a poison pill for the dead-letter queue. Patched: older runs failed instead.
    const cancelled = isCancellation(err) && patched('biblio-14-cancelled-run');
    const failed = cancelled ? { type: 'WorkflowCancelled', message: 'the run was cancelled by an operator' } : describeFailure(err);
    const failedStep: PipelineStep = state.step;
    state.error = { ...failed, step: failedStep };
    state.step = 'failed';
    // Recorded even if the workflow is being cancelled, so the main DB never says "queued" forever.
    await CancellationScope.nonCancellable(() =>
      recorder.recordFailure({ videoId, source: input.source, step: failedStep, errorType: failed.type, message: failed.message, input }),
    ).catch((recordErr: unknown) => {
      // The run still fails with its own error below; the API reads Temporal first, so only a
      // long-gone run would show the stale row.
      log.warn('could not record the failure in the main DB', { videoId, error: String(recordErr) });
    });
    if (cancelled) throw err;
    // Fail the *workflow* (not the workflow task) with the step's typed error, so the Web UI,
    // the API and a dead-letter list all show the same type.
    throw ApplicationFailure.create({ type: failed.type, message: failed.message, nonRetryable: true, cause: err as Error });
  }
}

function describeFailure(err: unknown): { type: string; message: string } {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    return { type: err.cause.type ?? 'ActivityFailed', message: err.cause.message };
  }
  if (err instanceof ActivityFailure) {
    return { type: err.cause?.name ?? 'ActivityFailed', message: err.cause?.message ?? err.message };
  }
  if (err instanceof ApplicationFailure) return { type: err.type ?? 'ApplicationFailure', message: err.message };
  if (err instanceof Error) return { type: err.name, message: err.message };
  return { type: 'UnknownError', message: String(err) };
}

function failureOf(err: unknown): ApplicationFailure | undefined {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) return err.cause;
  return undefined;
}

/** The schedule rides on the AiDeferred failure (the activity reads config; a workflow may not). */
function reanalyzeDelays(f: ApplicationFailure): number[] {
  const details = f.details?.[0] as { reanalyzeDelaysMs?: unknown } | undefined;
  const raw = Array.isArray(details?.reanalyzeDelaysMs) ? details.reanalyzeDelaysMs : [];
  const delays = raw.filter((d): d is number => typeof d === 'number' && d > 0).slice(0, 10);
  return delays.length > 0 ? delays : [60_000, 600_000, 3_600_000];
}

function titleOf(source: VideoSource): string {
  const raw = source.kind === 'file' ? source.path : source.kind === 'upload' ? source.key : (source.url.split('?')[0] ?? source.url);
  const last = raw.split('/').filter(Boolean).pop() ?? raw;
  return last.replace(/\.[A-Za-z0-9]{1,5}$/, '');
}
