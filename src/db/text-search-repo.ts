import type { Pool } from 'pg';
import { searchableConditions } from './search-filters';
import type { SearchFilters, SearchableRow } from './video-index-repo';

/** A video the full-text half found, best first. */
export interface TextHit extends SearchableRow {
  /** ts_rank of its best transcript segment, plus its best keyframe description's, plus its title/tags/summary's. */
  rank: number;
}

/** A timed stretch of a video that matches the query: a transcript segment (said) or a keyframe's description (shown). */
export interface TextMoment {
  videoId: string;
  startSec: number;
  endSec: number;
  /** The segment's words, or the keyframe's description. */
  text: string;
  source: 'transcript' | 'keyframe';
  /** Every word of the query is in it (else only some are: a moment of a semantic hit). */
  exact: boolean;
  /** ts_rank against the query's OR form: orders moments of both sources (src/app/merge-moments.ts). */
  rank: number;
}

/**
 * A keyframe's moment lasts until the next keyframe; the last one this long (both bounded by
 * the video's duration). The picker takes a keyframe at a scene cut or a window's start, so
 * what follows it is the same shot at least for a moment.
 */
export const LAST_KEYFRAME_MOMENT_SEC = 5;

/**
 * The query as a tsquery in every text-search configuration PostgreSQL has: a transcript
 * segment is matched with the query parsed by its own language's configuration (stemming
 * "running" → "run" in English, "Brücken" → "bruck" in German). `any_q` ORs the distinct forms
 * into one tsquery: the GIN index is probed once with it (a superset), then each row is checked
 * against its own configuration's form. (Joining the 29 forms to the table instead makes the
 * planner scan the table, or probe the index once per configuration.) `tq_any` is a form's
 * words joined by OR (phrases kept), for the moments of a video the semantic half found; a query
 * with a negation keeps its AND form there (OR with "not x" would match almost everything).
 */
const QUERY_CTE = `q AS (
  SELECT t.cfg, t.tq,
    CASE WHEN position('!' in t.tq::text) > 0 THEN t.tq ELSE replace(t.tq::text, ' & ', ' | ')::tsquery END AS tq_any
  FROM (SELECT c.oid::regconfig AS cfg, websearch_to_tsquery(c.oid::regconfig, $1) AS tq FROM pg_ts_config c) t
),
any_q AS (SELECT string_agg(DISTINCT '(' || tq::text || ')', ' | ')::tsquery AS tq FROM q WHERE tq::text <> '')`;

/**
 * ts_rank weights {D, C, B, A}. Segment text carries the default weight D; counting it like
 * the summary (B, 0.4) keeps a spoken match comparable with a match in the video's description
 * instead of a quarter of it.
 */
const SEGMENT_WEIGHTS = `'{0.4, 0.2, 0.4, 1.0}'`;

/**
 * PostgreSQL full-text search over what videos say (transcript_segments), what they show
 * (keyframe_moments) and what they are (title, tags, summary: videos.text_tsv). Only fully
 * indexed, ready, not deleted rows that match the filters come back (the same conditions as the
 * semantic half).
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
         FROM (SELECT video_id, tsv, ts_config FROM transcript_segments WHERE tsv @@ (SELECT tq FROM any_q) OFFSET 0) s
           JOIN q ON q.cfg = s.ts_config AND s.tsv @@ q.tq
         GROUP BY s.video_id
       ),
       -- What is shown counts like what is said: a video found only by a keyframe's description ranks.
       shot AS (
         SELECT k.video_id, max(ts_rank(${SEGMENT_WEIGHTS}, k.tsv, q.tq)) AS rank
         FROM (SELECT video_id, tsv, ts_config FROM keyframe_moments WHERE tsv @@ (SELECT tq FROM any_q) OFFSET 0) k
           JOIN q ON q.cfg = k.ts_config AND k.tsv @@ q.tq
         GROUP BY k.video_id
       ),
       meta AS (
         SELECT v.id AS video_id, ts_rank(v.text_tsv, q.tq) AS rank
         FROM (SELECT id, text_tsv, text_config FROM videos WHERE text_tsv @@ (SELECT tq FROM any_q) OFFSET 0) v
           JOIN q ON q.cfg = v.text_config AND v.text_tsv @@ q.tq
       ),
       -- One row per video (a UNION ALL and a sum, not outer joins of the three: their row
       -- estimates are guesses, and a wrong one made the planner compare every pair).
       scored AS (
         SELECT video_id, sum(rank)::float8 AS rank
         FROM (SELECT video_id, rank FROM seg UNION ALL SELECT video_id, rank FROM shot UNION ALL SELECT video_id, rank FROM meta) parts
         GROUP BY video_id
       )
       SELECT v.id, v.summary, v.tags, v.duration_sec AS "durationSec", v.thumbnail_path AS "thumbnailPath",
         v.rendition_path AS "renditionPath", v.created_at AS "createdAt", scored.rank
       FROM scored JOIN videos v ON v.id = scored.video_id
       WHERE ${where.join(' AND ')}
       ORDER BY scored.rank DESC, v.id
       LIMIT $2`,
      args,
    );
    return rows;
  }

  /**
   * Up to `perVideo` moments of each video from each source: transcript segments and keyframe
   * descriptions holding every query word first (best ranked first), then those holding some of
   * them. The caller merges the two sources (src/app/merge-moments.ts). A video matched only by
   * meaning may have none.
   */
  async moments(q: string, videoIds: string[], perVideo: number): Promise<Map<string, TextMoment[]>> {
    const out = new Map<string, TextMoment[]>();
    if (videoIds.length === 0) return out;
    const { rows } = await this.pool.query<TextMoment>(
      `WITH ${QUERY_CTE},
       said AS (
         SELECT s.video_id, s.start_sec, s.end_sec, s.text, s.tsv @@ q.tq AS exact, ts_rank(s.tsv, q.tq_any) AS rank,
           row_number() OVER (PARTITION BY s.video_id
             ORDER BY s.tsv @@ q.tq DESC, ts_rank(s.tsv, q.tq_any) DESC, s.seq) AS n
         FROM q JOIN transcript_segments s ON s.ts_config = q.cfg AND s.tsv @@ q.tq_any
         WHERE s.video_id = ANY($2)
       ),
       -- Every keyframe of these videos, before matching: a moment ends at the next keyframe.
       frames AS (
         SELECT k.video_id, k.seq, k.at_sec, k.description, k.tsv, k.ts_config,
           least(coalesce(lead(k.at_sec) OVER (PARTITION BY k.video_id ORDER BY k.at_sec, k.seq), k.at_sec + $4),
             coalesce(v.duration_sec, 'Infinity'::float8)) AS end_sec
         FROM keyframe_moments k JOIN videos v ON v.id = k.video_id
         WHERE k.video_id = ANY($2)
       ),
       shown AS (
         SELECT f.video_id, f.at_sec AS start_sec, greatest(f.end_sec, f.at_sec) AS end_sec, f.description AS text,
           f.tsv @@ q.tq AS exact, ts_rank(f.tsv, q.tq_any) AS rank,
           row_number() OVER (PARTITION BY f.video_id
             ORDER BY f.tsv @@ q.tq DESC, ts_rank(f.tsv, q.tq_any) DESC, f.seq) AS n
         FROM q JOIN frames f ON f.ts_config = q.cfg AND f.tsv @@ q.tq_any
       )
       SELECT video_id AS "videoId", start_sec AS "startSec", end_sec AS "endSec", text, 'transcript' AS source, exact,
         rank::float8 AS rank
       FROM said WHERE n <= $3
       UNION ALL
       SELECT video_id, start_sec, end_sec, text, 'keyframe', exact, rank::float8
       FROM shown WHERE n <= $3`,
      [q, videoIds, perVideo, LAST_KEYFRAME_MOMENT_SEC],
    );
    for (const r of rows) {
      const list = out.get(r.videoId) ?? [];
      list.push(r);
      out.set(r.videoId, list);
    }
    return out;
  }
}
