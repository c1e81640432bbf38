import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { VideoRow } from '../db/videos-repo';
import { STEP_QUEUE, STEPS, stepOfActivity, type StepName, type TaskQueues } from '../pipeline/catalogue';
import type { HeartbeatProgress, PipelineState } from '../workflows/contracts';
import { statusQuery } from '../workflows/messages';
import { pollerCount } from '../temporal/pollers';
import type { QueueStatsCache } from '../temporal/queue-stats';
import { closedRunErrorType, closedRunMessage, inferStep, pauseQueries, queryPaused, recallState, rememberState } from './status-signals';

/**
 * The one status document the API, the CLI and the dashboard show. It merges what the
 * workflow knows (its query: step, finished outputs, final error) with what only the server
 * knows (describe(): the running attempt, its last failure, heartbeat progress) and the main
 * DB row (which outlives Temporal's retention).
 */
export interface VideoStatus {
  videoId: string;
  workflowId: string;
  runId: string | null;
  /** Temporal's view: RUNNING, COMPLETED, FAILED, … or NOT_STARTED / UNKNOWN. */
  workflowStatus: string;
  /** The product's view: queued → processing → ready | failed (waiting_for_source: an expired external URL, issue 18). */
  status: 'queued' | 'processing' | 'waiting_for_source' | 'ready' | 'failed';
  step: PipelineState['step'];
  progress: { step: string; phase: string; percent: number } | null;
  attempt: number | null;
  steps: PipelineState['steps'];
  lastError: { type: string; message: string; step: string | null } | null;
  /** Why the run is not moving, when we can tell (e.g. no worker polls the step's queue). */
  waitingFor: string | null;
  /** Issue 15: a segmented transcode's segments finished of the planned count; null otherwise. */
  segments: { done: number; count: number } | null;
  /** Issue 16: 'delayed' = ready on a metadata-only stand-in, AI analysis will be retried; null when unknown. */
  analysis: 'complete' | 'delayed' | 'failed' | null;
  /** False while Temporal cannot be reached: workflowStatus is UNKNOWN, status/step are the last known. */
  temporalReachable: boolean;
  result: {
    renditionPath: string;
    thumbnailPath: string;
    durationSec: number;
    width: number;
    height: number;
    summary: string;
    tags: string[];
    analyzer: string;
    model: string;
    offlineAnalysis: boolean;
    vectorCollection: string;
  } | null;
  /**
   * `rendition`: the MP4 (download, and players without HLS) once the video is ready; `hls`:
   * the master playlist of the adaptive ladder when the run packaged one (issue 15).
   */
  links: { self: string; temporalUi: string; rendition?: string; hls?: string };
}

const TEMPORAL_DEADLINE_MS = 3_000;

export async function buildStatus(
  client: Client,
  row: VideoRow,
  opts: { temporalUiUrl: string; queues?: TaskQueues; queueStats?: QueueStatsCache },
): Promise<VideoStatus> {
  const workflowQueue = opts.queues?.pipeline;
  // Bounded: with Temporal down, gRPC keeps retrying for ~20 s; the row answers instead.
  // Only "not found" means never started (or forgotten); any other failure means we cannot know.
  let temporalReachable = true;
  const description = await client.connection
    .withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () => client.workflow.getHandle(row.workflowId).describe())
    .catch((err: unknown) => {
      if (!(err instanceof WorkflowNotFoundError)) temporalReachable = false;
      return undefined;
    });
  // A query needs a workflow worker: without one it waits out its deadline, so after one timeout
  // queries pause for a while (status-signals.ts). Poller counts only explain a missing answer:
  // DescribeTaskQueue sees the root partition's pollers, so a 0 is not proof enough to skip a query.
  const state = description && !queryPaused(workflowQueue) ? await queryState(client, row.workflowId, workflowQueue) : undefined;
  const workflowPollers =
    description?.status.name === 'RUNNING' && !state && opts.queueStats && workflowQueue
      ? await opts.queueStats
          .get(workflowQueue, 'workflow')
          .then((q) => q.pollersRecent)
          .catch(() => 1)
      : 1;
  const pendingAny = description ? pendingProgress(description) : undefined;
  const known = recallState(row.id);
  const workflowStatus = description?.status.name ?? (temporalReachable ? 'NOT_STARTED' : 'UNKNOWN');
  const runId = description?.runId ?? (temporalReachable ? null : (known?.runId ?? null));
  const rowStep = row.status === 'ready' ? 'done' : row.status === 'failed' ? 'failed' : 'queued';
  const step =
    state?.step ??
    (description?.status.name === 'RUNNING'
      ? inferStep(pendingAny?.activityType, description.historyLength, known?.step)
      : description?.status.name === 'COMPLETED'
        ? 'done'
        : description
          ? 'failed'
          : !temporalReachable && known && rowStep === 'queued'
            ? known.step
            : rowStep);
  // describe() and the query are two calls: ignore a pending activity that belongs to another step.
  const pending = pendingAny && (!state || stepOfActivity(pendingAny.activityType) === step) ? pendingAny : undefined;

  let waitingFor: string | null = null;
  if (!temporalReachable) {
    waitingFor = `Temporal is unreachable: status and step are the last known state${known ? ` (seen ${known.at})` : ''}`;
  } else if (state?.waitingForSource) {
    waitingFor = `a new source URL (POST /videos/${row.id}/refresh-url) until ${state.waitingForSource.deadline}`;
  } else if (workflowStatus === 'RUNNING' && workflowPollers === 0) {
    waitingFor = `no worker is polling task queue '${workflowQueue}' (workflow worker)`;
  }
  if (workflowStatus === 'RUNNING' && pending && pending.attempt === 1 && !pending.started) {
    // A queued run waits for the first step's queue.
    const stepName: StepName | undefined = step === 'queued' ? STEPS[0] : STEPS.find((s) => s === step);
    const queue = stepName && opts.queues ? opts.queues[STEP_QUEUE[stepName]] : undefined;
    // An unanswered describe is not evidence of a problem: only a definite 0 is reported. Pollers
    // the server saw minutes ago do not count (it keeps them for 5 minutes after they stop).
    const pollers = queue
      ? await (
          opts.queueStats ? opts.queueStats.get(queue, 'activity').then((q) => q.pollersRecent) : pollerCount(client, queue, 'activity')
        ).catch(() => 1)
      : 1;
    if (pollers === 0) waitingFor = [waitingFor, `no worker is polling task queue '${queue}'`].filter(Boolean).join('; ');
  }

  const failedInTemporal = ['FAILED', 'TERMINATED', 'CANCELLED', 'TIMED_OUT'].includes(workflowStatus);
  // Temporal decides while it knows the run: the row turns ready/failed a moment before the
  // workflow closes, and "ready" must never be shown next to a RUNNING workflow. The row
  // speaks only when Temporal no longer knows the run (retention) or never started it.
  // Issue 16: a degraded video is ready (step done) while its workflow waits to re-analyse it.
  const status: VideoStatus['status'] = description
    ? workflowStatus === 'COMPLETED' || (workflowStatus === 'RUNNING' && state?.step === 'done')
      ? 'ready'
      : failedInTemporal
        ? 'failed'
        : step === 'queued'
          ? 'queued'
          : state?.waitingForSource
            ? 'waiting_for_source'
            : 'processing'
    : !temporalReachable && known && row.status === 'queued'
      ? known.status
      : row.status === 'queued'
        ? 'queued'
        : row.status;
  if (description) rememberState(row.id, { status, step, workflowStatus, runId });

  const lastError = state?.error
    ? { type: state.error.type, message: state.error.message, step: state.error.step }
    : pending?.lastFailure
      ? { ...pending.lastFailure, step }
      : row.errorType
        ? { type: row.errorType, message: row.errorMessage ?? '', step: row.failedStep }
        : failedInTemporal
          ? { type: closedRunErrorType(workflowStatus), message: closedRunMessage(workflowStatus), step }
          : null;

  const result = resultOf(row, state);
  return {
    videoId: row.id,
    workflowId: row.workflowId,
    runId,
    workflowStatus,
    status,
    step,
    progress: pending?.progress ? { step, ...pending.progress } : status === 'ready' ? { step: 'done', phase: 'done', percent: 100 } : null,
    attempt: pending?.attempt ?? null,
    steps: state?.steps ?? {},
    lastError,
    waitingFor,
    segments: state?.segments ?? null,
    analysis: state?.analysisState ?? (state?.analysis ? 'complete' : null),
    temporalReachable,
    result,
    links: {
      self: `/videos/${row.id}`,
      ...(result ? { rendition: `/videos/${row.id}/rendition.mp4` } : {}),
      ...(state?.media?.hls ? { hls: `/videos/${row.id}/hls/master.m3u8` } : {}),
      temporalUi: `${opts.temporalUiUrl}/namespaces/${encodeURIComponent(client.options.namespace)}/workflows/${encodeURIComponent(row.workflowId)}${runId ? `/${runId}/history` : ''}`,
    },
  };
}

async function queryState(client: Client, workflowId: string, workflowQueue?: string): Promise<PipelineState | undefined> {
  // A query needs a workflow worker; without one it would wait. Bound it and fall back to the row.
  return client.connection
    .withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () => client.workflow.getHandle(workflowId).query(statusQuery))
    .catch(() => {
      pauseQueries(workflowQueue);
      return undefined;
    });
}

function pendingProgress(d: WorkflowExecutionDescription) {
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

function resultOf(row: VideoRow, state: PipelineState | undefined): VideoStatus['result'] {
  const media = state?.media;
  const analysis = state?.analysis;
  if (state?.step === 'done' && media && analysis && state.index) {
    return {
      renditionPath: media.renditionPath,
      thumbnailPath: media.thumbnailPath,
      durationSec: media.rendition.durationSec,
      width: media.rendition.width,
      height: media.rendition.height,
      summary: analysis.summary,
      tags: analysis.tags,
      analyzer: analysis.analyzer,
      model: analysis.model,
      offlineAnalysis: analysis.offline,
      vectorCollection: state.index.collection,
    };
  }
  if (row.status === 'ready' && row.renditionPath && row.thumbnailPath) {
    return {
      renditionPath: row.renditionPath,
      thumbnailPath: row.thumbnailPath,
      durationSec: row.durationSec ?? 0,
      width: row.width ?? 0,
      height: row.height ?? 0,
      summary: row.summary ?? '',
      tags: row.tags,
      analyzer: row.analyzer ?? '',
      model: row.model ?? '',
      offlineAnalysis: row.offlineAnalysis ?? false,
      vectorCollection: row.vectorCollection ?? '',
    };
  }
  return null;
}
