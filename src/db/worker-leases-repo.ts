import type { Pool } from 'pg';

/** One media activity attempt as its worker listed it (migrations/1764880000000_worker-leases.sql). */
export interface LeasedAttempt {
  taskToken: Uint8Array;
  workflowId: string;
  runId: string;
  activityId: string;
  activityType: string;
  attempt: number;
  /** The queue its retry should run on (the lease holder's rescue queue), if any. */
  rescueQueue?: string | null;
}

/** An attempt whose worker's lease ran out: claimed by the caller, who must fail it in Temporal. */
export interface OrphanedAttempt extends LeasedAttempt {
  leaseId: string;
  /** The lost worker's identity (role@host:pid), for the failure message. */
  identity: string;
  /** How long ago the lease ran out, by the database's clock. */
  expiredForMs: number;
}

/**
 * Worker leases and the attempts they cover. Every time is the database's (now()), so a worker
 * with a wrong or jumping clock can neither keep a dead lease alive nor expire a live one.
 */
export class WorkerLeasesRepo {
  constructor(private readonly pool: Pool) {}

  /**
   * Takes or extends this process's lease. An upsert: a worker that was merely slow and whose
   * lease was reaped takes it again (its reaped attempts are already failed and stay failed).
   */
  async renew(leaseId: string, identity: string, ttlMs: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO worker_leases (id, identity, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
       ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
      [leaseId, identity, ttlMs],
    );
  }

  /** Graceful shutdown: the lease and whatever attempts it still lists (they were drained or cancelled). */
  async release(leaseId: string): Promise<void> {
    await this.pool.query('DELETE FROM worker_leases WHERE id = $1', [leaseId]);
  }

  /** An attempt starts under this lease. Fails (foreign key) if the lease is not there: the heartbeat timeout still covers it. */
  async listAttempt(leaseId: string, a: LeasedAttempt): Promise<void> {
    await this.pool.query(
      `INSERT INTO leased_attempts (task_token, lease_id, workflow_id, run_id, activity_id, activity_type, attempt, rescue_queue)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (task_token) DO NOTHING`,
      [Buffer.from(a.taskToken), leaseId, a.workflowId, a.runId, a.activityId, a.activityType, a.attempt, a.rescueQueue ?? null],
    );
  }

  /** The attempt ended on its worker (completed, failed or cancelled). */
  async unlistAttempt(taskToken: Uint8Array): Promise<void> {
    await this.pool.query('DELETE FROM leased_attempts WHERE task_token = $1', [Buffer.from(taskToken)]);
  }

  /**
   * Claims the attempts of leases expired for at least `graceMs`: deleted and returned in one
   * statement, so when several watchdogs run, each orphan goes to exactly one of them. Indexed:
   * expired leases by expires_at (normally none), their attempts by lease_id.
   */
  async claimOrphans(graceMs = 0): Promise<OrphanedAttempt[]> {
    const { rows } = await this.pool.query<Omit<OrphanedAttempt, 'taskToken'> & { taskToken: Buffer; expiredForMs: string }>(
      `WITH expired AS (
         SELECT id, identity, expires_at FROM worker_leases WHERE expires_at < now() - $1 * interval '1 millisecond'
       )
       DELETE FROM leased_attempts a USING expired w WHERE a.lease_id = w.id
       RETURNING a.task_token AS "taskToken", a.workflow_id AS "workflowId", a.run_id AS "runId", a.activity_id AS "activityId",
         a.activity_type AS "activityType", a.attempt, a.rescue_queue AS "rescueQueue", w.id AS "leaseId", w.identity,
         round(extract(epoch FROM now() - w.expires_at) * 1000) AS "expiredForMs"`,
      [graceMs],
    );
    return rows.map((r) => ({ ...r, taskToken: new Uint8Array(r.taskToken), expiredForMs: Number(r.expiredForMs) }));
  }

  /** A round trip, to learn whether the database answers. */
  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  /** Forgets leases expired long ago that list no attempt (their worker is gone for good). */
  async forgetExpired(olderThanMs: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM worker_leases w WHERE w.expires_at < now() - $1 * interval '1 millisecond'
         AND NOT EXISTS (SELECT 1 FROM leased_attempts a WHERE a.lease_id = w.id)`,
      [olderThanMs],
    );
    return rowCount ?? 0;
  }
}
