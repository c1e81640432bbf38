import { CancellationScope, isCancellation, log, setHandler, ApplicationFailure } from '@temporalio/workflow';
import type { IndexerActivities } from '../activities/indexer';
import { ErrorType } from '../errors';
import { STEP_QUEUE, type StepName } from '../pipeline/catalogue';
import { activity } from './activity-options';
import { analyzeAndIndex } from './analysis-step';
import type { AnalyzeInput, PipelineState, PipelineStep, ProcessVideoInput, ProcessVideoResult, StepRecord } from './contracts';
import { describeFailure, titleOf } from './decisions';
import { refreshSourceUrlSignal, statusQuery } from './messages';
import { mediaStep } from './media-step';
import { DEFAULT_SOURCE_REFRESH_DEADLINE_MS, SourceRefresh } from './source-refresh';
import { publishState } from './status-feed';

/**
 * One upload, end to end: transcode on `media`, analyze on `ai`, index on `index` (the steps and
 * their activities: src/pipeline/catalogue.ts). Any failure ends in one path: the row says
 * failed, the dead-letter queue gets an entry, and the run fails with the step's typed error.
 * Deterministic: no I/O, no clock or randomness but Temporal's, no Node or config imports.
 */
export async function processVideo(input: ProcessVideoInput): Promise<ProcessVideoResult> {
  const { videoId, queues } = input;
  const tuning = { mediaHeartbeatTimeoutMs: input.mediaHeartbeatTimeoutMs };
  const state: PipelineState = { videoId, step: 'queued', steps: {} };
  const refresh = new SourceRefresh(state, input.sourceRefreshDeadlineMs ?? DEFAULT_SOURCE_REFRESH_DEADLINE_MS);
  // Registered before any await, so a query or signal never misses its handler.
  setHandler(statusQuery, () => state);
  setHandler(refreshSourceUrlSignal, refresh.offer);

  const recordFailure = activity<IndexerActivities, 'recordFailure'>('recordFailure', queues);

  async function step<T>(name: StepName, run: () => Promise<T>): Promise<T> {
    state.step = name;
    const record: StepRecord = { queue: queues[STEP_QUEUE[name]], startedAt: new Date().toISOString() };
    state.steps[name] = record;
    publishState(state);
    const out = await run();
    record.finishedAt = new Date().toISOString();
    publishState(state);
    return out;
  }

  try {
    const { media, inputs } = await step('transcode', () =>
      mediaStep({
        videoId,
        source: input.source,
        queues,
        tuning,
        hls: input.hls,
        maxParallel: input.segmentation?.maxParallel,
        state,
        refresh,
      }),
    );
    state.media = media;
    const analyzeInput: AnalyzeInput = { videoId, facts: media.source, title: titleOf(input.source), inputs };
    return await analyzeAndIndex({ videoId, source: input.source, queues, media, analyzeInput, state, step });
  } catch (err) {
    // An operator's cancel (Web UI, CLI, DELETE) ends the run CANCELLED with a consistent row,
    // and is not a poison pill for the dead-letter queue.
    const cancelled = isCancellation(err);
    const failed = cancelled
      ? { type: ErrorType.WorkflowCancelled, message: 'the run was cancelled by an operator' }
      : describeFailure(err);
    const failedStep: PipelineStep = state.step;
    state.error = { ...failed, step: failedStep };
    state.step = 'failed';
    publishState(state);
    // Recorded even if the workflow is being cancelled, so the main DB never says "queued" forever.
    await CancellationScope.nonCancellable(() =>
      recordFailure({ videoId, source: input.source, step: failedStep, errorType: failed.type, message: failed.message, input }),
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
