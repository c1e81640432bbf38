import type { Pool, PoolClient } from 'pg';
import { textSearchConfig, type TranscriptSegment } from '../media/transcript';

type Queryable = Pool | PoolClient;

/** Rows per INSERT: 4 parameters each, far under PostgreSQL's 65,535 parameters. */
const BATCH = 500;

/**
 * The timed transcript of a video in PostgreSQL (table transcript_segments): written by the
 * index saga in the row's transaction, read by GET /videos/:id/transcript and the captions,
 * searched by the full-text half of search. Rows go with the video's row (ON DELETE CASCADE).
 */
export class TranscriptsRepo {
  constructor(private readonly pool: Pool) {}

  /**
   * Replaces the video's segments (a re-analysis replaces them whole). `language` is ISO 639-1;
   * its text-search configuration decides stemming, falling back to 'simple' when this
   * PostgreSQL has none of that name.
   */
  async replace(db: Queryable, videoId: string, segments: readonly TranscriptSegment[], language: string | undefined): Promise<void> {
    await db.query('DELETE FROM transcript_segments WHERE video_id = $1', [videoId]);
    const config = await this.installedConfig(db, textSearchConfig(language));
    for (let from = 0; from < segments.length; from += BATCH) {
      const batch = segments.slice(from, from + BATCH);
      const values: unknown[] = [videoId, language ?? null, config];
      const rows = batch.map((s, i) => {
        values.push(from + i, s.startSec, Math.max(s.startSec, s.endSec), s.text);
        const b = 4 + i * 4;
        return `($1, $${b}, $${b + 1}, $${b + 2}, $${b + 3}, $2, $3::regconfig)`;
      });
      await db.query(
        `INSERT INTO transcript_segments (video_id, seq, start_sec, end_sec, text, language, ts_config) VALUES ${rows.join(', ')}`,
        values,
      );
    }
  }

  /** The segments in time order, and the language they were stored with. */
  async read(videoId: string): Promise<{ language: string | null; segments: TranscriptSegment[] }> {
    const { rows } = await this.pool.query<{ startSec: number; endSec: number; text: string; language: string | null }>(
      `SELECT start_sec AS "startSec", end_sec AS "endSec", text, language FROM transcript_segments
       WHERE video_id = $1 ORDER BY seq`,
      [videoId],
    );
    return { language: rows[0]?.language ?? null, segments: rows.map(({ startSec, endSec, text }) => ({ startSec, endSec, text })) };
  }

  /** The stored language of a video with speech (null: unknown language); undefined when it has no segments. */
  async language(videoId: string): Promise<string | null | undefined> {
    const { rows } = await this.pool.query<{ language: string | null }>(
      'SELECT language FROM transcript_segments WHERE video_id = $1 ORDER BY seq LIMIT 1',
      [videoId],
    );
    return rows.length === 0 ? undefined : (rows[0]?.language ?? null);
  }

  /**
   * `name` when this PostgreSQL has that text-search configuration (the stock ones live in
   * pg_catalog), else 'simple': a lookup, never a cast that fails on an unknown name.
   */
  private async installedConfig(db: Queryable, name: string): Promise<string> {
    const { rows } = await db.query<{ found: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = $1 AND cfgnamespace = 'pg_catalog'::regnamespace) AS found`,
      [name],
    );
    return rows[0]?.found ? name : 'simple';
  }
}
