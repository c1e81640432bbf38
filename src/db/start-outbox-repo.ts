import type { Pool } from 'pg';
import type { VideoSource } from '../workflows/contracts';

export interface PendingStart {
  id: string;
  source: VideoSource;
  workflowId: string;
  startAttempts: number;
}

/**
 * The `videos` row doubles as the outbox of workflow starts (migration 1764500000000): a row is
 * `pending` until Temporal has accepted its start. Whoever starts it (the POST, a client retry,
 * the API's sweeper) marks it `started`; the start itself is idempotent per workflow id, so a
 * race between them yields one run.
 */
export class StartOutboxRepo {
  constructor(private readonly pool: Pool) {}

  async markStarted(videoId: string): Promise<void> {
    await this.pool.query(
      `UPDATE videos SET start_state = 'started', started_at = coalesce(started_at, now())
       WHERE id = $1 AND start_state = 'pending'`,
      [videoId],
    );
  }

  async startState(videoId: string): Promise<'pending' | 'started' | undefined> {
    const { rows } = await this.pool.query<{ s: 'pending' | 'started' }>(`SELECT start_state AS s FROM videos WHERE id = $1`, [videoId]);
    return rows[0]?.s;
  }

  async countPending(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM videos WHERE start_state = 'pending'`);
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Claims up to `limit` pending rows older than `minAgeMs` (so an in-flight POST is not raced)
   * by taking a short lease under FOR UPDATE SKIP LOCKED — several API replicas sweep without
   * handing out a row twice, and no row lock is held while Temporal is called — then hands each to
   * `start`, which marks the row started. The first failure ends the sweep (Temporal is still
   * away: the remaining leases are released and the rows are tried again later).
   */
  async sweep(
    opts: { minAgeMs: number; limit: number; leaseMs?: number },
    start: (row: PendingStart) => Promise<void>,
  ): Promise<{ started: string[]; failed: number }> {
    const { rows } = await this.pool.query<PendingStart>(
      `UPDATE videos SET start_lease_until = now() + make_interval(secs => $3::double precision / 1000),
         start_attempts = start_attempts + 1
       WHERE id IN (
         SELECT id FROM videos
         WHERE start_state = 'pending' AND status = 'queued' AND deleted_at IS NULL
           AND created_at < now() - make_interval(secs => $1::double precision / 1000)
           AND (start_lease_until IS NULL OR start_lease_until < now())
         ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING id, source, workflow_id AS "workflowId", start_attempts AS "startAttempts"`,
      [opts.minAgeMs, opts.limit, opts.leaseMs ?? 30_000],
    );
    const started: string[] = [];
    let failed = 0;
    for (const [i, row] of rows.entries()) {
      try {
        await start(row);
        started.push(row.id);
      } catch {
        failed++;
        const unstarted = rows.slice(i).map((r) => r.id);
        await this.pool.query(`UPDATE videos SET start_lease_until = NULL WHERE id = ANY($1) AND start_state = 'pending'`, [unstarted]);
        break;
      }
    }
    return { started, failed };
  }
}
