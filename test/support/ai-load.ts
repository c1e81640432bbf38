import { Worker } from '@temporalio/worker';
import { aiLoad } from './ai-load-workflow';
import { sampleFacts } from './facts';
import { faultProvider } from './fault-provider';
import { startOpenAiFaultServer, type RecordedRequest } from './openai-fault-server';
import { startStack, type Stack } from './stack';

/**
 * Steady-state quota run shared by the test (short window) and bench/ (a real minute): Q requests
 * per window at the fault server (which answers 429 past it), the same Q configured in the
 * limiter, W AI worker processes (the real dist entry point) sharing it, and more demand than Q.
 */
export interface QuotaRunOptions {
  requestsPerWindow: number;
  windowMs: number;
  aiWorkers: number;
  /** Analyses to run (2 requests each: chat + embeddings). */
  analyses: number;
  redisUrl?: string;
}

export interface QuotaRunResult {
  requests: number;
  accepted: number;
  rejected429: number;
  elapsedMs: number;
  /** Accepted per provider window / Q, for each full window (first and last dropped). */
  windowFill: number[];
  /** Accepted requests / (Q × elapsed / window) over the full windows. */
  utilisation: number;
  tokens: number;
}

export async function runQuota(run: QuotaRunOptions): Promise<QuotaRunResult> {
  const fault = await startOpenAiFaultServer();
  fault.setQuota({ requestsPerWindow: run.requestsPerWindow, windowMs: run.windowMs });
  let stack: Stack | undefined;
  try {
    // A name of its own per run: bench/ runs several in one process.
    stack = await startStack({
      name: `quota-${Date.now() % 100000}`,
      workerEnv: faultProvider(fault, {
        AI_REQUESTS_PER_WINDOW: String(run.requestsPerWindow),
        AI_RATE_WINDOW_MS: String(run.windowMs),
        // Waiting for the next window is the point here: wait up to a window and a bit.
        AI_LIMITER_MAX_WAIT_MS: String(run.windowMs + 5_000),
        AI_CONCURRENCY: '4',
        ...(run.redisUrl ? { REDIS_URL: run.redisUrl } : {}),
      }).env,
    });
    const { prefix, queues } = stack;
    const env = stack.temporal;
    for (let i = 0; i < run.aiWorkers; i++) await stack.startWorkers(['ai']);
    const wfWorker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: queues.pipeline,
      workflowsPath: require.resolve('./ai-load-workflow'),
    });
    const t0 = Date.now();
    const results = await wfWorker.runUntil(
      Promise.all(
        Array.from({ length: run.analyses }, (_, i) =>
          env.client.workflow.execute(aiLoad, {
            taskQueue: queues.pipeline,
            workflowId: `${prefix}load-${i}`,
            args: [{ aiQueue: queues.ai, videoId: `${prefix}v${i}`, title: `steady state clip ${i}`, facts: sampleFacts }],
          }),
        ),
      ),
    );
    const elapsedMs = Date.now() - t0;
    const reqs = fault.requests.filter((r) => r.path !== '/v1/models');
    const accepted = reqs.filter((r) => r.status === 200);
    if (process.env.DEBUG_QUOTA) console.log(reqs.map((r) => `${r.at - t0} ${r.path} ${r.status}`).join('\n'));
    return {
      requests: reqs.length,
      accepted: accepted.length,
      rejected429: reqs.filter((r) => r.status === 429).length,
      elapsedMs,
      ...fill(accepted, run),
      tokens: results.reduce((s, r) => s + (r.usage?.inputTokens ?? 0) + (r.usage?.outputTokens ?? 0), 0),
    };
  } finally {
    await stack?.stop();
    await fault.close();
  }
}

/** Rebuilds the provider's windows from arrival times (a window opens at the first arrival after the last closed). */
function fill(accepted: RecordedRequest[], run: QuotaRunOptions): Pick<QuotaRunResult, 'windowFill' | 'utilisation'> {
  const times = accepted.map((r) => r.at).sort((a, b) => a - b);
  const windows: { start: number; count: number }[] = [];
  for (const t of times) {
    const w = windows.at(-1);
    if (w && t < w.start + run.windowMs) w.count++;
    else windows.push({ start: t, count: 1 });
  }
  const full = windows.slice(1, -1);
  const windowFill = full.map((w) => w.count / run.requestsPerWindow);
  if (full.length === 0) return { windowFill, utilisation: 0 };
  const span = windows[windows.length - 1]!.start - full[0]!.start;
  const used = full.reduce((s, w) => s + w.count, 0);
  return { windowFill, utilisation: used / ((run.requestsPerWindow * span) / run.windowMs) };
}
