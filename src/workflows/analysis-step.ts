/**
 * The analyze and index steps of processVideo. The provider being unavailable past the analysis
 * activity's bounded wait (AiDeferred) or refusing the content makes the video ready on a
 * metadata-only stand-in; a deferred analysis is tried again on durable timers (bounded, growing
 * intervals: history stays small) and the video is re-indexed when it succeeds.
 *
 * Deterministic: no I/O, clock or config; activities are imported as types only.
 */
import { log, sleep } from '@temporalio/workflow';
import type { AiActivities } from '../activities/ai';
import { ErrorType } from '../errors';
import type { TaskQueues } from '../pipeline/catalogue';
import { activity } from './activity-options';
import type { AnalyzeInput, AnalyzeOutput, IndexOutput, PipelineState, ProcessVideoResult, VideoSource } from './contracts';
import { degradesInsteadOfFailing, failureOf, jittered, reanalysisIsFutile, reanalyzeDelays } from './decisions';
import { runIndexSaga } from './index-saga';

export interface AnalysisStepOptions {
  videoId: string;
  source: VideoSource;
  queues: TaskQueues;
  media: NonNullable<PipelineState['media']>;
  analyzeInput: AnalyzeInput;
  state: PipelineState;
  /** Marks a step started/finished in the state the status query shows. */
  step<T>(name: 'analyze' | 'index', run: () => Promise<T>): Promise<T>;
}

export async function analyzeAndIndex(o: AnalysisStepOptions): Promise<ProcessVideoResult> {
  const analyze = activity<AiActivities, 'analyze'>('analyze', o.queues);
  const analyzeDegraded = activity<AiActivities, 'analyzeDegraded'>('analyzeDegraded', o.queues);
  const { state, videoId } = o;
  const index = (analysis: AnalyzeOutput): Promise<IndexOutput> =>
    runIndexSaga(o.queues, { videoId, source: o.source, media: o.media, analysis });

  let analysis: AnalyzeOutput;
  let later: number[] = [];
  try {
    analysis = await o.step('analyze', () => analyze({ ...o.analyzeInput, degradable: true }));
    state.analysisState = 'complete';
  } catch (err) {
    const why = failureOf(err);
    if (!why || !degradesInsteadOfFailing(err)) throw err;
    analysis = await analyzeDegraded({ ...o.analyzeInput, reason: why.type ?? ErrorType.AiDeferred });
    state.analysisState = why.type === ErrorType.AiDeferred ? 'delayed' : 'failed';
    later = why.type === ErrorType.AiDeferred ? reanalyzeDelays(why) : [];
  }
  state.analysis = analysis;
  state.index = await o.step('index', () => index(analysis));
  state.step = 'done';
  for (const delayMs of later) {
    await sleep(jittered(delayMs, Math.random()));
    try {
      const full = await analyze({ ...o.analyzeInput, degradable: true });
      state.index = await index(full);
      state.analysis = full;
      state.analysisState = 'complete';
      break;
    } catch (err) {
      // The video is ready and stays so: a failed re-analysis only waits for the next timer.
      log.warn('re-analysis failed', { videoId, type: failureOf(err)?.type ?? 'unknown' });
      if (reanalysisIsFutile(err)) {
        state.analysisState = 'failed';
        break;
      }
    }
  }
  return { videoId, media: o.media, analysis: state.analysis, index: state.index };
}
