import type { VideoRow, VideosRepo } from '../db/videos-repo';
import type { VideoStatus } from './status';

/** Temporal statuses a run ends in without running its own failure path (terminate, timeout). */
const CLOSED_WITHOUT_RECORD = new Set(['TERMINATED', 'CANCELLED', 'CANCELED', 'TIMED_OUT']);

/**
 * A run terminated from the Web UI/CLI (or timed out) never reaches recordFailure, so its row
 * would say `queued` forever. When Temporal reports such an end and the row still says queued,
 * the row is fixed on read, through the same VideosRepo.markFailed as the workflow's own path.
 */
export async function repairStaleRow(videos: VideosRepo, row: VideoRow, status: VideoStatus): Promise<void> {
  if (row.status !== 'queued' || !CLOSED_WITHOUT_RECORD.has(status.workflowStatus)) return;
  const type = `Workflow${status.workflowStatus[0]}${status.workflowStatus
    .slice(1)
    .toLowerCase()
    .replace(/_(\w)/g, (_m, c: string) => c.toUpperCase())}`;
  const message = `the run ended ${status.workflowStatus.toLowerCase().replace('_', ' ')} before the video was ready (an operator or a timeout ended it)`;
  await videos
    .markFailed(
      { id: row.id, source: row.source, workflowId: row.workflowId },
      status.step === 'failed' ? 'queued' : status.step,
      type,
      message,
    )
    .catch(() => undefined); // a read must not fail because the repair could not be written
}
