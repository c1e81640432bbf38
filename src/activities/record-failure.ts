import { Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import { DeadLettersRepo } from '../db/dead-letters-repo';
import { VideosRepo } from '../db/videos-repo';
import { ErrorType } from '../errors';
import { activitiesOfStep, STEPS, type StepName } from '../pipeline/catalogue';
import type { RecordFailureInput } from '../workflows/contracts';
import { workflowIdFor } from '../workflows/ids';

/**
 * The failure path of processVideo: the videos row says failed and — unless an operator
 * cancelled the run — the dead-letter queue gets (or reopens) its entry. Both writes are
 * idempotent upserts, so a redelivered recordFailure changes nothing.
 */
export async function recordFailureAndDeadLetter(pool: Pool, input: RecordFailureInput): Promise<void> {
  const video = { id: input.videoId, source: input.source, workflowId: workflowIdFor(input.videoId) };
  await new VideosRepo(pool).markFailed(video, input.step, input.errorType, input.message);
  if (input.errorType === ErrorType.WorkflowCancelled) return;
  const ctx = Context.current();
  const execution = ctx.info.workflowExecution;
  await new DeadLettersRepo(pool).record({
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

/** Attempts the failed step took: the attempt number on its last ActivityTaskStarted event. */
async function attemptsOf(ctx: Context, step: string): Promise<number | null> {
  if (!(STEPS as readonly string[]).includes(step)) return null;
  const activityTypes: readonly string[] = activitiesOfStep(step as StepName);
  const execution = ctx.info.workflowExecution;
  if (!execution) return null;
  const { workflowId, runId } = execution;
  const history = await ctx.client.workflow.getHandle(workflowId, runId).fetchHistory();
  const scheduled = new Set<string>();
  let attempts: number | null = null;
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s && activityTypes.includes(s.activityType?.name ?? '')) scheduled.add(String(e.eventId));
    const started = e.activityTaskStartedEventAttributes;
    if (started && scheduled.has(String(started.scheduledEventId))) attempts = started.attempt ?? attempts;
  }
  return attempts;
}
