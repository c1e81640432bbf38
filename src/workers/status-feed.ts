import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createPool } from '../db/database';
import { VideoProgressRepo } from '../db/video-progress-repo';
import type { HeartbeatProgress } from '../workflows/contracts';
import type { StatusFeedSinks } from '../workflows/status-feed';

/** Progress lines come every second; the row takes at most one of them per second (a phase change at once). */
const PROGRESS_EVERY_MS = 1_000;
const VIDEO_WORKFLOW = 'processVideo';
const VIDEO_WORKFLOW_ID = /^video-(.+)$/;

/**
 * The workers' side of the status change feed (migrations/1764845000000_video-progress.sql): the
 * pipeline worker writes the workflow's state through a sink, the activity workers write the
 * attempt they run and its progress. Best effort: a failed write is dropped (the API then finds
 * the row stale and asks Temporal), never an activity's or a workflow task's failure. One
 * connection, so the writes of a process reach the row in the order they were made.
 */
export class StatusFeed {
  constructor(
    private readonly repo: Pick<VideoProgressRepo, 'publishState' | 'publishActivity'>,
    private readonly pool?: Pool,
  ) {}

  /** The feed of a worker process, over a connection of its own. */
  static connect(databaseUrl: string): StatusFeed {
    const pool = createPool(databaseUrl, 1);
    return new StatusFeed(new VideoProgressRepo(pool), pool);
  }

  async close(): Promise<void> {
    await this.pool?.end();
  }

  /** processVideo's publishState (src/workflows/status-feed.ts). Not awaited: a slow DB never holds a workflow task. */
  sinks(): InjectedSinks<StatusFeedSinks> {
    return {
      statusFeed: {
        state: {
          fn: (info, state) => {
            if (info.workflowType !== VIDEO_WORKFLOW) return;
            void this.repo.publishState(state.videoId, info.runId, state).catch(() => undefined);
          },
          callDuringReplay: false,
        },
      },
    };
  }

  /** Each attempt of a processVideo activity: written when it starts and as its heartbeats report progress. */
  interceptor(): ActivityInterceptorsFactory {
    return (ctx) => ({
      inbound: {
        execute: async (input, next) => {
          const { workflowType, workflowExecution, activityType, attempt } = ctx.info;
          const videoId = workflowExecution && VIDEO_WORKFLOW_ID.exec(workflowExecution.workflowId)?.[1];
          if (workflowType !== VIDEO_WORKFLOW || !workflowExecution || !videoId) return next(input);
          const publish = (p?: Partial<HeartbeatProgress>) =>
            void this.repo
              .publishActivity(videoId, workflowExecution.runId, { name: activityType, attempt, phase: p?.phase, percent: p?.percent })
              .catch(() => undefined);
          publish();
          // Progress rides on the heartbeats the activity already sends; the SDK exposes no hook
          // for them, so its Context's heartbeat function (1.24: `heartbeatFn`) is wrapped for
          // this attempt (test/unit/status-feed.test.ts fails if the SDK renames it).
          const c = ctx as unknown as { heartbeatFn: (details?: unknown) => void };
          const send = c.heartbeatFn;
          let lastAt = 0;
          let lastPhase: string | undefined;
          c.heartbeatFn = (details?: unknown) => {
            send(details);
            const p = details as Partial<HeartbeatProgress> | undefined;
            if (typeof p?.phase !== 'string' || typeof p.percent !== 'number') return;
            const now = Date.now();
            if (p.phase === lastPhase && now - lastAt < PROGRESS_EVERY_MS) return;
            [lastAt, lastPhase] = [now, p.phase];
            publish(p);
          };
          return next(input);
        },
      },
    });
  }
}
