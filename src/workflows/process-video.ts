import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { StorageActivities } from '../activities/storage';
import type { AiActivities } from '../activities/ai';
import type { IndexerActivities } from '../activities/indexer';
import type { MediaActivities } from '../activities/media';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../errors';
import type {
  PipelineState,
  PipelineStep,
  StepRecord,
  ProcessVideoInput,
  ProcessVideoResult,
  TranscodeOutput,
  VideoSource,
} from './contracts';
import { refreshSourceUrlSignal, statusQuery } from './messages';

/** Issue 18: signed upload URLs and refreshable external URLs (old histories replay the unpatched path). */
const SOURCE_REFRESH_PATCH = 'biblio-18-source-refresh';
const MAX_SOURCE_REFRESHES = 5;

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

  const media = proxyActivities<MediaActivities>(
    activityOptions(queues.media, {
      startToCloseTimeout: '2h',
      heartbeatTimeout: input.mediaHeartbeatTimeoutMs ?? 30_000,
      retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 3, nonRetryableErrorTypes },
    }),
  );
  const ai = proxyActivities<AiActivities>(activityOptions(queues.ai, { startToCloseTimeout: '3m' }));
  const indexer = proxyActivities<IndexerActivities>(activityOptions(queues.index, { startToCloseTimeout: '1m' }));
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
    state.media = await step('transcode', queues.media, transcodeWithFreshSource);
    const mediaOut = state.media;
    state.analysis = await step('analyze', queues.ai, () => ai.analyze({ videoId, facts: mediaOut.source, title: titleOf(input.source) }));
    const analysis = state.analysis;
    state.index = await step('index', queues.index, () => indexer.indexVideo({ videoId, source: input.source, media: mediaOut, analysis }));
    state.step = 'done';
    return { videoId, media: mediaOut, analysis, index: state.index };
  } catch (err) {
    const failed = describeFailure(err);
    const failedStep: PipelineStep = state.step;
    state.error = { ...failed, step: failedStep };
    state.step = 'failed';
    // Recorded even if the workflow is being cancelled, so the main DB never says "queued" forever.
    await CancellationScope.nonCancellable(() =>
      indexer.recordFailure({ videoId, source: input.source, step: failedStep, errorType: failed.type, message: failed.message }),
    ).catch((recordErr: unknown) => {
      // The run still fails with its own error below; the API reads Temporal first, so only a
      // long-gone run would show the stale row.
      log.warn('could not record the failure in the main DB', { videoId, error: String(recordErr) });
    });
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

function titleOf(source: VideoSource): string {
  const raw = source.kind === 'file' ? source.path : source.kind === 'upload' ? source.key : (source.url.split('?')[0] ?? source.url);
  const last = raw.split('/').filter(Boolean).pop() ?? raw;
  return last.replace(/\.[A-Za-z0-9]{1,5}$/, '');
}
