import type { Pool, PoolClient } from 'pg';
import type { Chapter } from '../workflows/contracts';

type Queryable = Pool | PoolClient;

/**
 * The chapters of a video, kept on its row (`videos.chapters`, a small JSON list): written by the
 * index saga in the row's transaction, so they come and go with the row (deletion purges it).
 */
export const ChaptersRepo = {
  /** Replaces the video's chapters; an empty list is stored as none. */
  async write(db: Queryable, videoId: string, chapters: readonly Chapter[]): Promise<void> {
    await db.query('UPDATE videos SET chapters = $2 WHERE id = $1 AND deleted_at IS NULL', [
      videoId,
      chapters.length ? JSON.stringify(chapters) : null,
    ]);
  },

  /** The chapters of a video that is not deleted, with its duration; undefined when there is no such video. */
  async read(db: Queryable, videoId: string): Promise<{ chapters: Chapter[]; durationSec: number | null; status: string } | undefined> {
    const { rows } = await db.query<{ chapters: Chapter[] | null; durationSec: number | null; status: string }>(
      'SELECT chapters, duration_sec AS "durationSec", status FROM videos WHERE id = $1 AND deleted_at IS NULL',
      [videoId],
    );
    const row = rows[0];
    return row && { chapters: row.chapters ?? [], durationSec: row.durationSec, status: row.status };
  },
};
