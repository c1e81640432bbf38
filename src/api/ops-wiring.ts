import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import type { Config } from '../config';
import type { TaskQueues } from '../pipeline/catalogue';
import { QueueStatsCache } from '../temporal/queue-stats';
import { AdmissionController } from './admission';
import { createApiMetrics } from './metrics';
import type { OpsDeps } from './routes/ops';
import { startOutboxSweeper, type OutboxSweeper } from '../app/start-outbox';
import type { VideoService } from '../app/video-service';

/** Builds the API's operations parts from config: one call in main.ts and in tests. */
export function wireOps(o: { client: Client; pool: Pool; queues: TaskQueues; config: Pick<Config, 'ops'>; log?: Logger }) {
  const { ops } = o.config;
  const queueStats = new QueueStatsCache(o.client, Math.max(500, ops.admission.cacheMs), { freshPollerMs: ops.pollerStaleAfterMs });
  const admission = new AdmissionController(o.client, o.queues, ops.admission, queueStats);
  const metrics = createApiMetrics({ admission, pool: o.pool, lagAlertMs: ops.lagAlertMs });
  const deps: OpsDeps = { client: o.client, pool: o.pool, admission, metrics, rateLimit: ops.rateLimit, lagAlertMs: ops.lagAlertMs };
  return {
    queueStats,
    admission,
    metrics,
    deps,
    startOutbox(service: VideoService): OutboxSweeper {
      return startOutboxSweeper({
        outbox: service.repos.startOutbox,
        intervalMs: ops.outboxSweepMs,
        log: o.log,
        start: (row) => service.ensureStarted(row.id, row.source, row.workflowId),
      });
    },
  };
}
