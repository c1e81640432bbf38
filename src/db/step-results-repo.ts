import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';

type Queryable = Pool | PoolClient;

/** Stable hash of a step's input (object keys sorted, so key order never changes it). */
export function inputHash(input: unknown): string {
  return createHash('sha256').update(stableJson(input)).digest('hex').slice(0, 32);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * What a finished step produced, keyed by (video, step, input hash). A redelivered activity
 * (its work committed, its completion lost) finds its output here and returns it instead of
 * doing the work again. Write it in the same transaction as the step's own writes.
 */
export class StepResultsRepo {
  constructor(private readonly pool: Pool) {}

  async get<T>(videoId: string, step: string, hash: string): Promise<T | undefined> {
    const { rows } = await this.pool.query<{ output: T }>(
      'SELECT output FROM step_results WHERE video_id = $1 AND step = $2 AND input_hash = $3',
      [videoId, step, hash],
    );
    return rows[0]?.output;
  }

  async put(db: Queryable, videoId: string, step: string, hash: string, output: unknown): Promise<void> {
    await db.query(
      `INSERT INTO step_results (video_id, step, input_hash, output) VALUES ($1, $2, $3, $4)
       ON CONFLICT (video_id, step, input_hash) DO UPDATE SET output = EXCLUDED.output`,
      [videoId, step, hash, JSON.stringify(output)],
    );
  }

  /** A compensated step must run again on a re-run, not answer from its undone result. */
  async forget(videoId: string, steps: string[]): Promise<void> {
    await this.pool.query('DELETE FROM step_results WHERE video_id = $1 AND step = ANY($2)', [videoId, steps]);
  }

  async forgetVideo(videoId: string): Promise<void> {
    await this.pool.query('DELETE FROM step_results WHERE video_id = $1', [videoId]);
  }
}
