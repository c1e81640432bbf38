import type { VideoRow } from '../db/videos-repo';
import { STEP_QUEUE, STEPS, stepOfActivity, type StepName, type TaskQueues } from '../pipeline/catalogue';
import type { Chapter, HeartbeatProgress, PipelineState } from '../workflows/contracts';
import { boundChapters } from '../media/chapters';
import { closedRunError, isFailedLike } from '../temporal/workflow-status';
import { inferStep, type LastKnown } from './status-fallbacks';
import { withoutServerPaths } from '../security/server-paths';
import type { ProductStatus } from '../contracts/product-status';

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
  /** The product's view: queued → processing → ready | failed (waiting_for_source: an expired external URL). */
  status: ProductStatus;
  step: PipelineState['step'];
  progress: { step: string; phase: string; percent: number } | null;
  attempt: number | null;
  steps: PipelineState['steps'];
  lastError: { type: string; message: string; step: string | null } | null;
  /** Why the run is not moving, when we can tell (e.g. no worker polls the step's queue). */
  waitingFor: string | null;
  /** A segmented transcode's segments finished of the planned count; null otherwise. */
  segments: { done: number; count: number } | null;
  /** 'delayed' = ready on a metadata-only stand-in, AI analysis will be retried; null when unknown. */
  analysis: 'complete' | 'delayed' | 'failed' | null;
  /** False while Temporal cannot be reached: workflowStatus is UNKNOWN, status/step are the last known. */
  temporalReachable: boolean;
  /** `rendition` and `thumbnail` are API URLs (never server paths). */
  result: {
    rendition: string;
    thumbnail: string;
    durationSec: number;
    width: number;
    height: number;
    summary: string;
    tags: string[];
    analyzer: string;
    model: string;
    offlineAnalysis: boolean;
    vectorCollection: string;
    /** Snapped to scene cuts, inside the duration, the first at 0; empty when the analysis found none. */
    chapters: Chapter[];
  } | null;
  /**
   * `rendition`: the MP4 (download, and players without HLS) once the video is ready; `hls`:
   * the master playlist of the adaptive ladder when the run packaged one; `storyboard`: the WebVTT
   * thumbnail track of the scrub previews, when made; `chapters`: the WebVTT chapters track, when there are chapters.
   */
  links: {
    self: string;
    temporalUi: string;
    rendition?: string;
    hls?: string;
    storyboard?: string;
    chapters?: string;
    transcript?: string;
    captions?: string;
  };
}

/** The first pending activity of a run, as describe() reports it. */
export interface PendingActivityFacts {
  activityType: string;
  attempt: number;
  /** A worker has picked it up (false: scheduled, waiting for a poller). */
  started: boolean;
  progress?: HeartbeatProgress;
  lastFailure?: { type: string; message: string };
}

/** What describe() said about the run. */
export interface RunFacts {
  status: string;
  runId: string;
  historyLength: number;
  pending?: PendingActivityFacts;
}

/** Everything the status document is made of, gathered by buildStatus (status.ts); no I/O beyond it. */
export interface StatusFacts {
  row: VideoRow;
  /** False when describe() failed for another reason than "not found": Temporal could not be asked. */
  temporalReachable: boolean;
  /** Absent when Temporal does not know the run (never started, or past retention) or was unreachable. */
  run?: RunFacts;
  /** The workflow's answer to its status query; absent when not asked or not answered. */
  state?: PipelineState;
  /** What this API process last saw of the video (status-fallbacks.ts). */
  lastKnown?: LastKnown;
  workflowQueue?: string;
  /** Recent workflow pollers, asked only when a running workflow left its query unanswered. */
  workflowPollers?: number;
  /** Recent pollers of the queue a first attempt waits on (see queueAwaitedByFirstAttempt). */
  awaitedQueue?: { name: string; pollers: number };
  temporalUiUrl: string;
  namespace: string;
}

/** The status document from the facts: pure, so every branch can be tested in a table. */
export function deriveStatus(facts: StatusFacts): VideoStatus {
  const { row, state } = facts;
  const workflowStatus = workflowStatusOf(facts);
  const runId = runIdOf(facts);
  const step = stepOf(facts);
  const pending = pendingOfStep(facts, step);
  const status = productStatusOf(facts, workflowStatus, step);
  // A re-analysis after the run ended (workflow reanalyzeVideo) updates the row only:
  // when the row has the full analysis and the ended run's query still says otherwise, the row is newer.
  const rowIsNewer = row.analysisState === 'complete' && state?.analysisState !== undefined && state.analysisState !== 'complete';
  const result = resultOf(row, rowIsNewer ? undefined : state);
  return {
    videoId: row.id,
    workflowId: row.workflowId,
    runId,
    workflowStatus,
    status,
    step,
    progress: progressOf(pending, status, step),
    attempt: pending?.attempt ?? null,
    steps: state?.steps ?? {},
    lastError: lastErrorOf(facts, workflowStatus, pending, step),
    waitingFor: waitingForOf(facts, workflowStatus),
    segments: state?.segments ?? null,
    analysis: rowIsNewer ? 'complete' : (state?.analysisState ?? row.analysisState ?? (state?.analysis ? 'complete' : null)),
    temporalReachable: facts.temporalReachable,
    result,
    links: {
      self: `/videos/${row.id}`,
      ...(result ? { rendition: `/videos/${row.id}/rendition.mp4` } : {}),
      ...(state?.media?.hls ? { hls: `/videos/${row.id}/hls/master.m3u8` } : {}),
      ...(result && (state?.media ?? row.media)?.storyboard ? { storyboard: `/videos/${row.id}/storyboard/storyboard.vtt` } : {}),
      ...(result?.chapters.length ? { chapters: `/videos/${row.id}/chapters.vtt` } : {}),
      temporalUi: temporalUiLink(facts, runId),
    },
  };
}

/**
 * The queue whose workers a run is waiting for: its pending activity is a first attempt no
 * worker has picked up yet. buildStatus asks for that queue's pollers only then.
 */
export function queueAwaitedByFirstAttempt(facts: StatusFacts, queues: TaskQueues | undefined): string | undefined {
  if (facts.run?.status !== 'RUNNING' || !queues) return undefined;
  const step = stepOf(facts);
  const pending = pendingOfStep(facts, step);
  if (!pending || pending.attempt !== 1 || pending.started) return undefined;
  // A queued run waits for the first step's queue.
  const stepName: StepName | undefined = step === 'queued' ? STEPS[0] : STEPS.find((s) => s === step);
  return stepName ? queues[STEP_QUEUE[stepName]] : undefined;
}

function workflowStatusOf({ run, temporalReachable }: StatusFacts): string {
  if (run) return run.status;
  return temporalReachable ? 'NOT_STARTED' : 'UNKNOWN';
}

function runIdOf({ run, temporalReachable, lastKnown }: StatusFacts): string | null {
  if (run) return run.runId;
  return temporalReachable ? null : (lastKnown?.runId ?? null);
}

function stepOfRow(row: VideoRow): PipelineState['step'] {
  if (row.status === 'ready') return 'done';
  if (row.status === 'failed') return 'failed';
  return 'queued';
}

function stepOf({ row, run, state, lastKnown, temporalReachable }: StatusFacts): PipelineState['step'] {
  if (state) return state.step;
  if (run?.status === 'RUNNING') return inferStep(run.pending?.activityType, run.historyLength, lastKnown?.step);
  if (run?.status === 'COMPLETED') return 'done';
  if (run) return 'failed';
  const rowStep = stepOfRow(row);
  // With Temporal down, a row that still says queued knows less than what we saw last.
  if (!temporalReachable && lastKnown && rowStep === 'queued') return lastKnown.step;
  return rowStep;
}

/** describe() and the query are two calls: a pending activity of another step than the query's is ignored. */
function pendingOfStep({ run, state }: StatusFacts, step: PipelineState['step']): PendingActivityFacts | undefined {
  const pending = run?.pending;
  if (!pending) return undefined;
  return !state || stepOfActivity(pending.activityType) === step ? pending : undefined;
}

/**
 * Temporal decides while it knows the run: the row turns ready/failed a moment before the
 * workflow closes, and "ready" must never be shown next to a RUNNING workflow. The row speaks
 * only when Temporal no longer knows the run (retention) or never started it.
 */
function productStatusOf(facts: StatusFacts, workflowStatus: string, step: PipelineState['step']): VideoStatus['status'] {
  const { row, run, state, lastKnown, temporalReachable } = facts;
  if (!run) {
    if (!temporalReachable && lastKnown && row.status === 'queued') return lastKnown.status;
    return row.status;
  }
  // A degraded video is ready (step done) while its workflow waits to re-analyse it.
  if (workflowStatus === 'COMPLETED' || (workflowStatus === 'RUNNING' && state?.step === 'done')) return 'ready';
  if (isFailedLike(workflowStatus)) return 'failed';
  if (step === 'queued') return 'queued';
  if (state?.waitingForSource) return 'waiting_for_source';
  return 'processing';
}

function progressOf(
  pending: PendingActivityFacts | undefined,
  status: VideoStatus['status'],
  step: PipelineState['step'],
): VideoStatus['progress'] {
  if (pending?.progress) return { step, ...pending.progress };
  return status === 'ready' ? { step: 'done', phase: 'done', percent: 100 } : null;
}

/** The workflow's own error first, then the retrying activity's, then the row's, then how Temporal closed the run. */
function lastErrorOf(
  { row, state }: StatusFacts,
  workflowStatus: string,
  pending: PendingActivityFacts | undefined,
  step: PipelineState['step'],
): VideoStatus['lastError'] {
  if (state?.error) return { type: state.error.type, message: withoutServerPaths(state.error.message), step: state.error.step };
  if (pending?.lastFailure) return { ...pending.lastFailure, message: withoutServerPaths(pending.lastFailure.message), step };
  if (row.errorType) return { type: row.errorType, message: withoutServerPaths(row.errorMessage ?? ''), step: row.failedStep };
  if (isFailedLike(workflowStatus)) return { ...closedRunError(workflowStatus), step };
  return null;
}

function waitingForOf(facts: StatusFacts, workflowStatus: string): string | null {
  const { row, state, lastKnown, workflowPollers, awaitedQueue } = facts;
  let waitingFor: string | null = null;
  if (!facts.temporalReachable) {
    waitingFor = `Temporal is unreachable: status and step are the last known state${lastKnown ? ` (seen ${lastKnown.at})` : ''}`;
  } else if (state?.waitingForSource) {
    waitingFor = `a new source URL (POST /videos/${row.id}/refresh-url) until ${state.waitingForSource.deadline}`;
  } else if (workflowStatus === 'RUNNING' && workflowPollers === 0) {
    waitingFor = `no worker is polling task queue '${facts.workflowQueue}' (workflow worker)`;
  }
  // Only a definite 0 is reported: an unanswered describe is not evidence of a problem.
  if (awaitedQueue?.pollers === 0) {
    waitingFor = [waitingFor, `no worker is polling task queue '${awaitedQueue.name}'`].filter(Boolean).join('; ');
  }
  return waitingFor;
}

function temporalUiLink({ row, temporalUiUrl, namespace }: StatusFacts, runId: string | null): string {
  const run = runId ? `/${runId}/history` : '';
  return `${temporalUiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(row.workflowId)}${run}`;
}

function resultOf(row: VideoRow, state: PipelineState | undefined): VideoStatus['result'] {
  const media = state?.media;
  const analysis = state?.analysis;
  if (state?.step === 'done' && media && analysis && state.index) {
    return {
      rendition: `/videos/${row.id}/rendition.mp4`,
      thumbnail: `/videos/${row.id}/thumbnail.jpg`,
      durationSec: media.rendition.durationSec,
      width: media.rendition.width,
      height: media.rendition.height,
      summary: analysis.summary,
      tags: analysis.tags,
      analyzer: analysis.analyzer,
      model: analysis.model,
      offlineAnalysis: analysis.offline,
      vectorCollection: state.index.collection,
      chapters: boundChapters(analysis.chapters, media.rendition.durationSec),
    };
  }
  if (row.status === 'ready' && row.renditionPath && row.thumbnailPath) {
    return {
      rendition: `/videos/${row.id}/rendition.mp4`,
      thumbnail: `/videos/${row.id}/thumbnail.jpg`,
      durationSec: row.durationSec ?? 0,
      width: row.width ?? 0,
      height: row.height ?? 0,
      summary: row.summary ?? '',
      tags: row.tags,
      analyzer: row.analyzer ?? '',
      model: row.model ?? '',
      offlineAnalysis: row.offlineAnalysis ?? false,
      vectorCollection: row.vectorCollection ?? '',
      chapters: boundChapters(row.chapters, row.durationSec ?? Number.NaN),
    };
  }
  return null;
}
