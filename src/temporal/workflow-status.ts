import type { WorkflowExecutionStatusName } from '@temporalio/client';
import { ErrorType, type ErrorTypeName } from '../errors';

/**
 * What a workflow run's closed status means for a video, in one place: the status document, the
 * stale-row repair, deletion and the reconciler each ask one of these questions. Typed with the
 * SDK's status names, so a name the server never reports (e.g. 'CANCELED') does not compile.
 */

/** The run will do nothing more (CONTINUED_AS_NEW: this run handed over to a new one). */
const ENDED = [
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TERMINATED',
  'TIMED_OUT',
  'CONTINUED_AS_NEW',
] as const satisfies readonly WorkflowExecutionStatusName[];
export type EndedStatus = (typeof ENDED)[number];

/** The run ended without delivering its result. */
const FAILED_LIKE = ['FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT'] as const satisfies readonly EndedStatus[];
export type FailedLikeStatus = (typeof FAILED_LIKE)[number];

/**
 * Ended by an operator or by Temporal, not by the workflow's own failure path: a terminated or
 * timed-out run runs no code of its own at all, and a cancelled one runs only its cancel handling,
 * whose row write may have failed. Either way the row may still say `queued`.
 */
const ENDED_FROM_OUTSIDE = ['CANCELLED', 'TERMINATED', 'TIMED_OUT'] as const satisfies readonly FailedLikeStatus[];
export type EndedFromOutsideStatus = (typeof ENDED_FROM_OUTSIDE)[number];

// Callers hold the status as a string too (the status document adds NOT_STARTED), hence `string` in.
export function hasEnded(status: string): status is EndedStatus {
  return (ENDED as readonly string[]).includes(status);
}

export function isFailedLike(status: string): status is FailedLikeStatus {
  return (FAILED_LIKE as readonly string[]).includes(status);
}

export function endedFromOutside(status: string): status is EndedFromOutsideStatus {
  return (ENDED_FROM_OUTSIDE as readonly string[]).includes(status);
}

const CLOSED_RUN_ERRORS: Readonly<Record<FailedLikeStatus, { type: ErrorTypeName; message: string }>> = {
  FAILED: { type: ErrorType.WorkflowFailed, message: 'the run failed; its history in the Temporal Web UI (links.temporalUi) says why' },
  CANCELLED: {
    type: ErrorType.WorkflowCancelled,
    message: 'the run was cancelled before the video was ready; POST a new videoId to try again',
  },
  TERMINATED: {
    type: ErrorType.WorkflowTerminated,
    message: 'the run was terminated (Web UI or CLI) before the video was ready; POST a new videoId to try again',
  },
  TIMED_OUT: {
    type: ErrorType.WorkflowTimedOut,
    message: 'the run exceeded its execution timeout (WORKFLOW_EXECUTION_TIMEOUT_MS) and was stopped; POST a new videoId to try again',
  },
};

/** The typed error a run that closed this way stands for, when nothing more specific is known. */
export function closedRunError(status: FailedLikeStatus): { type: ErrorTypeName; message: string } {
  return { ...CLOSED_RUN_ERRORS[status] };
}
