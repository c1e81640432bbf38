import { Context } from '@temporalio/activity';
import { temporal } from '@temporalio/proto';
import type { Repositories } from '../db/repositories';
import { ErrorType } from '../errors';
import { activitiesOfStep, STEPS, type StepName } from '../pipeline/catalogue';
import type { RecordFailureInput } from '../workflows/contracts';
import { workflowIdFor } from '../workflows/ids';

/**
 * The failure path of processVideo: the videos row says failed and — unless an operator
 * cancelled the run — the dead-letter queue gets (or reopens) its entry. Both writes are
 * idempotent upserts, so a redelivered recordFailure changes nothing.
 */
export async function recordFailureAndDeadLetter(
  repos: Pick<Repositories, 'videos' | 'deadLetters'>,
  input: RecordFailureInput,
): Promise<void> {
  const video = { id: input.videoId, source: input.source, workflowId: workflowIdFor(input.videoId) };
  await repos.videos.markFailed(video, input.step, input.errorType, input.message);
  if (input.errorType === ErrorType.WorkflowCancelled) return;
  const ctx = Context.current();
  const execution = ctx.info.workflowExecution;
  await repos.deadLetters.record({
    videoId: input.videoId,
    workflowId: execution?.workflowId ?? video.workflowId,
    runId: execution?.runId ?? null,
    step: input.step,
    errorType: input.errorType,
    message: input.message,
    attempts: await attemptsOf(ctx, input.step).catch(() => null),
    input: input.input ?? null,
  });
}

/** Attempts the failed step took, read from the run's own history. */
async function attemptsOf(ctx: Context, step: string): Promise<number | null> {
  if (!(STEPS as readonly string[]).includes(step)) return null;
  const execution = ctx.info.workflowExecution;
  if (!execution) return null;
  const history = await ctx.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
  return stepAttempts(history.events ?? [], step as StepName);
}

/**
 * The attempts of the step's failed activity. A retried attempt writes no event of its own: the
 * server writes ActivityTaskStarted (with the attempt number) only when the activity closes, and
 * writes none at all for an attempt that never started. So the last started event of the step can
 * belong to an earlier activity of it (attempt 1) while the one that failed ran out of retries;
 * the closing event's `retryState` says so for sure: MAXIMUM_ATTEMPTS_REACHED means every attempt
 * of its policy ran (3 for the media presets), whatever the started events say.
 */
export function stepAttempts(events: temporal.api.history.v1.IHistoryEvent[], step: StepName): number | null {
  const activityTypes: readonly string[] = activitiesOfStep(step);
  const scheduled = new Map<string, temporal.api.history.v1.IActivityTaskScheduledEventAttributes>();
  let attempts: number | null = null;
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s && activityTypes.includes(s.activityType?.name ?? '')) scheduled.set(String(e.eventId), s);
    const started = e.activityTaskStartedEventAttributes;
    if (started && scheduled.has(String(started.scheduledEventId))) attempts = started.attempt ?? attempts;
    const closed = e.activityTaskTimedOutEventAttributes ?? e.activityTaskFailedEventAttributes;
    const of = closed && scheduled.get(String(closed.scheduledEventId));
    if (closed && of && isMaximumAttemptsReached(closed.retryState)) {
      attempts = Math.max(attempts ?? 0, of.retryPolicy?.maximumAttempts ?? 0) || attempts;
    }
  }
  return attempts;
}

function isMaximumAttemptsReached(state: unknown): boolean {
  // Decoded histories carry the enum as a number; JSON ones as its name.
  return (
    state === temporal.api.enums.v1.RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED || state === 'RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED'
  );
}
