import type { Pool, PoolClient } from 'pg';
import type { Shot } from '../workflows/contracts';

type Queryable = Pool | PoolClient;

/**
 * What a video shows, per keyframe (table keyframe_moments): written by the index saga in the
 * row's transaction, searched by the full-text half of search. Rows go with the video's row
 * (ON DELETE CASCADE). Few per video (one per keyframe sent to the model): one INSERT.
 */
export const KeyframeMomentsRepo = {
  /** Replaces the video's keyframe descriptions (a re-analysis replaces them whole; none: cleared). */
  async replace(db: Queryable, videoId: string, shots: readonly Shot[]): Promise<void> {
    await db.query('DELETE FROM keyframe_moments WHERE video_id = $1', [videoId]);
    if (shots.length === 0) return;
    const values: unknown[] = [videoId];
    const rows = [...shots]
      .sort((a, b) => a.atSec - b.atSec)
      .map((s, i) => {
        values.push(i, s.atSec, s.description);
        const b = 2 + i * 3;
        return `($1, $${b}, $${b + 1}, $${b + 2})`;
      });
    await db.query(`INSERT INTO keyframe_moments (video_id, seq, at_sec, description) VALUES ${rows.join(', ')}`, values);
  },

  /** The video's keyframe descriptions in time order. */
  async read(db: Queryable, videoId: string): Promise<Shot[]> {
    const { rows } = await db.query<Shot>('SELECT at_sec AS "atSec", description FROM keyframe_moments WHERE video_id = $1 ORDER BY seq', [
      videoId,
    ]);
    return rows;
  },
};
