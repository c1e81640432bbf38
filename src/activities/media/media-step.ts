/**
 * The media step in as few Temporal tasks as the work allows. Every workflow task and activity
 * task costs the Temporal server and the workflow worker a fixed price whatever the work behind
 * it, and for a short upload that price was most of the orchestration's share: plan → single pass
 * → HLS → analysis inputs → storyboard were five tasks (docs/benchmarks.md#orchestration).
 *
 * `prepareMedia` runs them one after another inside one attempt; `finishMedia` runs the part after
 * a published rendition (for a segmented video, after its join). Each part is the activity it
 * always was, with its own heartbeats, cancellation and clean-up, and is idempotent: a retried
 * attempt reuses the verified rendition and HLS ladder an earlier attempt published, so a worker
 * killed in the storyboard does not encode the video again. The parts stay registered for runs
 * recorded before the `coarse-media` patch (src/workflows/media-step.ts).
 */
import { Context } from '@temporalio/activity';
import { analysisInputsInputOf, describeFailure, storyboardInputOf } from '../../workflows/decisions';
import type {
  FinishMediaInput,
  FinishMediaOutput,
  PrepareMediaInput,
  PrepareMediaOutput,
  StoryboardOutput,
  TranscodeOutput,
} from '../../workflows/contracts';
import type { AnalysisInputsActivities } from './analysis-inputs';
import type { HlsActivities } from './hls';
import type { SegmentActivities } from './segments';
import type { MediaActivities } from './single-pass';
import type { StoryboardActivities } from './storyboard';

export type MediaStepParts = Pick<
  MediaActivities & SegmentActivities & HlsActivities & AnalysisInputsActivities & StoryboardActivities,
  'planTranscode' | 'transcode' | 'packageHls' | 'extractAnalysisInputs' | 'generateStoryboard'
>;

/** Wall milliseconds of each part that ran in this attempt, logged when the task ends (the history shows only the whole task). */
type PartTimes = Partial<Record<keyof MediaStepParts, number>>;

async function timed<T>(times: PartTimes, part: keyof MediaStepParts, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await run();
  } finally {
    times[part] = Math.round(performance.now() - started);
  }
}

export function createMediaStepActivities(parts: MediaStepParts) {
  /** Scrub previews are a nicety: a failure leaves the video without them; a cancel still cancels. */
  async function storyboardOf(videoId: string, media: TranscodeOutput, times: PartTimes): Promise<StoryboardOutput | undefined> {
    try {
      const out = await timed(times, 'generateStoryboard', () => parts.generateStoryboard(storyboardInputOf(videoId, media)));
      return out ?? undefined;
    } catch (err) {
      const ctx = Context.current();
      if (ctx.cancellationSignal.aborted) throw err;
      const why = describeFailure(err);
      ctx.log.warn('the video goes on without scrub previews', { videoId, type: why.type, message: why.message });
      return undefined;
    }
  }

  async function finish(input: FinishMediaInput, times: PartTimes): Promise<FinishMediaOutput> {
    const { videoId } = input;
    let media = input.media;
    if (input.hls) {
      const { renditionPath } = media;
      media = {
        ...media,
        hls: await timed(times, 'packageHls', () => parts.packageHls({ videoId, renditionPath, segmentSec: input.segmentSec })),
      };
    }
    const rendition = media;
    const inputs = await timed(times, 'extractAnalysisInputs', () =>
      parts.extractAnalysisInputs(analysisInputsInputOf(videoId, rendition)),
    );
    const storyboard = await storyboardOf(videoId, media, times);
    Context.current().log.info('media step parts', { videoId, partsMs: times });
    return { media: storyboard ? { ...media, storyboard } : media, inputs };
  }

  return {
    /** plan → (short: single pass → finishMedia) in one attempt; a long video returns its plan for the segments. */
    async prepareMedia(input: PrepareMediaInput): Promise<PrepareMediaOutput> {
      const { videoId, source } = input;
      const times: PartTimes = {};
      const plan = await timed(times, 'planTranscode', () => parts.planTranscode({ videoId, source }));
      if (plan.segmented) return { segmented: true, plan };
      const media = await timed(times, 'transcode', () => parts.transcode({ videoId, source }));
      return { segmented: false, ...(await finish({ videoId, media, hls: input.hls, segmentSec: plan.segmentSec }, times)) };
    },
    finishMedia: (input: FinishMediaInput) => finish(input, {}),
  };
}

export type MediaStepActivities = ReturnType<typeof createMediaStepActivities>;
