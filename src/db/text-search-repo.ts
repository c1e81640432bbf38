import type { Pool } from 'pg';
import { searchableConditions } from './search-filters';
import type { SearchFilters, SearchableRow } from './video-index-repo';

/** A video the full-text half found, best first. */
export interface TextHit extends SearchableRow {
  /** ts_rank of its best transcript segment plus that of its title/tags/summary. */
  rank: number;
}

/** A timed stretch of a video's transcript that matches the query. */
export interface TranscriptMoment {
  videoId: string;
  startSec: number;
  endSec: number;
  text: string;
  /** Every word of the query is in it (else only some are: a moment of a semantic hit). */
  exact: boolean;
}

/**
 * The query as a tsquery in every text-search configuration PostgreSQL has: a transcript
 * segment is matched with the query parsed by its own language's configuration (stemming
 * "running" → "run" in English, "laufen" → "lauf" in German), and the join on the
 * configuration lets the GIN index serve each one. `tq_any` is the same words joined by OR
 * (phrases kept), for the moments of a video the semantic half found; a query with a negation
 * keeps its AND form there (OR with "not x" would match almost everything).
 */
const QUERY_CTE = `q AS (
  SELECT t.cfg, t.tq,
    CASE WHEN position('!' in t.tq::text) > 0 THEN t.tq ELSE replace(t.tq::text, ' & ', ' | ')::tsquery END AS tq_any
  FROM (SELECT c.oid::regconfig AS cfg, websearch_to_tsquery(c.oid::regconfig, $1) AS tq FROM pg_ts_config c) t
)`;

/**
 * ts_rank weights {D, C, B, A}. Segment text carries the default weight D; counting it like
 * the summary (B, 0.4) keeps a spoken match comparable with a match in the video's description
 * instead of a quarter of it.
 */
const SEGMENT_WEIGHTS = `'{0.4, 0.2, 0.4, 1.0}'`;

/**
 * PostgreSQL full-text search over what videos say (transcript_segments) and what they are
 * (title, tags, summary: videos.text_tsv). Only fully indexed, ready, not deleted rows that
 * match the filters come back (the same conditions as the semantic half).
 */
export class TextSearchRepo {
  constructor(private readonly pool: Pool) {}

  async rank(q: string, f: SearchFilters, limit: number): Promise<TextHit[]> {
    const args: unknown[] = [q, limit];
    const where = searchableConditions('v', f, args);
    const { rows } = await this.pool.query<TextHit>(
      `WITH ${QUERY_CTE},
       seg AS (
         SELECT s.video_id, max(ts_rank(${SEGMENT_WEIGHTS}, s.tsv, q.tq)) AS rank
         FROM q JOIN transcript_segments s ON s.ts_config = q.cfg AND s.tsv @@ q.tq
         GROUP BY s.video_id
       ),
       meta AS (
         SELECT v.id AS video_id, ts_rank(v.text_tsv, q.tq) AS rank
         FROM q JOIN videos v ON v.text_config = q.cfg AND v.text_tsv @@ q.tq
       ),
       found AS (SELECT video_id FROM seg UNION SELECT video_id FROM meta)
       SELECT v.id, v.summary, v.tags, v.duration_sec AS "durationSec", v.thumbnail_path AS "thumbnailPath",
         v.rendition_path AS "renditionPath", v.created_at AS "createdAt",
         (coalesce(seg.rank, 0) + coalesce(meta.rank, 0))::float8 AS rank
       FROM found JOIN videos v ON v.id = found.video_id
         LEFT JOIN seg ON seg.video_id = v.id LEFT JOIN meta ON meta.video_id = v.id
       WHERE ${where.join(' AND ')}
       ORDER BY rank DESC, v.id
       LIMIT $2`,
      args,
    );
    return rows;
  }

  /**
   * Up to `perVideo` moments of each video: segments holding every query word first (best
   * ranked first), then segments holding some of them. A video matched only by meaning may
   * have none.
   */
  async moments(q: string, videoIds: string[], perVideo: number): Promise<Map<string, TranscriptMoment[]>> {
    const out = new Map<string, TranscriptMoment[]>();
    if (videoIds.length === 0) return out;
    const { rows } = await this.pool.query<TranscriptMoment>(
      `WITH ${QUERY_CTE},
       m AS (
         SELECT s.video_id, s.start_sec, s.end_sec, s.text, s.tsv @@ q.tq AS exact,
           row_number() OVER (PARTITION BY s.video_id
             ORDER BY s.tsv @@ q.tq DESC, ts_rank(s.tsv, q.tq_any) DESC, s.seq) AS n
         FROM q JOIN transcript_segments s ON s.ts_config = q.cfg AND s.tsv @@ q.tq_any
         WHERE s.video_id = ANY($2)
       )
       SELECT video_id AS "videoId", start_sec AS "startSec", end_sec AS "endSec", text, exact
       FROM m WHERE n <= $3 ORDER BY video_id, n`,
      [q, videoIds, perVideo],
    );
    for (const r of rows) {
      const list = out.get(r.videoId) ?? [];
      list.push(r);
      out.set(r.videoId, list);
    }
    return out;
  }
}
