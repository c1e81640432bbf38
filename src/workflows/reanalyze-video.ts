import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import type { AiActivities } from '../activities/ai';
import type { AnalysisInputsActivities } from '../activities/media/analysis-inputs';
import { ErrorType } from '../errors';
import { activity } from './activity-options';
import type { PipelineState, ReanalyzeVideoInput, ReanalyzeVideoResult } from './contracts';
import { degradesInsteadOfFailing, describeFailure, failureOf, titleOf } from './decisions';
import { runIndexSaga } from './index-saga';
import { statusQuery } from './messages';

/**
 * Re-analysis on demand of a video whose processVideo run has ended with its analysis
 * still delayed (the provider was down past the last re-analysis timer). The analysis inputs are
 * cut again from the published rendition (the ended run's keyframes may be gone with its work
 * dir), then analyze and the same index saga as processVideo. The video stays ready throughout:
 * a provider that is still unavailable (or refuses) leaves the row as it was and the run
 * completes saying so; any other failure fails this run only, never the video's row.
 *
 * Deterministic: no I/O, clock or config; activities are imported as types only.
 */
export async function reanalyzeVideo(input: ReanalyzeVideoInput): Promise<ReanalyzeVideoResult> {
  const { videoId, queues, media, source } = input;
  const tuning = { mediaHeartbeatTimeoutMs: input.mediaHeartbeatTimeoutMs };
  const state: PipelineState = { videoId, step: 'analyze', steps: {}, media, analysisState: 'delayed' };
  setHandler(statusQuery, () => state);

  const extractAnalysisInputs = activity<AnalysisInputsActivities, 'extractAnalysisInputs'>('extractAnalysisInputs', queues, tuning);
  const analyze = activity<AiActivities, 'analyze'>('analyze', queues);

  try {
    const inputs = await extractAnalysisInputs({
      videoId,
      renditionPath: media.renditionPath,
      durationSec: media.rendition.durationSec,
      hasAudio: media.rendition.audioCodec !== null,
    });
    let analysis;
    try {
      analysis = await analyze({ videoId, facts: media.source, title: titleOf(source), inputs, degradable: true });
    } catch (err) {
      if (!degradesInsteadOfFailing(err)) throw err;
      // Still unavailable (AiDeferred) or refused: the stand-in stays; the operator may try again later.
      const reason = failureOf(err)?.type;
      state.analysisState = reason === ErrorType.AiDeferred ? 'delayed' : 'failed';
      state.step = 'done';
      return { videoId, analysisState: state.analysisState, ...(reason ? { reason } : {}) };
    }
    state.analysis = analysis;
    state.step = 'index';
    state.index = await runIndexSaga(queues, { videoId, source, media, analysis, analysisState: 'complete' });
    state.analysisState = 'complete';
    state.step = 'done';
    return { videoId, analysisState: 'complete' };
  } catch (err) {
    const failed = describeFailure(err);
    state.error = { ...failed, step: state.step };
    state.step = 'failed';
    // A workflow failure with the step's type (not a failed workflow task, which would retry forever).
    throw ApplicationFailure.create({ type: failed.type, message: failed.message, nonRetryable: true, cause: err as Error });
  }
}
