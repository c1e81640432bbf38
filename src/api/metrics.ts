import type { Pool } from 'pg';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AdmissionController, Measurement } from './admission';

/**
 * The API's Prometheus metrics. Queue gauges (backlog count, backlog age = consumer lag, the
 * autoscaling signal "lag over threshold") are read from Temporal's task-queue statistics at
 * scrape time through the admission controller's cached measurement, so scraping and admission
 * share one DescribeTaskQueue per queue per cache period.
 */
export interface ApiMetrics {
  registry: Registry;
  admissionRejections: Counter<'reason' | 'queue'>;
  rateLimited: Counter;
}

export function createApiMetrics(o: { admission: AdmissionController; pool: Pool; lagAlertMs: number }): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'biblio_api_' });

  const measure = () => o.admission.measure().catch(() => undefined);
  const perQueue = (set: (g: Gauge<'queue' | 'kind'>, m: Measurement) => void) =>
    async function collect(this: Gauge<'queue' | 'kind'>) {
      this.reset();
      const m = await measure();
      if (m) set(this, m);
    };

  new Gauge({
    name: 'biblio_queue_backlog_count',
    help: 'Tasks waiting for a worker on each task queue (Temporal approximate backlog count)',
    labelNames: ['queue', 'kind'],
    registers: [registry],
    collect: perQueue((g, m) => m.queues.forEach((q) => g.set({ queue: q.queue, kind: q.kind }, q.backlogCount))),
  });
  new Gauge({
    name: 'biblio_queue_backlog_age_seconds',
    help: 'Age of the oldest waiting task on each task queue: the consumer lag',
    labelNames: ['queue', 'kind'],
    registers: [registry],
    collect: perQueue((g, m) => m.queues.forEach((q) => g.set({ queue: q.queue, kind: q.kind }, q.backlogAgeMs / 1000))),
  });
  new Gauge({
    name: 'biblio_queue_lag_over_threshold',
    help: `1 when a queue's backlog age exceeds LAG_ALERT_MS (${o.lagAlertMs} ms): the scale-out signal`,
    labelNames: ['queue', 'kind'],
    registers: [registry],
    collect: perQueue((g, m) => m.queues.forEach((q) => g.set({ queue: q.queue, kind: q.kind }, q.backlogAgeMs > o.lagAlertMs ? 1 : 0))),
  });
  new Gauge({
    name: 'biblio_queue_pollers',
    help: 'Workers that polled each task queue recently',
    labelNames: ['queue', 'kind'],
    registers: [registry],
    collect: perQueue((g, m) => m.queues.forEach((q) => g.set({ queue: q.queue, kind: q.kind }, q.pollersRecent))),
  });
  new Gauge({
    name: 'biblio_running_workflows',
    help: 'Workflows running on the pipeline queue (Temporal visibility count)',
    registers: [registry],
    async collect() {
      this.reset();
      const m = await measure();
      if (m?.running != null) this.set(m.running);
    },
  });
  new Gauge({
    name: 'biblio_temporal_reachable',
    help: '1 when the last queue measurement reached Temporal',
    registers: [registry],
    async collect() {
      this.set((await measure()) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'biblio_dead_letters',
    help: 'Dead-lettered uploads by state (open, replayed, discarded)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { state, n } of await deadLetterDepth(o.pool)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'biblio_start_outbox_pending',
    help: 'Registered uploads whose workflow start has not been accepted by Temporal yet',
    registers: [registry],
    async collect() {
      const n = await o.pool
        .query<{ n: string }>(`SELECT count(*) AS n FROM videos WHERE start_state = 'pending'`)
        .then((r) => Number(r.rows[0]?.n ?? 0))
        .catch(() => undefined);
      if (n !== undefined) this.set(n);
    },
  });

  return {
    registry,
    admissionRejections: new Counter({
      name: 'biblio_admission_rejections_total',
      help: 'POST /videos answered 429 by admission control',
      labelNames: ['reason', 'queue'],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'biblio_rate_limited_total',
      help: 'Requests answered 429 by the per-client rate limit',
      registers: [registry],
    }),
  };
}

/**
 * DLQ depth. The dead_letters table belongs to the dead-letter feature; until its
 * migration has run there is nothing to report, so a missing table yields no series, not an error.
 */
export async function deadLetterDepth(pool: Pool): Promise<{ state: string; n: number }[]> {
  try {
    const exists = await pool.query<{ t: string | null }>(`SELECT to_regclass('dead_letters')::text AS t`);
    if (!exists.rows[0]?.t) return [];
    const { rows } = await pool.query<{ state: string; n: string }>(`SELECT state, count(*) AS n FROM dead_letters GROUP BY state`);
    return rows.map((r) => ({ state: r.state, n: Number(r.n) }));
  } catch {
    return [];
  }
}
