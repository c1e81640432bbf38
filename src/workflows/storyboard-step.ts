/**
 * Scrub previews after the analysis inputs, on the media queue. A nicety: when it fails for
 * good the video goes on without one (logged with the failure's type; the status then has no
 * storyboard link), while an operator's cancel still cancels the run.
 *
 * Behind `patched('storyboard')`: runs recorded before it (test/fixtures/histories) replay
 * without the activity; docs/versioning.md lists the patch.
 *
 * Deterministic: no I/O, clock or config; activities are imported as types only.
 */
import { isCancellation, log, patched } from '@temporalio/workflow';
import type { StoryboardActivities } from '../activities/media/storyboard';
import type { TaskQueues } from '../pipeline/catalogue';
import { activity, type ActivityTuning } from './activity-options';
import type { StoryboardOutput, TranscodeOutput } from './contracts';
import { describeFailure, storyboardInputOf } from './decisions';

export const STORYBOARD_PATCH = 'storyboard';

export async function storyboardStep(
  videoId: string,
  media: TranscodeOutput,
  queues: TaskQueues,
  tuning: ActivityTuning,
): Promise<StoryboardOutput | undefined> {
  if (!patched(STORYBOARD_PATCH)) return undefined;
  const generateStoryboard = activity<StoryboardActivities, 'generateStoryboard'>('generateStoryboard', queues, tuning);
  try {
    const out = await generateStoryboard(storyboardInputOf(videoId, media));
    return out ?? undefined;
  } catch (err) {
    if (isCancellation(err)) throw err;
    const why = describeFailure(err);
    log.warn('the video goes on without scrub previews', { videoId, type: why.type, message: why.message });
    return undefined;
  }
}
