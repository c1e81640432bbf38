import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { temporalDeadlineIn, withTemporalDeadline } from '../temporal/deadline';
import { AppError, temporalUnavailable } from './errors';
import type { VideoRow, VideosRepo } from '../db/videos-repo';
import type { TaskQueues } from '../pipeline/catalogue';
import type { reanalyzeVideo } from '../workflows';
import type { PipelineState, ReanalyzeVideoInput, TranscodeOutput } from '../workflows/contracts';
import { reanalysisWorkflowIdFor } from '../workflows/ids';
import { reanalyzeNowSignal, statusQuery } from '../workflows/messages';

export interface ReanalysisOutcome {
  videoId: string;
  /** 'signalled': the video's own run was waiting on a re-analysis timer and tries now; 'started': workflow reanalyzeVideo runs (or already ran a moment ago and was joined). */
  action: 'signalled' | 'started';
  workflowId: string;
}

export interface ReanalysisServiceDeps {
  client: Client;
  videos: VideosRepo;
  queues: TaskQueues;
  mediaHeartbeatTimeoutMs: number;
  /** How long a call may wait for Temporal before answering 503 (default TEMPORAL_DEADLINE_MS). */
  deadlineMs?: number;
}

/**
 * POST /videos/:id/reanalyze: analyses a video again whose analysis is a stand-in
 * (delayed: the provider was unavailable; failed: it refused). While the video's processVideo run
 * still waits on a re-analysis timer, it is signalled to try now (one run per video keeps doing
 * the work); once that run has ended, workflow reanalyzeVideo runs analyze + the index saga, under
 * an id derived from the video id so two requests never run it twice at once.
 */
export class ReanalysisService {
  private readonly videos: VideosRepo;

  constructor(private readonly deps: ReanalysisServiceDeps) {
    this.videos = deps.videos;
  }

  async reanalyze(videoId: string): Promise<ReanalysisOutcome> {
    const row = await this.videos.get(videoId);
    if (!row) throw new AppError('not-found', 'VideoNotFound', `no video with id ${videoId}`, { videoId });
    if (row.status !== 'ready') {
      throw new AppError('conflict', 'VideoNotReady', `video ${videoId} is ${row.status}, not ready: there is no analysis to redo yet`, {
        videoId,
        hint:
          row.status === 'failed' ? 'A failed video is replayed from the dead-letter queue (biblio dlq list).' : 'Wait until it is ready.',
      });
    }
    if (row.analysisState === 'complete') {
      throw new AppError('conflict', 'AnalysisComplete', `video ${videoId} already has its full AI analysis`, {
        videoId,
        hint: 'Only videos whose analysis is delayed or failed are re-analysed (GET /videos?status=delayed lists them).',
      });
    }
    const run = await this.openRun(row);
    if (run) return this.signalRun(row, run);
    return this.startReanalysis(row);
  }

  /** The video's processVideo run if it is still open, with what it says about itself. */
  private async openRun(row: VideoRow): Promise<PipelineState | undefined> {
    const handle = this.deps.client.workflow.getHandle(row.workflowId);
    const description = await this.withDeadline(() => handle.describe()).catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw unavailable(row.id, err);
    });
    if (description?.status.name !== 'RUNNING') return undefined;
    const state = await this.withDeadline(() => handle.query(statusQuery)).catch((err: unknown) => {
      throw unavailable(row.id, err, 'no pipeline worker answered the status query');
    });
    if (state.step !== 'done') {
      throw new AppError('conflict', 'VideoStillProcessing', `video ${row.id} is still being processed (step ${state.step})`, {
        videoId: row.id,
        hint: 'Its run analyses it; re-analyse only once the video is ready with its analysis delayed.',
      });
    }
    return state;
  }

  private async signalRun(row: VideoRow, state: PipelineState): Promise<ReanalysisOutcome> {
    if (state.analysisState === 'delayed') {
      try {
        await this.withDeadline(() => this.deps.client.workflow.getHandle(row.workflowId).signal(reanalyzeNowSignal));
        return { videoId: row.id, action: 'signalled', workflowId: row.workflowId };
      } catch (err) {
        // The run ended between describe and signal: it can no longer take it; start the re-analysis instead.
        if (!(err instanceof WorkflowNotFoundError)) throw unavailable(row.id, err);
      }
    }
    if (state.analysisState === 'complete') {
      throw new AppError('conflict', 'AnalysisComplete', `video ${row.id} was just analysed by its run`, { videoId: row.id });
    }
    return this.startReanalysis(row, state);
  }

  private async startReanalysis(row: VideoRow, known?: PipelineState): Promise<ReanalysisOutcome> {
    const media = row.media ?? known?.media ?? (await this.mediaFromEndedRun(row));
    if (!media) {
      throw new AppError('conflict', 'NotReanalysable', `video ${row.id} has no recorded media step output to re-analyse from`, {
        videoId: row.id,
        hint: 'Its run is gone from Temporal and the row predates re-analysis; delete and upload it again.',
      });
    }
    const input: ReanalyzeVideoInput = {
      videoId: row.id,
      source: row.source,
      media,
      queues: this.deps.queues,
      mediaHeartbeatTimeoutMs: this.deps.mediaHeartbeatTimeoutMs,
    };
    const workflowId = reanalysisWorkflowIdFor(row.id);
    await this.withDeadline(() =>
      this.deps.client.workflow.start<typeof reanalyzeVideo>('reanalyzeVideo', {
        workflowId,
        taskQueue: this.deps.queues.pipeline,
        args: [input],
        // A re-analysis under way is joined (no double run, no double charge); a finished one may run again.
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      }),
    ).catch((err: unknown) => {
      throw unavailable(row.id, err);
    });
    return { videoId: row.id, action: 'started', workflowId };
  }

  /** Rows indexed before the media column: the ended run's query still knows (within the namespace retention). */
  private async mediaFromEndedRun(row: VideoRow): Promise<TranscodeOutput | undefined> {
    const state = await this.withDeadline(() => this.deps.client.workflow.getHandle(row.workflowId).query(statusQuery)).catch(
      () => undefined,
    );
    return state?.media;
  }

  private withDeadline<T>(fn: () => Promise<T>): Promise<T> {
    return withTemporalDeadline(this.deps.client, fn, temporalDeadlineIn(this.deps.deadlineMs));
  }
}

function unavailable(videoId: string, err: unknown, why?: string): AppError {
  return temporalUnavailable(`could not re-analyse ${videoId}: ${why ?? (err as Error).message}`, {
    videoId,
    hint: 'Retry once Temporal and the pipeline workers are reachable.',
  });
}
