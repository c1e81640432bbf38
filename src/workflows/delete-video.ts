import { proxyActivities } from '@temporalio/workflow';
import type { IndexerActivities } from '../activities/indexer';
import { optionsFor } from './activity-options';
import type { DeleteVideoInput, DeleteVideoResult } from './contracts';

/**
 * DELETE /videos/:id as a saga that finishes even when a store is briefly down: every step is
 * idempotent and retried with backoff for minutes. Order matters: the tombstone hides the
 * video from search at once; the run is cancelled (and has closed) before files and point go,
 * so nothing it writes outlives the clean-up; the row goes last, so a failed clean-up is
 * still visible and retried.
 */
export async function deleteVideo(input: DeleteVideoInput): Promise<DeleteVideoResult> {
  // Every deletion activity shares the catalogue's cleanupPersistent preset (~10 minutes of outage).
  const acts = proxyActivities<IndexerActivities>(optionsFor('tombstoneVideo', input.queues));
  const { videoId } = input;
  const tomb = await acts.tombstoneVideo({ videoId });
  const cancelled = tomb.workflowId ? (await acts.cancelVideoRun({ workflowId: tomb.workflowId })).cancelled : false;
  const files = await acts.removeVideoFiles({ videoId });
  const points = await acts.removeVideoPoints({ videoId });
  await acts.purgeVideoRow({ videoId });
  return { videoId, existed: tomb.existed, cancelledRun: cancelled, filesRemoved: files.removed, pointsRemoved: points.spaces };
}
