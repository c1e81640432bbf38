/**
 * The decisions of the worker-liveness detector, apart from its I/O (src/workers/liveness.ts):
 * when a watchdog may trust what it sees, and what it tells Temporal about a lost attempt.
 */
import { ActivityNotFoundError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { ErrorType, failure } from '../errors';
import type { OrphanedAttempt } from '../db/worker-leases-repo';

/**
 * How soon Temporal should start the retry of a lost worker's attempt: at once rather than the
 * preset's initialInterval (1–2 s), which paces retries of failures a worker saw itself. Measured
 * on the dev server 1.29 (bench/retry-placement.ts), a failure reported by task token is still
 * retried after the policy's initialInterval; asking costs nothing where it is honoured.
 */
export const LOST_WORKER_RETRY_DELAY_MS = 100;

/** The retryable failure that ends an attempt whose worker's lease ran out. */
export function lostWorkerFailure(o: OrphanedAttempt): ApplicationFailure {
  return failure(
    ErrorType.WorkerLost,
    `${o.activityType} attempt ${o.attempt}: its media worker ${o.identity} stopped renewing its liveness lease ` +
      `(expired ${o.expiredForMs} ms ago: killed, frozen or its host lost); retried at once on another worker`,
    { details: { leaseId: o.leaseId, worker: o.identity, expiredForMs: o.expiredForMs }, nextRetryDelayMs: LOST_WORKER_RETRY_DELAY_MS },
  );
}

/**
 * Whether failing a lost attempt found it already settled: it completed or failed on its own
 * meanwhile, its heartbeat timed out first, or its run ended. Temporal answers NOT_FOUND (the
 * client's ActivityNotFoundError) for a task token whose attempt is no longer the current one.
 */
export function alreadySettled(err: unknown): boolean {
  return err instanceof ActivityNotFoundError;
}

/**
 * A watchdog acts only after the database has answered it without a break for `quietMs`. After
 * an outage every lease looks expired (no worker could renew); the live workers renew within one
 * period of the database coming back, so waiting out a lease's life after our own recovery keeps
 * their attempts from being failed as lost.
 */
export class WatchdogGate {
  private healthySince: number | undefined;

  constructor(private readonly quietMs: number) {}

  /** The outcome of one round trip to the database (a renewal or a watchdog query). */
  record(ok: boolean, now: number): void {
    if (!ok) this.healthySince = undefined;
    else this.healthySince ??= now;
  }

  mayAct(now: number): boolean {
    return this.healthySince !== undefined && now - this.healthySince >= this.quietMs;
  }
}
