import { proxyActivities } from '@temporalio/workflow';
import type { IndexerActivities } from '../activities/indexer';
import type { DeleteVideoInput, DeleteVideoResult } from './contracts';

/**
 * DELETE /videos/:id as a saga that finishes even when a store is briefly down: every step is
 * idempotent and retried with backoff for minutes. Order matters: the tombstone hides the
 * video from search at once; the run is cancelled (and has closed) before files and point go,
 * so nothing it writes outlives the clean-up; the row goes last, so a failed clean-up is
 * still visible and retried.
 */
export async function deleteVideo(input: DeleteVideoInput): Promise<DeleteVideoResult> {
  const acts = proxyActivities<IndexerActivities>({
    taskQueue: input.queues.index,
    startToCloseTimeout: '2m',
    heartbeatTimeout: '30s',
    // ~10 minutes of outage before giving up (1, 2, 4, 8, 15, 15, … s).
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '15s', maximumAttempts: 45 },
  });
  const { videoId } = input;
  const tomb = await acts.tombstoneVideo({ videoId });
  const cancelled = tomb.workflowId ? (await acts.cancelVideoRun({ workflowId: tomb.workflowId })).cancelled : false;
  const files = await acts.removeVideoFiles({ videoId });
  const points = await acts.removeVideoPoints({ videoId });
  await acts.purgeVideoRow({ videoId });
  return { videoId, existed: tomb.existed, cancelledRun: cancelled, filesRemoved: files.removed, pointsRemoved: points.spaces };
}
