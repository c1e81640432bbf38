import { stepOfActivity } from '../pipeline/catalogue';
import type { PipelineState } from '../workflows/contracts';
import type { ProductStatus } from '../contracts/product-status';

/**
 * What the status document may still say when Temporal cannot answer: the last state
 * this API process saw for a video, and what the server's describe() alone tells about progress.
 * Kept apart from status.ts and derive-status.ts so the status document's merge logic stays readable.
 */
export interface LastKnown {
  status: ProductStatus;
  step: PipelineState['step'];
  workflowStatus: string;
  runId: string | null;
  at: string;
}

const LAST_KNOWN_MAX = 10_000;
const lastKnown = new Map<string, LastKnown>();

/** Remembers what Temporal said last (bounded; oldest entries go first). */
export function rememberState(videoId: string, state: Omit<LastKnown, 'at'>): void {
  lastKnown.delete(videoId);
  lastKnown.set(videoId, { ...state, at: new Date().toISOString() });
  if (lastKnown.size > LAST_KNOWN_MAX) {
    const oldest = lastKnown.keys().next().value;
    if (oldest !== undefined) lastKnown.delete(oldest);
  }
}

export function recallState(videoId: string): LastKnown | undefined {
  return lastKnown.get(videoId);
}

/**
 * The step of a running workflow when its query cannot be answered (no workflow worker): the
 * pending activity names it; otherwise a history longer than "started + first workflow task"
 * means the workflow has moved past `queued`, so we never report a regression to 'queued'.
 */
export function inferStep(
  pendingActivityType: string | undefined,
  historyLength: number,
  previous: PipelineState['step'] | undefined,
): PipelineState['step'] {
  const fromActivity = pendingActivityType ? stepOfActivity(pendingActivityType) : undefined;
  if (fromActivity) return fromActivity;
  if (previous && previous !== 'queued') return previous;
  // 1 WorkflowExecutionStarted, 2 WorkflowTaskScheduled, 3 WorkflowTaskStarted: nothing ran yet.
  return historyLength > 3 ? 'transcode' : 'queued';
}

/**
 * After a query timed out (workflow worker gone or stuck), skip queries to that queue for a while:
 * one slow request, not every request waiting out the deadline while the worker is down.
 */
const QUERY_PAUSE_MS = 30_000;
const queryPausedUntil = new Map<string, number>();

export function pauseQueries(queue: string | undefined): void {
  queryPausedUntil.set(queue ?? '', Date.now() + QUERY_PAUSE_MS);
}

export function queryPaused(queue: string | undefined): boolean {
  return (queryPausedUntil.get(queue ?? '') ?? 0) > Date.now();
}
