// Where the retry of a lost attempt lands among its queued siblings. A worker with one slot runs
// `lost`; `b`, `c`, `d` (2 s each) queue behind it; `lost` is then failed by task token as the
// liveness watchdog does (retryable, next retry asked in 100 ms). Variants: plain; and moved
// first to a rescue queue (UpdateActivityOptions, mask `task_queue.name`) that the worker also
// polls with a slot of its own. (Raising the activity's priority instead is not possible on
// server 1.29: its UpdateActivityOptions takes the task queue, timeouts and retry policy only.)
// Prints, per trial, the order the attempts started in and the ms from the fail to the retry's start.
// Run under the heavy lock: `npx tsx bench/retry-placement.ts` (BENCH_TRIALS, default 3).
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startTemporal } from '../test/support/temporal';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 3);
type Move = 'none' | 'rescue';

async function trial(env: TestWorkflowEnvironment, name: string, move: Move): Promise<string> {
  const queue = `placement-${process.pid}-${name}`;
  const rescue = `${queue}-rescue`;
  const order: string[] = [];
  let token: Uint8Array | undefined;
  let retryAt = 0;
  const activities = {
    async step(step: string): Promise<void> {
      const ctx = Context.current();
      order.push(`${step}#${ctx.info.attempt}`);
      if (step === 'lost' && ctx.info.attempt > 1) retryAt = Date.now();
      if (step === 'lost' && ctx.info.attempt === 1) {
        token = ctx.info.taskToken;
        // Runs until its attempt is failed elsewhere: the next heartbeat is answered NOT_FOUND.
        for (;;) {
          ctx.heartbeat();
          await ctx.sleep(100);
        }
      }
      await new Promise((r) => setTimeout(r, 2_000));
    },
  };
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: queue,
    workflowsPath: path.join(__dirname, 'retry-placement-workflow.ts'),
    maxConcurrentActivityTaskExecutions: 1,
    maxHeartbeatThrottleInterval: '200ms',
    activities,
  });
  const spare = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: rescue,
    maxConcurrentActivityTaskExecutions: 1,
    activities,
  });
  const wfId = `placement-${name}-${Date.now()}`;
  let failedAt = 0;
  await Promise.all([
    spare.runUntil(
      worker.runUntil(async () => {
        const handle = await env.client.workflow.start('retryPlacement', { taskQueue: queue, workflowId: wfId });
        while (!token) await new Promise((r) => setTimeout(r, 50));
        await new Promise((r) => setTimeout(r, 1000)); // b, c, d are queued by now
        if (move !== 'none') {
          const pending = (await handle.describe()).raw.pendingActivities ?? [];
          const lost = pending.find((p) => (p.attempt ?? 1) === 1 && p.lastStartedTime);
          await env.client.workflowService.updateActivityOptions({
            namespace: 'default',
            execution: { workflowId: wfId },
            id: lost?.activityId ?? undefined,
            activityOptions: { taskQueue: { name: rescue } },
            updateMask: { paths: ['task_queue.name'] },
          });
        }
        failedAt = Date.now();
        await env.client.activity.fail(token, ApplicationFailure.create({ type: 'WorkerLost', message: 'lost', nextRetryDelay: 100 }));
        await handle.result();
      }),
    ),
  ]);
  return `${order.join(' → ')}  (retry started ${retryAt - failedAt} ms after the fail)`;
}

async function variant(label: string, move: Move, extraArgs: string[] = []): Promise<void> {
  const env = await startTemporal(['--dynamic-config-value', 'matching.numTaskqueueReadPartitions=1', ...extraArgs]);
  try {
    for (let i = 0; i < TRIALS; i++)
      console.log(
        `${label} #${i + 1}: ${await trial(env, `${move}-${i}-${extraArgs.length}`, move).catch((e: Error) => `error: ${e.message}`)}`,
      );
  } finally {
    await env.teardown();
  }
}

async function main(): Promise<void> {
  await variant('plain', 'none');
  await variant('moved to the rescue queue', 'rescue');
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
