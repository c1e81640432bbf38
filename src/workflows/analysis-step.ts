/**
 * The analyze and index steps of processVideo. The provider being unavailable past the analysis
 * activity's bounded wait (AiDeferred) or refusing the content makes the video ready on a
 * metadata-only stand-in; a deferred analysis is tried again on durable timers (bounded, growing
 * intervals: history stays small) and the video is re-indexed when it succeeds.
 *
 * Deterministic: no I/O, clock or config; activities are imported as types only.
 */
import { condition, log, setHandler } from '@temporalio/workflow';
import type { AiActivities } from '../activities/ai';
import { ErrorType } from '../errors';
import type { TaskQueues } from '../pipeline/catalogue';
import { activity } from './activity-options';
import type { AnalysisState, AnalyzeInput, AnalyzeOutput, IndexOutput, PipelineState, ProcessVideoResult, VideoSource } from './contracts';
import { degradesInsteadOfFailing, failureOf, jittered, reanalysisIsFutile, reanalyzeDelays } from './decisions';
import { runIndexSaga } from './index-saga';
import { reanalyzeNowSignal } from './messages';
import { publishState } from './status-feed';

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

export async function analyzeAndIndex(options: AnalysisStepOptions): Promise<ProcessVideoResult> {
  const analyze = activity<AiActivities, 'analyze'>('analyze', options.queues);
  const analyzeDegraded = activity<AiActivities, 'analyzeDegraded'>('analyzeDegraded', options.queues);
  const { state, videoId } = options;
  const index = (analysis: AnalyzeOutput, analysisState: AnalysisState): Promise<IndexOutput> =>
    runIndexSaga(options.queues, { videoId, source: options.source, media: options.media, analysis, analysisState });
  // An operator's "try now" (POST /videos/:id/reanalyze) cuts the current re-analysis wait short.
  let tryNow = false;
  setHandler(reanalyzeNowSignal, () => {
    tryNow = true;
  });

  let analysis: AnalyzeOutput;
  let later: number[] = [];
  try {
    analysis = await options.step('analyze', () => analyze({ ...options.analyzeInput, degradable: true }));
    state.analysisState = 'complete';
  } catch (err) {
    const why = failureOf(err);
    if (!why || !degradesInsteadOfFailing(err)) throw err;
    analysis = await analyzeDegraded({ ...options.analyzeInput, reason: why.type ?? ErrorType.AiDeferred });
    state.analysisState = why.type === ErrorType.AiDeferred ? 'delayed' : 'failed';
    later = why.type === ErrorType.AiDeferred ? reanalyzeDelays(why) : [];
  }
  state.analysis = analysis;
  const analysisState: AnalysisState = state.analysisState ?? 'complete';
  state.index = await options.step('index', () => index(analysis, analysisState));
  state.step = 'done';
  publishState(state);
  // Each try takes one timer of the schedule; a "try now" that arrives after the last one still
  // gets its try (the run is still open then), so no request is ever silently dropped.
  for (let next = 0; state.analysisState === 'delayed'; next++) {
    const delayMs = later[next];
    if (!tryNow && delayMs === undefined) break;
    if (!tryNow && delayMs !== undefined) await condition(() => tryNow, jittered(delayMs, Math.random()));
    tryNow = false;
    try {
      const full = await analyze({ ...options.analyzeInput, degradable: true });
      state.index = await index(full, 'complete');
      state.analysis = full;
      state.analysisState = 'complete';
      publishState(state);
    } catch (err) {
      // The video is ready and stays so: a failed re-analysis only waits for the next timer.
      log.warn('re-analysis failed', { videoId, type: failureOf(err)?.type ?? 'unknown' });
      if (reanalysisIsFutile(err)) state.analysisState = 'failed';
    }
  }
  return { videoId, media: options.media, analysis: state.analysis, index: state.index };
}
