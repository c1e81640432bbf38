/**
 * The transcode step of processVideo: a published rendition, its HLS ladder, the analysis inputs
 * and the storyboard.
 *
 * Since the `coarse-media` patch a short upload's whole step is one activity task
 * (`prepareMedia`), and a long one's is prepareMedia (the plan) → its segments → `finishMedia`:
 * each task costs the server and this worker a fixed price, and five of them were most of a short
 * upload's orchestration share (src/activities/media/media-step.ts runs the same parts inside one
 * attempt). Runs recorded before the patch replay on the step-by-step path below it;
 * docs/versioning.md lists the patch.
 *
 * Deterministic: no I/O, clock or config; activities are imported as types only.
 */
import { patched } from '@temporalio/workflow';
import type { AnalysisInputsActivities } from '../activities/media/analysis-inputs';
import type { MediaStepActivities } from '../activities/media/media-step';
import { activity } from './activity-options';
import type { FinishMediaOutput } from './contracts';
import { analysisInputsInputOf } from './decisions';
import { encodeSegments, segmentedTranscode, type SegmentedTranscodeOptions } from './segmented-transcode';
import type { SourceRefresh } from './source-refresh';
import { storyboardStep } from './storyboard-step';

export const COARSE_MEDIA_PATCH = 'coarse-media';

export type MediaStepOptions = SegmentedTranscodeOptions & { refresh: SourceRefresh };

export async function mediaStep(opts: MediaStepOptions): Promise<FinishMediaOutput> {
  return patched(COARSE_MEDIA_PATCH) ? coarseMediaStep(opts) : stepByStepMediaStep(opts);
}

async function coarseMediaStep(opts: MediaStepOptions): Promise<FinishMediaOutput> {
  const { videoId, queues, tuning } = opts;
  const prepareMedia = activity<MediaStepActivities, 'prepareMedia'>('prepareMedia', queues, tuning);
  const finishMedia = activity<MediaStepActivities, 'finishMedia'>('finishMedia', queues, tuning);
  const hls = opts.hls !== false;
  // Only planning (and a short video's single pass) reads the source; segments cut the stored copy.
  const first = await opts.refresh.withFreshSource(videoId, opts.source, (source) => prepareMedia({ videoId, source, hls }));
  if (!first.segmented) return first;
  const joined = await encodeSegments(first.plan, opts);
  return finishMedia({ videoId, media: joined, hls, segmentSec: first.plan.segmentSec });
}

/** One activity per part, as runs recorded before the patch did it. */
async function stepByStepMediaStep(opts: MediaStepOptions): Promise<FinishMediaOutput> {
  const { videoId, queues, tuning } = opts;
  const extractAnalysisInputs = activity<AnalysisInputsActivities, 'extractAnalysisInputs'>('extractAnalysisInputs', queues, tuning);
  const out = await opts.refresh.withFreshSource(videoId, opts.source, (source) => segmentedTranscode({ ...opts, source }));
  const inputs = await extractAnalysisInputs(analysisInputsInputOf(videoId, out));
  // Scrub previews: a failure here never fails the video.
  const storyboard = await storyboardStep(videoId, out, queues, tuning);
  return { media: storyboard ? { ...out, storyboard } : out, inputs };
}
