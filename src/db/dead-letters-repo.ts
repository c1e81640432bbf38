import type { Pool } from 'pg';
import { scrubUrls, storedSource, workflowSource } from '../net/redact';
import type { ProcessVideoInput } from '../workflows/contracts';

export type DeadLetterState = 'open' | 'replayed' | 'discarded';

export interface DeadLetterRow {
  id: string;
  videoId: string;
  workflowId: string;
  runId: string | null;
  step: string;
  errorType: string;
  message: string;
  attempts: number | null;
  failures: number;
  input: ProcessVideoInput | null;
  state: DeadLetterState;
  replayedRunId: string | null;
  firstFailedAt: Date;
  lastFailedAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id::text AS id, video_id AS "videoId", workflow_id AS "workflowId", run_id AS "runId", step,
  error_type AS "errorType", message, attempts, failures, input, state, replayed_run_id AS "replayedRunId",
  first_failed_at AS "firstFailedAt", last_failed_at AS "lastFailedAt", updated_at AS "updatedAt"`;

export interface NewDeadLetter {
  videoId: string;
  workflowId: string;
  runId: string | null;
  step: string;
  errorType: string;
  message: string;
  attempts: number | null;
  input: ProcessVideoInput | null;
}

/**
 * The workflow input as a dead letter keeps it: a URL source only in its redacted and sealed forms
 * (a run started before sealing carried the full URL: it is redacted here, never stored).
 */
function atRest(input: ProcessVideoInput): ProcessVideoInput {
  return { ...input, source: workflowSource(storedSource(input.source)) };
}

/** The dead-letter store, beside the videos repository: every write is one idempotent statement. */
export class DeadLettersRepo {
  constructor(private readonly pool: Pool) {}

  /**
   * Records a failed run. Idempotent for a redelivered recordFailure of the same run (the
   * failure count only grows when the run id changes: a replay that failed again).
   */
  async record(d: NewDeadLetter): Promise<DeadLetterRow> {
    const { rows } = await this.pool.query<DeadLetterRow>(
      `INSERT INTO dead_letters (video_id, workflow_id, run_id, step, error_type, message, attempts, input)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (video_id) DO UPDATE SET workflow_id = EXCLUDED.workflow_id, run_id = EXCLUDED.run_id,
         step = EXCLUDED.step, error_type = EXCLUDED.error_type, message = EXCLUDED.message,
         attempts = EXCLUDED.attempts, input = COALESCE(EXCLUDED.input, dead_letters.input),
         failures = dead_letters.failures + CASE WHEN dead_letters.run_id IS DISTINCT FROM EXCLUDED.run_id THEN 1 ELSE 0 END,
         state = 'open', replayed_run_id = NULL, last_failed_at = now(), updated_at = now()
       RETURNING ${COLUMNS}`,
      [
        d.videoId,
        d.workflowId,
        d.runId,
        d.step,
        d.errorType,
        scrubUrls(d.message).slice(0, 2000),
        d.attempts,
        d.input ? JSON.stringify(atRest(d.input)) : null,
      ],
    );
    return rows[0] as DeadLetterRow;
  }

  async get(id: string): Promise<DeadLetterRow | undefined> {
    if (!/^\d{1,18}$/.test(id)) return undefined;
    const { rows } = await this.pool.query<DeadLetterRow>(`SELECT ${COLUMNS} FROM dead_letters WHERE id = $1`, [id]);
    return rows[0];
  }

  async list(filter: { state?: DeadLetterState; errorType?: string; limit: number; beforeId?: string }): Promise<DeadLetterRow[]> {
    // ORDER BY the table's bigint id: a bare `id` would be the text alias of COLUMNS (…, 2, 11, 10, 1).
    const { rows } = await this.pool.query<DeadLetterRow>(
      `SELECT ${COLUMNS} FROM dead_letters
       WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR error_type = $2)
         AND ($3::bigint IS NULL OR dead_letters.id < $3::bigint)
       ORDER BY dead_letters.id DESC LIMIT $4`,
      [filter.state ?? null, filter.errorType ?? null, filter.beforeId ?? null, filter.limit],
    );
    return rows;
  }

  /** open → replayed, once: a second concurrent replay finds the row no longer open (claimed before the reset). */
  async claimReplay(id: string): Promise<DeadLetterRow | undefined> {
    const { rows } = await this.pool.query<DeadLetterRow>(
      `UPDATE dead_letters SET state = 'replayed', replayed_run_id = NULL, updated_at = now()
       WHERE id = $1 AND state = 'open' RETURNING ${COLUMNS}`,
      [id],
    );
    return rows[0];
  }

  async setReplayedRun(id: string, runId: string): Promise<DeadLetterRow | undefined> {
    const { rows } = await this.pool.query<DeadLetterRow>(
      `UPDATE dead_letters SET replayed_run_id = $2, updated_at = now() WHERE id = $1 AND state = 'replayed' RETURNING ${COLUMNS}`,
      [id, runId],
    );
    return rows[0];
  }

  /** The reset did not happen: give the entry back. */
  async reopen(id: string): Promise<void> {
    await this.pool.query(
      `UPDATE dead_letters SET state = 'open', updated_at = now() WHERE id = $1 AND state = 'replayed' AND replayed_run_id IS NULL`,
      [id],
    );
  }

  async markDiscarded(id: string): Promise<DeadLetterRow | undefined> {
    const { rows } = await this.pool.query<DeadLetterRow>(
      `UPDATE dead_letters SET state = 'discarded', updated_at = now() WHERE id = $1 AND state = 'open' RETURNING ${COLUMNS}`,
      [id],
    );
    return rows[0];
  }
}
