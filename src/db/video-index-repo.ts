import type { Pool, PoolClient } from 'pg';
import type { AnalysisState, AnalyzeOutput, TranscodeOutput, VideoSource } from '../workflows/contracts';
import { storedSource } from '../net/redact';
import type { RowStatus } from '../contracts/product-status';
import { searchableConditions } from './search-filters';

type Queryable = Pool | PoolClient;

/** What the reconciler and the deletion saga need of a row. */
export interface IndexRowState {
  id: string;
  workflowId: string;
  status: RowStatus;
  source: VideoSource;
  searchable: boolean;
  deleted: boolean;
  updatedAt: Date;
  analyzer: string | null;
  model: string | null;
  dim: number | null;
  embeddingPath: string | null;
  renditionPath: string | null;
  thumbnailPath: string | null;
  summary: string | null;
  tags: string[];
}

const STATE_COLUMNS = `id, workflow_id AS "workflowId", status, source, searchable_at IS NOT NULL AS searchable,
  deleted_at IS NOT NULL AS deleted, updated_at AS "updatedAt", analyzer, model, dim, embedding_path AS "embeddingPath",
  rendition_path AS "renditionPath", thumbnail_path AS "thumbnailPath", summary, tags`;

export interface SearchFilters {
  status?: 'ready';
  minDurationSec?: number;
  maxDurationSec?: number;
  createdFrom?: Date;
  createdTo?: Date;
  /** Every tag must be present. */
  tags?: string[];
}

export interface SearchableRow {
  id: string;
  summary: string | null;
  tags: string[];
  durationSec: number | null;
  thumbnailPath: string | null;
  renditionPath: string | null;
  createdAt: Date;
}

/**
 * The index saga's view of the `videos` table: the row is written first and made
 * searchable last; search, reconciler and deletion read it through here. Kept apart from
 * VideosRepo so the saga's rules (searchable_at, deleted_at) live in one place.
 */
export class VideoIndexRepo {
  constructor(private readonly pool: Pool) {}

  /**
   * Saga step 1: the row with everything the index step knows, not yet searchable. A row a
   * compensation marked failed becomes queued again, so a replay after recovery can finish it.
   * A ready video being re-indexed (its delayed analysis arrived, a re-analysis) stays ready and
   * searchable meanwhile: hiding it until the new point lands would make a finished video vanish
   * from search for a moment while its status says complete.
   * Returns false for a deleted (tombstoned) video, which is never written again.
   */
  async writeIndexRow(
    db: Queryable,
    video: { id: string; source: VideoSource; workflowId: string },
    media: TranscodeOutput,
    analysis: AnalyzeOutput,
    collection: string,
    analysisState: AnalysisState = analysis.degraded ? 'delayed' : 'complete',
  ): Promise<boolean> {
    const res = await db.query(
      `INSERT INTO videos (id, source, workflow_id, status, rendition_path, thumbnail_path, duration_sec,
         width, height, summary, tags, analyzer, model, dim, offline_analysis, vector_collection, embedding_path,
         analysis_state, media)
       VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
       ON CONFLICT (id) DO UPDATE SET status = CASE WHEN videos.status = 'ready' THEN 'ready' ELSE 'queued' END,
         rendition_path = $4, thumbnail_path = $5, duration_sec = $6, width = $7, height = $8, summary = $9,
         tags = $10, analyzer = $11, model = $12, dim = $13, offline_analysis = $14, vector_collection = $15,
         embedding_path = $16, analysis_state = $17, media = $18,
         searchable_at = CASE WHEN videos.status = 'ready' THEN videos.searchable_at END, error_type = NULL,
         error_message = NULL, failed_step = NULL, updated_at = now()
       WHERE videos.deleted_at IS NULL`,
      [
        video.id,
        JSON.stringify(storedSource(video.source)),
        video.workflowId,
        media.renditionPath,
        media.thumbnailPath,
        media.rendition.durationSec,
        media.rendition.width,
        media.rendition.height,
        analysis.summary,
        analysis.tags,
        analysis.analyzer,
        analysis.model,
        analysis.dim,
        analysis.offline,
        collection,
        analysis.embeddingPath,
        analysisState,
        JSON.stringify(media),
      ],
    );
    return res.rowCount === 1;
  }

  /** Saga's last step: both stores hold the video now. Never revives a deleted row. */
  async markSearchable(id: string): Promise<boolean> {
    const res = await this.pool.query(
      `UPDATE videos SET status = 'ready', searchable_at = now(), error_type = NULL, error_message = NULL,
         failed_step = NULL, updated_at = now()
       WHERE id = $1 AND deleted_at IS NULL`,
      [id],
    );
    return res.rowCount === 1;
  }

  /** Compensation of step 1 when the vector write failed for good: not searchable, failed at index. */
  async unmarkIndexed(id: string, errorType: string, message: string): Promise<void> {
    await this.pool.query(
      `UPDATE videos SET searchable_at = NULL, status = 'failed', failed_step = 'index', error_type = $2,
         error_message = $3, updated_at = now()
       WHERE id = $1`,
      [id, errorType, message.slice(0, 2000)],
    );
  }

  async state(id: string): Promise<IndexRowState | undefined> {
    const { rows } = await this.pool.query<IndexRowState>(`SELECT ${STATE_COLUMNS} FROM videos WHERE id = $1`, [id]);
    return rows[0];
  }

  /** Deletion step 1: search and GET stop showing the video at once. */
  async tombstone(id: string): Promise<IndexRowState | undefined> {
    const { rows } = await this.pool.query<IndexRowState>(
      `UPDATE videos SET deleted_at = COALESCE(deleted_at, now()), searchable_at = NULL, updated_at = now()
       WHERE id = $1 RETURNING ${STATE_COLUMNS}`,
      [id],
    );
    return rows[0];
  }

  /**
   * Deletion's last step: the row goes (only a tombstoned one), with its dead-letter entry. The usage ledger stays: it is billing history.
   */
  async purge(id: string): Promise<boolean> {
    const res = await this.pool.query(
      `WITH gone AS (DELETE FROM videos WHERE id = $1 AND deleted_at IS NOT NULL RETURNING id),
         dl AS (DELETE FROM dead_letters WHERE video_id IN (SELECT id FROM gone))
       SELECT count(*)::int AS n FROM gone`,
      [id],
    );
    return (res.rows[0] as { n: number }).n === 1;
  }

  /** Keyset page over all rows, for the reconciler. */
  async page(afterId: string | undefined, limit: number): Promise<IndexRowState[]> {
    const { rows } = await this.pool.query<IndexRowState>(
      `SELECT ${STATE_COLUMNS} FROM videos WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2`,
      [afterId ?? null, limit],
    );
    return rows;
  }

  async states(ids: string[]): Promise<Map<string, IndexRowState>> {
    if (ids.length === 0) return new Map();
    const { rows } = await this.pool.query<IndexRowState>(`SELECT ${STATE_COLUMNS} FROM videos WHERE id = ANY($1)`, [ids]);
    return new Map(rows.map((r) => [r.id, r]));
  }

  /** Failed, not deleted rows last touched before `before`: their inputs fall under retention. */
  async failedBefore(before: Date, limit: number): Promise<IndexRowState[]> {
    const { rows } = await this.pool.query<IndexRowState>(
      `SELECT ${STATE_COLUMNS} FROM videos WHERE status = 'failed' AND deleted_at IS NULL AND updated_at < $1
       ORDER BY updated_at LIMIT $2`,
      [before, limit],
    );
    return rows;
  }

  /** How many live rows still use a source path (a shared input file is kept while any does). */
  async liveUsersOfPath(path: string, exceptId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM videos WHERE source->>'kind' = 'file' AND source->>'path' = $1 AND id <> $2
       AND deleted_at IS NULL AND status <> 'failed'`,
      [path, exceptId],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Fully indexed, not deleted rows among `ids` that match the filters. */
  async searchable(ids: string[], f: SearchFilters): Promise<Map<string, SearchableRow>> {
    if (ids.length === 0) return new Map();
    const args: unknown[] = [ids];
    const where = [`id = ANY($1)`, ...searchableConditions('', f, args)];
    const { rows } = await this.pool.query<SearchableRow>(
      `SELECT id, summary, tags, duration_sec AS "durationSec", thumbnail_path AS "thumbnailPath",
         rendition_path AS "renditionPath", created_at AS "createdAt"
       FROM videos WHERE ${where.join(' AND ')}`,
      args,
    );
    return new Map(rows.map((r) => [r.id, r]));
  }
}
