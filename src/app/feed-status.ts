import type { VideoRow } from '../db/videos-repo';
import type { VideoProgress } from '../db/video-progress-repo';
import { stepOfActivity } from '../pipeline/catalogue';
import type { StatusFacts } from './derive-status';
import type { LastKnown } from './status-fallbacks';

/**
 * How recent the running attempt's last report must be for the row to speak for the run. Every
 * long activity reports at least every 2 s (media progress every second, the AI and index tickers);
 * past this, something is off (worker gone, run stuck, terminated, Temporal down) and Temporal is asked.
 */
export const FEED_FRESH_MS = 5_000;

export interface FeedContext {
  now: number;
  /** Temporal answered this process lately (temporal-pulse.ts): the row must not hide an outage. */
  temporalUp: boolean;
  lastKnown?: LastKnown;
  workflowQueue?: string;
  temporalUiUrl: string;
  namespace: string;
}

/**
 * The status facts of a running upload from what its workers wrote (src/workers/status-feed.ts),
 * or undefined when only Temporal can tell: no attempt running yet, a retry (its last failure is
 * the server's), a report older than FEED_FRESH_MS, the workflow ahead of the activity (a step
 * waiting for its worker), an ending (ready, failed, waiting for a source), or no recent word
 * from Temporal. Pure: the table in test/unit/feed-status.test.ts is every branch.
 */
export function factsFromFeed(row: VideoRow, feed: VideoProgress | undefined, ctx: FeedContext): StatusFacts | undefined {
  if (!ctx.temporalUp || row.status !== 'queued' || !feed?.state || !feed.activity || !feed.activityAt) return undefined;
  const { state } = feed;
  if (feed.attempt !== 1 || ctx.now - feed.activityAt.getTime() > FEED_FRESH_MS) return undefined;
  if (state.error || state.waitingForSource || stepOfActivity(feed.activity) !== state.step) return undefined;
  return {
    row,
    temporalReachable: true,
    run: {
      status: 'RUNNING',
      runId: feed.runId,
      // Unused while the state is known (it only guides step inference without a query).
      historyLength: 0,
      pending: {
        activityType: feed.activity,
        attempt: feed.attempt,
        started: true,
        progress: feed.phase !== null && feed.percent !== null ? { phase: feed.phase, percent: feed.percent } : undefined,
      },
    },
    state,
    lastKnown: ctx.lastKnown,
    workflowQueue: ctx.workflowQueue,
    temporalUiUrl: ctx.temporalUiUrl,
    namespace: ctx.namespace,
  };
}
