import type { Pool } from 'pg';
import { storedSource } from '../net/redact';
import type { AnalysisState, Chapter, PipelineStep, TranscodeOutput, VideoSource } from '../workflows/contracts';
import type { RowStatus } from '../contracts/product-status';

export interface VideoRow {
  id: string;
  source: VideoSource;
  workflowId: string;
  status: RowStatus;
  renditionPath: string | null;
  thumbnailPath: string | null;
  durationSec: number | null;
  width: number | null;
  height: number | null;
  summary: string | null;
  tags: string[];
  analyzer: string | null;
  model: string | null;
  dim: number | null;
  offlineAnalysis: boolean | null;
  vectorCollection: string | null;
  errorType: string | null;
  errorMessage: string | null;
  failedStep: string | null;
  /** Null until the index step wrote the row (or for rows of before the column). */
  analysisState?: AnalysisState | null;
  /** The media step's output, kept for a re-analysis after the run ended. */
  media?: TranscodeOutput | null;
  /** Snapped and bounded (src/media/chapters.ts); null when none. */
  chapters?: Chapter[] | null;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, source, workflow_id AS "workflowId", status, rendition_path AS "renditionPath",
  thumbnail_path AS "thumbnailPath", duration_sec AS "durationSec", width, height, summary, tags,
  analyzer, model, dim, offline_analysis AS "offlineAnalysis", vector_collection AS "vectorCollection",
  error_type AS "errorType", error_message AS "errorMessage", failed_step AS "failedStep",
  analysis_state AS "analysisState", media, chapters, created_at AS "createdAt", updated_at AS "updatedAt"`;

export class VideosRepo {
  constructor(private readonly pool: Pool) {}

  /** Inserts the row unless the id exists; `created` tells the caller which happened. */
  async claim(id: string, source: VideoSource, workflowId: string): Promise<{ created: boolean; row: VideoRow }> {
    const inserted = await this.pool.query<VideoRow>(
      `INSERT INTO videos (id, source, workflow_id) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`,
      [id, JSON.stringify(storedSource(source)), workflowId],
    );
    if (inserted.rows[0]) return { created: true, row: inserted.rows[0] };
    // Deleted (tombstoned) rows too: the id is still taken until the deletion finishes.
    const existing = (await this.pool.query<VideoRow>(`SELECT ${COLUMNS} FROM videos WHERE id = $1`, [id])).rows[0];
    if (!existing) throw new Error(`video ${id} vanished between insert and read`);
    return { created: false, row: existing };
  }

  /** Whether any row has this id, deleted (tombstoned) ones included: the id is taken. */
  async exists(id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM videos WHERE id = $1', [id]);
    return (rowCount ?? 0) > 0;
  }

  async get(id: string): Promise<VideoRow | undefined> {
    const { rows } = await this.pool.query<VideoRow>(`SELECT ${COLUMNS} FROM videos WHERE id = $1 AND deleted_at IS NULL`, [id]);
    return rows[0];
  }

  async markFailed(
    video: { id: string; source: VideoSource; workflowId: string },
    step: PipelineStep,
    errorType: string,
    message: string,
  ): Promise<void> {
    await this.pool.query(
      `INSERT INTO videos (id, source, workflow_id, status, failed_step, error_type, error_message)
       VALUES ($1, $2, $3, 'failed', $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET status = 'failed', failed_step = $4, error_type = $5,
         error_message = $6, updated_at = now()`,
      [video.id, JSON.stringify(storedSource(video.source)), video.workflowId, step, errorType, message.slice(0, 2000)],
    );
  }
}
