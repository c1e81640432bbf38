import type { VideoRow, VideosRepo } from '../db/videos-repo';
import { closedRunError, endedFromOutside } from '../temporal/workflow-status';
import type { VideoStatus } from './status';

/**
 * A run terminated from the Web UI/CLI (or timed out) never reaches recordFailure, so its row
 * would say `queued` forever. When Temporal reports such an end and the row still says queued,
 * the row is fixed on read, through the same VideosRepo.markFailed as the workflow's own path.
 */
export async function repairStaleRow(videos: VideosRepo, row: VideoRow, status: VideoStatus): Promise<void> {
  if (row.status !== 'queued' || !endedFromOutside(status.workflowStatus)) return;
  // The same type and message the status document showed before the repair.
  const { type, message } = closedRunError(status.workflowStatus);
  await videos
    .markFailed(
      { id: row.id, source: row.source, workflowId: row.workflowId },
      status.step === 'failed' ? 'queued' : status.step,
      type,
      message,
    )
    .catch(() => undefined); // a read must not fail because the repair could not be written
}
