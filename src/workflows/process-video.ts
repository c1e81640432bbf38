import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  log,
  patched,
  proxyActivities,
  setHandler,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { AiActivities } from '../activities/ai';
import type { IndexerActivities } from '../activities/indexer';
import type { MediaActivities } from '../activities/media';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors';
import type { PipelineState, PipelineStep, StepRecord, ProcessVideoInput, ProcessVideoResult, VideoSource } from './contracts';
import { runIndexSaga } from './index-saga';
import { statusQuery } from './messages';

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

  const media = proxyActivities<MediaActivities>(
    activityOptions(queues.media, {
      startToCloseTimeout: '2h',
      heartbeatTimeout: input.mediaHeartbeatTimeoutMs ?? 30_000,
      retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 3, nonRetryableErrorTypes },
    }),
  );
  const ai = proxyActivities<AiActivities>(activityOptions(queues.ai, { startToCloseTimeout: '3m' }));
  const indexer = proxyActivities<IndexerActivities>(activityOptions(queues.index, { startToCloseTimeout: '1m' }));

  async function step<T>(name: 'transcode' | 'analyze' | 'index', queue: string, run: () => Promise<T>): Promise<T> {
    state.step = name;
    const record: StepRecord = { queue, startedAt: new Date().toISOString() };
    state.steps[name] = record;
    const out = await run();
    record.finishedAt = new Date().toISOString();
    return out;
  }

  try {
    state.media = await step('transcode', queues.media, () => media.transcode({ videoId, source: input.source }));
    const mediaOut = state.media;
    state.analysis = await step('analyze', queues.ai, () => ai.analyze({ videoId, facts: mediaOut.source, title: titleOf(input.source) }));
    const analysis = state.analysis;
    const indexInput = { videoId, source: input.source, media: mediaOut, analysis };
    state.index = await step('index', queues.index, () =>
      patched('biblio-17-saga') ? runIndexSaga(queues.index, indexInput) : indexer.indexVideo(indexInput),
    );
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
  const raw = source.kind === 'file' ? source.path : (source.url.split('?')[0] ?? source.url);
  const last = raw.split('/').filter(Boolean).pop() ?? raw;
  return last.replace(/\.[A-Za-z0-9]{1,5}$/, '');
}
