/**
 * Worker liveness: a dead media worker is noticed in seconds, not when its heartbeat timeout
 * runs out. Temporal learns of a worker's death only from a missed heartbeat or start-to-close
 * timeout; a short heartbeat timeout would fire on a live worker starved by ffmpeg, and more
 * heartbeats cost Temporal work on every upload. Instead each media worker process holds a
 * lease in PostgreSQL (migrations/1764880000000_worker-leases.sql), renewed by a timer and
 * stamped with the database's clock, and lists every attempt it runs under it. A watchdog in
 * the media and pipeline workers claims the attempts of an expired lease and fails each by its
 * task token with a retryable WorkerLost, so the retry starts at once, and moves the retry to the
 * rescue queue (a spare slot in every media worker) so it never waits behind queued work. The heartbeat timeout
 * stays the backstop (database down, detector off).
 *
 * A worker that was only slow is harmless: the attempt it still runs is no longer current, so
 * its next heartbeat is answered NOT_FOUND, the SDK cancels the activity (its ffmpeg is killed
 * through the cancellation signal) and a late completion is refused; its next renewal takes the
 * lease again.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import { WorkerLeasesRepo, type OrphanedAttempt } from '../db/worker-leases-repo';
import { alreadySettled, lostWorkerFailure, WatchdogGate } from './liveness-policy';

/** Leases of workers gone for good are forgotten after this (kept a while for the record). */
const FORGET_AFTER_MS = 10 * 60_000;

export interface LivenessSettings {
  ttlMs: number;
  renewMs: number;
}

/** This process's lease and the attempts it lists. */
export class WorkerLease {
  readonly id = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private held = false;

  constructor(
    private readonly repo: WorkerLeasesRepo,
    private readonly identity: string,
    private readonly settings: LivenessSettings,
    private readonly log: Logger,
    private readonly gate?: WatchdogGate,
    private readonly rescueQueue?: string,
  ) {}

  /** Takes the lease (before the worker polls) and keeps renewing it. A database that is down only delays it. */
  async start(): Promise<void> {
    await this.renew();
    this.timer = setInterval(() => void this.renew(), this.settings.renewMs);
  }

  private async renew(): Promise<void> {
    try {
      await this.repo.renew(this.id, this.identity, this.settings.ttlMs);
      if (!this.held) this.log.info({ leaseId: this.id, ttlMs: this.settings.ttlMs }, 'liveness lease held');
      this.held = true;
      this.gate?.record(true, Date.now());
    } catch (err) {
      if (this.held)
        this.log.warn(
          { leaseId: this.id, err: (err as Error).message },
          'liveness lease not renewed: the heartbeat timeout covers this worker meanwhile',
        );
      this.held = false;
      this.gate?.record(false, Date.now());
    }
  }

  /** Graceful shutdown, after the workers drained: nothing of ours is left to be failed. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.repo.release(this.id).catch(() => undefined);
  }

  /** Lists each activity attempt under the lease while it runs. Best effort: a failed write leaves the heartbeat timeout in charge. */
  interceptor(): ActivityInterceptorsFactory {
    return (ctx) => ({
      inbound: {
        execute: async (input, next) => {
          const { taskToken, workflowExecution, activityId, activityType, attempt, isLocal } = ctx.info;
          if (isLocal || !workflowExecution) return next(input);
          const listed = this.repo
            .listAttempt(this.id, { taskToken, ...workflowExecution, activityId, activityType, attempt, rescueQueue: this.rescueQueue })
            .then(() => true)
            .catch(() => false);
          try {
            return await next(input);
          } finally {
            if (await listed) await this.repo.unlistAttempt(taskToken).catch(() => undefined);
          }
        },
      },
    });
  }
}

/** Finds attempts whose worker's lease ran out and fails them in Temporal so they are retried at once. */
export class LeaseWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private rounds = 0;

  constructor(
    private readonly repo: WorkerLeasesRepo,
    private readonly client: Pick<Client, 'activity' | 'workflowService' | 'options'>,
    private readonly settings: LivenessSettings,
    private readonly log: Logger,
    readonly gate = new WatchdogGate(settings.ttlMs),
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), this.settings.renewMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One round: one indexed query, and a Temporal call per lost attempt (normally none). */
  async check(): Promise<number> {
    if (this.busy) return 0;
    this.busy = true;
    try {
      if (!this.gate.mayAct(Date.now())) {
        // Only a round trip to prove the database answers; claims wait until it has for a lease's life.
        await this.repo.ping().then(
          () => this.gate.record(true, Date.now()),
          () => this.gate.record(false, Date.now()),
        );
        return 0;
      }
      let orphans;
      try {
        orphans = await this.repo.claimOrphans();
        this.gate.record(true, Date.now());
      } catch {
        this.gate.record(false, Date.now());
        return 0;
      }
      await Promise.all(orphans.map((o) => this.fail(o)));
      if (++this.rounds % 60 === 0) await this.repo.forgetExpired(FORGET_AFTER_MS).catch(() => undefined);
      return orphans.length;
    } finally {
      this.busy = false;
    }
  }

  private async fail(o: OrphanedAttempt): Promise<void> {
    const where = { workflowId: o.workflowId, runId: o.runId, activityId: o.activityId, activityType: o.activityType, attempt: o.attempt };
    if (o.rescueQueue) await this.moveToRescue(o, o.rescueQueue);
    try {
      await this.client.activity.fail(o.taskToken, lostWorkerFailure(o));
      this.log.warn(
        { ...where, lostWorker: o.identity, expiredForMs: o.expiredForMs },
        'failed the attempt of a lost media worker: retried at once',
      );
    } catch (err) {
      if (alreadySettled(err)) this.log.info(where, 'the attempt of a lost media worker had already ended');
      // The claim is spent: the heartbeat timeout still ends this attempt.
      else
        this.log.warn(
          { ...where, err: (err as Error).message },
          'could not fail the attempt of a lost media worker: its heartbeat timeout will',
        );
    }
  }

  /**
   * The retry goes to the rescue queue, which every media worker polls with a spare slot: on its
   * own queue it would wait behind the video's queued segments until a busy worker finished one.
   * Must come before the fail (the retry's task is created with the options of that moment).
   * Best effort: without it the retry still runs, later.
   */
  private async moveToRescue(o: OrphanedAttempt, queue: string): Promise<void> {
    try {
      await this.client.workflowService.updateActivityOptions({
        namespace: this.client.options.namespace,
        execution: { workflowId: o.workflowId, runId: o.runId },
        id: o.activityId,
        activityOptions: { taskQueue: { name: queue } },
        // The server's own spelling (1.29 ignores unknown paths silently, e.g. 'task_queue').
        updateMask: { paths: ['task_queue.name'] },
      });
    } catch (err) {
      this.log.warn(
        { workflowId: o.workflowId, activityId: o.activityId, err: (err as Error).message },
        'could not move a lost attempt to the rescue queue',
      );
    }
  }
}

/** The liveness parts of one worker process: a lease (media), a watchdog (media, pipeline), over one small pool. */
export function livenessFor(o: {
  pool: Pool;
  identity: string;
  settings: LivenessSettings;
  log: Logger;
  lease: boolean;
  rescueQueue?: string;
  watchdog?: Pick<Client, 'activity' | 'workflowService' | 'options'>;
}): { lease?: WorkerLease; watchdog?: LeaseWatchdog } {
  if (o.settings.ttlMs === 0) return {};
  const repo = new WorkerLeasesRepo(o.pool);
  const watchdog = o.watchdog ? new LeaseWatchdog(repo, o.watchdog, o.settings, o.log) : undefined;
  const lease = o.lease ? new WorkerLease(repo, o.identity, o.settings, o.log, watchdog?.gate, o.rescueQueue) : undefined;
  return { lease, watchdog };
}
