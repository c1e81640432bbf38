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
   * with FOR UPDATE SKIP LOCKED — several API replicas sweep without handing out a row twice —
   * and hands each to `start`. A row whose start succeeded is marked started in the same
   * transaction; the first failure ends the sweep (Temporal is still away: try later).
   */
  async sweep(
    opts: { minAgeMs: number; limit: number },
    start: (row: PendingStart) => Promise<void>,
  ): Promise<{ started: string[]; failed: number }> {
    const client = await this.pool.connect();
    const started: string[] = [];
    let failed = 0;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<PendingStart>(
        `SELECT id, source, workflow_id AS "workflowId", start_attempts AS "startAttempts" FROM videos
         WHERE start_state = 'pending' AND status = 'queued' AND created_at < now() - make_interval(secs => $1::double precision / 1000)
         ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [opts.minAgeMs, opts.limit],
      );
      for (const row of rows) {
        try {
          await start(row);
        } catch {
          failed++;
          await client.query(`UPDATE videos SET start_attempts = start_attempts + 1 WHERE id = $1`, [row.id]);
          break;
        }
        await client.query(`UPDATE videos SET start_state = 'started', started_at = coalesce(started_at, now()) WHERE id = $1`, [row.id]);
        started.push(row.id);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    return { started, failed };
  }
}
