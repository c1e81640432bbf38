import type { Pool } from 'pg';
import { ROW_STATUSES } from '../contracts/product-status';

/** One row of the newest-first video list (what the dashboard and `biblio list` show). */
export interface VideoListRow {
  id: string;
  workflowId: string;
  status: string;
  durationSec: number | null;
  width: number | null;
  height: number | null;
  summary: string | null;
  tags: string[];
  thumbnailPath: string | null;
  renditionPath: string | null;
  errorType: string | null;
  errorMessage: string | null;
  failedStep: string | null;
  /** 'delayed' = ready on a stand-in analysis (re-analyse it); null before the index step. */
  analysisState: string | null;
  createdAt: Date;
}

/** The list's filters: a row state, or `delayed` (ready, on a stand-in analysis: what `biblio reanalyze --delayed` takes). */
export const LIST_STATUSES = [...ROW_STATUSES, 'delayed'] as const;
export type ListStatus = (typeof LIST_STATUSES)[number];

export interface ListCursor {
  createdAt: string;
  id: string;
}

export function encodeCursor(c: ListCursor): string {
  return Buffer.from(JSON.stringify([c.createdAt, c.id])).toString('base64url');
}

export function decodeCursor(s: string): ListCursor | undefined {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string' && !Number.isNaN(Date.parse(v[0]))) {
      return { createdAt: v[0], id: v[1] };
    }
  } catch {
    // fall through
  }
  return undefined;
}

/**
 * Keyset pagination (created_at DESC, id DESC): stable while new uploads arrive, unlike OFFSET.
 * Reads one extra row to know whether there is a next page.
 */
export async function listVideos(
  pool: Pool,
  o: { limit: number; status?: ListStatus; cursor?: ListCursor },
): Promise<{ rows: VideoListRow[]; next: ListCursor | null }> {
  const params: unknown[] = [];
  // Deleted (tombstoned) videos are never listed, even while their deletion saga runs.
  const where: string[] = ['deleted_at IS NULL'];
  if (o.status === 'delayed') {
    where.push(`status = 'ready' AND analysis_state = 'delayed'`);
  } else if (o.status) {
    params.push(o.status);
    where.push(`status = $${params.length}`);
  }
  if (o.cursor) {
    params.push(o.cursor.createdAt, o.cursor.id);
    where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length})`);
  }
  params.push(o.limit + 1);
  const { rows } = await pool.query<VideoListRow>(
    `SELECT id, workflow_id AS "workflowId", status, duration_sec AS "durationSec", width, height, summary, tags,
       thumbnail_path AS "thumbnailPath", rendition_path AS "renditionPath",
       error_type AS "errorType", error_message AS "errorMessage", failed_step AS "failedStep", analysis_state AS "analysisState", created_at AS "createdAt"
     FROM videos WHERE ${where.join(' AND ')}
     ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  const page = rows.slice(0, o.limit);
  const last = page[page.length - 1];
  return { rows: page, next: rows.length > o.limit && last ? { createdAt: last.createdAt.toISOString(), id: last.id } : null };
}

/** Where a video's published files are (for streaming them), or undefined for an unknown id. */
export async function mediaPaths(
  pool: Pool,
  id: string,
): Promise<{ renditionPath: string | null; thumbnailPath: string | null; status: string } | undefined> {
  const { rows } = await pool.query<{ renditionPath: string | null; thumbnailPath: string | null; status: string }>(
    `SELECT rendition_path AS "renditionPath", thumbnail_path AS "thumbnailPath", status FROM videos WHERE id = $1 AND deleted_at IS NULL`,
    [id],
  );
  return rows[0];
}
