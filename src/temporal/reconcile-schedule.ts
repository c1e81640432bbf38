import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import type { Config } from '../config';
import type { TaskQueues } from '../pipeline/catalogue';
import type { reconcileIndex } from '../workflows';
import type { ReconcileInput } from '../workflows/contracts';

/** One schedule per deployment (queue prefix), so test files and deployments sharing a namespace stay apart. */
export function reconcileScheduleId(queuePrefix: string): string {
  return `biblio-reconcile${queuePrefix ? `-${queuePrefix}` : ''}`;
}

export function reconcileInput(config: Config, queues: TaskQueues, scheduleId?: string): ReconcileInput {
  const r = config.reconcile;
  return {
    queues,
    pageSize: r.pageSize,
    maxPagesPerRun: r.maxPagesPerRun,
    staleAfterMs: r.staleAfterMs,
    retention: { tmpMs: r.retentionTmpMs, deadLetterInputMs: r.retentionDeadLetterInputMs },
    scheduleId,
  };
}

/**
 * Creates the reconciler's Temporal Schedule, or brings an existing one up to date with this
 * process's config (interval, input). Idempotent: every index worker calls it at start-up,
 * and a concurrent creator's ScheduleAlreadyRunning turns into an update. Overlap SKIP: a
 * slow pass is never run twice at once.
 */
export async function ensureReconcileSchedule(
  client: Client,
  config: Config,
  queues: TaskQueues,
): Promise<{ scheduleId: string; created: boolean }> {
  const scheduleId = reconcileScheduleId(config.queuePrefix);
  const args: [ReconcileInput] = [reconcileInput(config, queues, scheduleId)];
  const spec = { intervals: [{ every: config.reconcile.intervalMs }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'reconcileIndex',
    workflowId: `${scheduleId}-run`,
    taskQueue: queues.pipeline,
    args,
    workflowExecutionTimeout: 3_600_000,
  };
  try {
    await client.schedule.create<typeof reconcileIndex>({
      scheduleId,
      spec,
      action,
      policies: { overlap: 'SKIP', catchupWindow: '1m' },
      state: { paused: !config.reconcile.enabled, note: 'created; no reconcile pass yet' },
    });
    return { scheduleId, created: true };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(scheduleId).update((prev) => ({
    ...prev,
    spec,
    action: { ...prev.action, ...action } as typeof prev.action,
    state: { ...prev.state, paused: !config.reconcile.enabled },
  }));
  return { scheduleId, created: false };
}
