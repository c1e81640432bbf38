import type { Client } from '@temporalio/client';

export interface StepTrace {
  activity: string;
  taskQueue: string;
  /** The worker identity that ran the last attempt ("media@host:pid"). */
  workerIdentity: string;
  attempt: number;
}

/**
 * Reads from the run's event history which task queue each activity was scheduled on and
 * which worker process ran it: the proof that the steps ran where the design says.
 */
export async function traceSteps(client: Client, workflowId: string, runId?: string): Promise<StepTrace[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const scheduled = new Map<string, StepTrace>();
  for (const event of history.events ?? []) {
    const id = String(event.eventId);
    const s = event.activityTaskScheduledEventAttributes;
    if (s) {
      scheduled.set(id, { activity: s.activityType?.name ?? '?', taskQueue: s.taskQueue?.name ?? '?', workerIdentity: '', attempt: 0 });
    }
    const started = event.activityTaskStartedEventAttributes;
    if (started) {
      const trace = scheduled.get(String(started.scheduledEventId));
      if (trace) {
        trace.workerIdentity = started.identity ?? '';
        trace.attempt = started.attempt ?? 1;
      }
    }
  }
  return [...scheduled.values()];
}
