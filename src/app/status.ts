import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { VideoRow } from '../db/videos-repo';
import type { TaskQueues } from '../pipeline/catalogue';
import type { HeartbeatProgress, PipelineState } from '../workflows/contracts';
import { statusQuery } from '../workflows/messages';
import { temporalDeadlineIn, withTemporalDeadline } from '../temporal/deadline';
import { pollerCount } from '../temporal/pollers';
import type { QueueStatsCache } from '../temporal/queue-stats';
import { deriveStatus, queueAwaitedByFirstAttempt, type PendingActivityFacts, type StatusFacts, type VideoStatus } from './derive-status';
import { pauseQueries, queryPaused, recallState, rememberState } from './status-fallbacks';
import { withTranscriptLinks } from './transcript-links';

export type { VideoStatus } from './derive-status';

/** Shorter than a route's: a status read falls back to the row rather than wait on Temporal. */
const STATUS_DEADLINE_MS = 3_000;

interface StatusOptions {
  temporalUiUrl: string;
  queues?: TaskQueues;
  queueStats?: QueueStatsCache;
}

/** The status document of a video (derive-status.ts), and what it said remembered for when Temporal is down. */
export async function buildStatus(client: Client, row: VideoRow, opts: StatusOptions): Promise<VideoStatus> {
  const facts = await gatherStatusFacts(client, row, opts);
  const status = withTranscriptLinks(deriveStatus(facts), facts);
  if (facts.run) {
    rememberState(row.id, { status: status.status, step: status.step, workflowStatus: status.workflowStatus, runId: status.runId });
  }
  return status;
}

/** Everything Temporal, the query, the queues and this process's memory say about the video's run. */
export async function gatherStatusFacts(client: Client, row: VideoRow, opts: StatusOptions): Promise<StatusFacts> {
  const workflowQueue = opts.queues?.pipeline;
  // Bounded: with Temporal down, gRPC keeps retrying for ~20 s; the row answers instead.
  // Only "not found" means never started (or forgotten); any other failure means we cannot know.
  let temporalReachable = true;
  const description = await withTemporalDeadline(
    client,
    () => client.workflow.getHandle(row.workflowId).describe(),
    temporalDeadlineIn(STATUS_DEADLINE_MS),
  ).catch((err: unknown) => {
    if (!(err instanceof WorkflowNotFoundError)) temporalReachable = false;
    return undefined;
  });
  // A query needs a workflow worker: without one it waits out its deadline, so after one timeout
  // queries pause for a while (status-fallbacks.ts). Poller counts only explain a missing answer:
  // DescribeTaskQueue sees the root partition's pollers, so a 0 is not proof enough to skip a query.
  const state = description && !queryPaused(workflowQueue) ? await queryState(client, row.workflowId, workflowQueue) : undefined;
  const workflowPollers =
    description?.status.name === 'RUNNING' && !state && opts.queueStats && workflowQueue
      ? await opts.queueStats
          .get(workflowQueue, 'workflow')
          .then((q) => q.pollersRecent)
          .catch(() => undefined)
      : undefined;
  const facts: StatusFacts = {
    row,
    temporalReachable,
    run: description && {
      status: description.status.name,
      runId: description.runId,
      historyLength: description.historyLength,
      pending: pendingActivity(description),
    },
    state,
    lastKnown: recallState(row.id),
    workflowQueue,
    workflowPollers,
    temporalUiUrl: opts.temporalUiUrl,
    namespace: client.options.namespace,
  };
  const awaited = queueAwaitedByFirstAttempt(facts, opts.queues);
  if (!awaited) return facts;
  const pollers = await activityPollers(client, awaited, opts.queueStats).catch(() => undefined);
  return pollers === undefined ? facts : { ...facts, awaitedQueue: { name: awaited, pollers } };
}

function activityPollers(client: Client, queue: string, queueStats: QueueStatsCache | undefined): Promise<number> {
  // Pollers the server saw minutes ago do not count (it keeps them for 5 minutes after they stop).
  return queueStats ? queueStats.get(queue, 'activity').then((q) => q.pollersRecent) : pollerCount(client, queue, 'activity');
}

async function queryState(client: Client, workflowId: string, workflowQueue?: string): Promise<PipelineState | undefined> {
  // A query needs a workflow worker; without one it would wait. Bound it and fall back to the row.
  return withTemporalDeadline(
    client,
    () => client.workflow.getHandle(workflowId).query(statusQuery),
    temporalDeadlineIn(STATUS_DEADLINE_MS),
  ).catch(() => {
    pauseQueries(workflowQueue);
    return undefined;
  });
}

function pendingActivity(d: WorkflowExecutionDescription): PendingActivityFacts | undefined {
  const activity = d.raw.pendingActivities?.[0];
  if (!activity) return undefined;
  const payload = activity.heartbeatDetails?.payloads?.[0];
  let progress: HeartbeatProgress | undefined;
  if (payload) {
    try {
      progress = defaultPayloadConverter.fromPayload<HeartbeatProgress>(payload);
    } catch {
      progress = undefined;
    }
  }
  const failure = activity.lastFailure;
  const failureType = failure?.applicationFailureInfo?.type || (failure?.timeoutFailureInfo ? 'Timeout' : undefined);
  return {
    activityType: activity.activityType?.name ?? '',
    attempt: activity.attempt ?? 1,
    started: activity.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
    progress,
    lastFailure: failure ? { type: failureType ?? 'ActivityFailed', message: failure.message ?? '' } : undefined,
  };
}
