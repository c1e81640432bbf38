import { z } from 'zod';
import type { ConfigArea } from './area';
import { nonNegativeInt, positiveInt, tcpPort } from './fields';

export const operationsArea = {
  title: 'Operations: admission, rate limits, lag, health',
  about:
    'Backpressure at the edge (429 with Retry-After, never a dropped upload), the run TTL, the start outbox, and the signals operators scale on. For the limits, 0 switches the check off.',
  variables: z.object({
    ADMISSION_MAX_BACKLOG: nonNegativeInt.default(500).describe('Waiting tasks on any task queue from which new uploads get 429 (0: off).'),
    ADMISSION_MAX_BACKLOG_AGE_MS: nonNegativeInt
      .default(15 * 60_000)
      .describe('Age of the oldest waiting task on any queue, in milliseconds, from which new uploads get 429 (0: off).'),
    ADMISSION_MAX_RUNNING: nonNegativeInt.default(2_000).describe('Running pipelines from which new uploads get 429 (0: off).'),
    ADMISSION_CACHE_MS: nonNegativeInt.default(1_000).describe('Milliseconds one backlog measurement is reused by admission control.'),
    RATE_LIMIT_MAX: nonNegativeInt.default(600).describe('Requests one client may make per RATE_LIMIT_WINDOW_MS (0: off).'),
    RATE_LIMIT_WINDOW_MS: positiveInt.default(60_000).describe('Window of the per-client rate limit, in milliseconds.'),
    LAG_ALERT_MS: positiveInt
      .default(5 * 60_000)
      .describe('Queue lag, in milliseconds, from which the lag metric flags a need to scale out.'),
    WORKFLOW_EXECUTION_TIMEOUT_MS: nonNegativeInt
      .default(24 * 60 * 60_000)
      .describe('TTL of one pipeline run, in milliseconds: a run still going then ends WorkflowTimedOut (0: none).'),
    OUTBOX_SWEEP_MS: nonNegativeInt
      .default(5_000)
      .describe('Milliseconds between sweeps of the start outbox, which starts uploads Temporal refused while it was down (0: off).'),
    POLLER_STALE_AFTER_MS: positiveInt
      .default(75_000)
      .describe(
        "Milliseconds without a poll after which a queue's worker counts as gone; keep it above the Temporal server's long-poll interval (matching.longPollExpirationInterval, 60 s by default), which idle workers re-poll within.",
      ),
    WORKER_HEALTH_PORT: tcpPort
      .optional()
      .describe("Port of the worker's /metrics, /healthz and /readyz server (0: any free port, logged).")
      .meta({ whenUnset: 'no health server' }),
    WORKER_HEALTH_HOST: z.string().default('127.0.0.1').describe("Interface of the worker's health and metrics server."),
  }),
} satisfies ConfigArea;

export function operationsConfig(e: z.output<typeof operationsArea.variables>) {
  return {
    ops: {
      admission: {
        maxBacklog: e.ADMISSION_MAX_BACKLOG,
        maxBacklogAgeMs: e.ADMISSION_MAX_BACKLOG_AGE_MS,
        maxRunning: e.ADMISSION_MAX_RUNNING,
        cacheMs: e.ADMISSION_CACHE_MS,
      },
      rateLimit: { max: e.RATE_LIMIT_MAX, windowMs: e.RATE_LIMIT_WINDOW_MS },
      lagAlertMs: e.LAG_ALERT_MS,
      workflowExecutionTimeoutMs: e.WORKFLOW_EXECUTION_TIMEOUT_MS,
      outboxSweepMs: e.OUTBOX_SWEEP_MS,
      pollerStaleAfterMs: e.POLLER_STALE_AFTER_MS,
      workerHealth: { port: e.WORKER_HEALTH_PORT ?? null, host: e.WORKER_HEALTH_HOST },
    },
  };
}
