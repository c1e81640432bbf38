import type { Client } from '@temporalio/client';
import { temporalDeadlineIn, withTemporalDeadline } from '../temporal/deadline';
import { temporalUnavailable } from './errors';
import type { VideoIndexRepo } from '../db/video-index-repo';
import type { TaskQueues } from '../pipeline/catalogue';
import type { deleteVideo } from '../workflows';
import type { DeleteVideoInput, DeleteVideoResult } from '../workflows/contracts';
import { deletionWorkflowIdFor } from '../workflows/ids';

export type DeletionOutcome =
  { state: 'deleted'; result: DeleteVideoResult } | { state: 'deleting'; workflowId: string } | { state: 'absent' };

/**
 * DELETE /videos/:id: starts (or attaches to) the video's deletion saga and waits a moment
 * for it. The saga itself lives in Temporal, so it finishes even if a store is down now or
 * this process dies; the caller gets 202 and may DELETE again (a no-op once it is gone).
 */
export class DeletionService {
  private readonly rows: VideoIndexRepo;

  constructor(
    private readonly deps: { client: Client; videoIndex: VideoIndexRepo; queues: TaskQueues; waitMs?: number; startDeadlineMs?: number },
  ) {
    this.rows = deps.videoIndex;
  }

  async delete(videoId: string): Promise<DeletionOutcome> {
    const row = await this.rows.state(videoId);
    if (!row) return { state: 'absent' };
    const workflowId = deletionWorkflowIdFor(videoId);
    const input: DeleteVideoInput = { videoId, queues: this.deps.queues };
    const { client } = this.deps;
    let handle;
    try {
      handle = await withTemporalDeadline(
        client,
        () =>
          client.workflow.start<typeof deleteVideo>('deleteVideo', {
            workflowId,
            taskQueue: this.deps.queues.pipeline,
            args: [input],
            // A deletion already under way is joined; a finished one (row back?) may run again.
            workflowIdConflictPolicy: 'USE_EXISTING',
            workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          }),
        temporalDeadlineIn(this.deps.startDeadlineMs),
      );
    } catch (err) {
      throw temporalUnavailable(`could not start the deletion of ${videoId}: ${(err as Error).message}`, {
        videoId,
        hint: 'Retry the DELETE once Temporal is reachable.',
      });
    }
    const waitMs = this.deps.waitMs ?? 5_000;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      handle.result().then((result: DeleteVideoResult) => ({ state: 'deleted' as const, result })),
      new Promise<DeletionOutcome>((resolve) => {
        timer = setTimeout(() => resolve({ state: 'deleting', workflowId }), waitMs);
      }),
    ]).finally(() => clearTimeout(timer));
    return outcome;
  }
}
