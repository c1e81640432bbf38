import type { Client } from '@temporalio/client';

/** One activity of a run as its history tells it: type, attempt that closed it, worker identity. */
export interface ActivityRun {
  scheduledId: string;
  type: string;
  input?: unknown;
  /** Set when it closed: the attempt that closed it and the worker that ran that attempt. */
  attempt?: number;
  identity?: string;
  completed: boolean;
  /** Server times (ms since the epoch): scheduled; started = when the closing attempt started; closed. */
  scheduledMs: number;
  startedMs?: number;
  closedMs?: number;
}

/** A history or pending-activity timestamp in ms since the epoch. */
export const epochMs = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number =>
  Number(t?.seconds ?? 0) * 1000 + Math.round((t?.nanos ?? 0) / 1e6);

/**
 * Reads the run's history. Temporal writes ActivityTaskStarted only when an activity closes,
 * carrying the attempt that closed it: attempt > 1 means earlier attempts were lost or failed.
 */
export async function activityRuns(client: Client, workflowId: string): Promise<ActivityRun[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const runs = new Map<string, ActivityRun>();
  for (const e of history.events ?? []) {
    const id = String(e.eventId);
    const sched = e.activityTaskScheduledEventAttributes;
    if (sched) runs.set(id, { scheduledId: id, type: sched.activityType?.name ?? '', completed: false, scheduledMs: epochMs(e.eventTime) });
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const run = runs.get(String(started.scheduledEventId));
      if (run) {
        run.attempt = started.attempt ?? 1;
        run.identity = started.identity ?? undefined;
        run.startedMs = epochMs(e.eventTime);
      }
    }
    const done = e.activityTaskCompletedEventAttributes;
    if (done) {
      const run = runs.get(String(done.scheduledEventId));
      if (run) {
        run.completed = true;
        run.closedMs = epochMs(e.eventTime);
      }
    }
  }
  return [...runs.values()];
}

/** `{"msg":"encoded segment",…,"index":N}` lines a media worker printed: the segments it encoded to the end. */
export function encodedSegmentsIn(workerOutput: string, videoId: string): number[] {
  return workerOutput
    .split('\n')
    .filter((l) => l.includes('"encoded segment"') && l.includes(`"videoId":"${videoId}"`))
    .map((l) => Number(/"index":(\d+)/.exec(l)?.[1]))
    .filter((n) => Number.isInteger(n));
}

/** The most activities of `type` scheduled and not yet closed at any point of the run's history. */
export async function maxInFlight(client: Client, workflowId: string, type: string): Promise<number> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const ofType = new Set<string>();
  let now = 0;
  let max = 0;
  for (const e of history.events ?? []) {
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === type) {
      ofType.add(String(e.eventId));
      max = Math.max(max, ++now);
    }
    const closed =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskTimedOutEventAttributes ??
      e.activityTaskCanceledEventAttributes;
    if (closed && ofType.has(String(closed.scheduledEventId))) now--;
  }
  return max;
}
