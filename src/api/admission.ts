import type { Client } from '@temporalio/client';
import type { TaskQueues } from '../pipeline/catalogue';
import { temporalDeadlineIn, withTemporalDeadline } from '../temporal/deadline';
import type { QueueStats, QueueStatsCache } from '../temporal/queue-stats';

/**
 * Admission control (backpressure at the edge): before a new upload's workflow is started, look
 * at how far behind the workers are — per-queue backlog count and age from Temporal's task-queue
 * statistics, plus the number of running workflows — and refuse with 429 + Retry-After beyond the
 * configured limits. Refusing is explicit; nothing is accepted and then dropped. Temporal itself
 * keeps accepted work durable, so these limits bound *latency* (how stale a new upload's turn is)
 * rather than memory. A limit of 0 disables that check.
 */
export interface AdmissionLimits {
  /** Tasks waiting on any one queue. */
  maxBacklog: number;
  /** Age of the oldest waiting task on any one queue (consumer lag). */
  maxBacklogAgeMs: number;
  /** Workflows running on the pipeline queue. */
  maxRunning: number;
  /** How long one measurement is reused: a flood must not become a flood of Temporal calls. */
  cacheMs: number;
}

export interface Measurement {
  at: number;
  queues: QueueStats[];
  /** null when the visibility count could not be had. */
  running: number | null;
}

export type Verdict =
  | { admit: true }
  | { admit: false; reason: 'backlog' | 'backlog_age' | 'running'; queue: string | null; retryAfterSec: number; message: string };

const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.ceil(n)));

/** Pure: the decision from one measurement (unit-tested without Temporal). */
export function decide(m: Measurement, limits: AdmissionLimits): Verdict {
  for (const q of m.queues) {
    if (limits.maxBacklog > 0 && q.backlogCount >= limits.maxBacklog) {
      const excess = q.backlogCount - limits.maxBacklog + 1;
      // Time for the workers to drain the excess at their current pace; 30 s when unknown.
      const retryAfterSec = clamp(q.dispatchRate > 0 ? excess / q.dispatchRate : 30, 1, 300);
      return {
        admit: false,
        reason: 'backlog',
        queue: q.queue,
        retryAfterSec,
        message: `task queue '${q.queue}' has ${q.backlogCount} waiting tasks (limit ${limits.maxBacklog})`,
      };
    }
    if (limits.maxBacklogAgeMs > 0 && q.backlogAgeMs >= limits.maxBacklogAgeMs) {
      return {
        admit: false,
        reason: 'backlog_age',
        queue: q.queue,
        retryAfterSec: clamp((q.backlogAgeMs - limits.maxBacklogAgeMs) / 1000, 5, 300),
        message: `the oldest task on '${q.queue}' has waited ${Math.round(q.backlogAgeMs / 1000)} s (limit ${Math.round(limits.maxBacklogAgeMs / 1000)} s)`,
      };
    }
  }
  if (limits.maxRunning > 0 && m.running !== null && m.running >= limits.maxRunning) {
    return {
      admit: false,
      reason: 'running',
      queue: null,
      retryAfterSec: 15,
      message: `${m.running} uploads are being processed (limit ${limits.maxRunning})`,
    };
  }
  return { admit: true };
}

/** How long POST /videos waits for an admission measurement before admitting without one. */
export const ADMISSION_WAIT_MS = 500;

export class AdmissionController {
  private cached?: Measurement;
  private pending?: Promise<Measurement>;

  constructor(
    private readonly client: Client,
    private readonly queues: TaskQueues,
    readonly limits: AdmissionLimits,
    private readonly stats: QueueStatsCache,
  ) {}

  /** The current measurement (cached for `limits.cacheMs`, one in flight). Rejects when Temporal cannot be asked. */
  measure(): Promise<Measurement> {
    if (this.cached && Date.now() - this.cached.at < this.limits.cacheMs) return Promise.resolve(this.cached);
    this.pending ??= this.takeMeasurement()
      .then((m) => {
        this.cached = m;
        return m;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  /**
   * Admit unless a limit is passed. When Temporal cannot be measured the upload is admitted:
   * its start will fail fast with 503 and the start outbox takes it from there.
   */
  async check(): Promise<Verdict> {
    // Waits at most ADMISSION_WAIT_MS (a local measurement takes tens of ms): POST /videos must still
    // answer in ~5 s (temporal/deadline.ts) when Temporal is unreachable; the measurement goes on and
    // serves the next requests. A measurement slower than that admits this one request unchecked.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ADMISSION_WAIT_MS);
    });
    const m = await Promise.race([this.measure().catch(() => undefined), late]).finally(() => clearTimeout(timer));
    return m ? decide(m, this.limits) : { admit: true };
  }

  private async takeMeasurement(): Promise<Measurement> {
    const q = this.queues;
    const queues = await Promise.all([
      this.stats.get(q.pipeline, 'workflow'),
      this.stats.get(q.media, 'activity'),
      this.stats.get(q.ai, 'activity'),
      this.stats.get(q.index, 'activity'),
    ]);
    const running = await withTemporalDeadline(
      this.client,
      () => this.client.workflow.count(`ExecutionStatus = 'Running' AND TaskQueue = '${q.pipeline.replace(/'/g, "\\'")}'`),
      temporalDeadlineIn(2_000),
    )
      .then((r) => r.count)
      .catch(() => null);
    return { at: Date.now(), queues, running };
  }
}
