import type { Analyzer } from '../adapters/analyzer/port';
import { collectionName, type VectorStore } from '../adapters/vector-store/port';
import type { TextSearchRepo } from '../db/text-search-repo';
import type { SearchableRow, SearchFilters, VideoIndexRepo } from '../db/video-index-repo';
import { mergeMoments } from './merge-moments';
import { maxFusedScore, reciprocalRankFusion } from './rank-fusion';

/** hybrid (default): both halves fused; vector or text: one half alone (comparisons, debugging). */
export type SearchMode = 'hybrid' | 'vector' | 'text';

export interface SearchRequest extends SearchFilters {
  q: string;
  limit: number;
  offset: number;
  mode?: SearchMode;
}

/** A stretch of the video where the query is said (transcript) or shown (keyframe). */
export interface SearchMoment {
  startSec: number;
  endSec: number;
  /** The words of the moment: the transcript segment, or the keyframe's description. */
  text: string;
  source: 'transcript' | 'keyframe';
}

export interface SearchResult {
  videoId: string;
  /**
   * 0..1, higher is better: the fused reciprocal-rank score divided by the best one possible
   * (first in every list searched), so 1 = first in both halves.
   */
  score: number;
  summary: string | null;
  tags: string[];
  durationSec: number | null;
  createdAt: string;
  /** API URLs of the media (never server paths). */
  thumbnail: string | null;
  rendition: string | null;
  /** Where in the video the query is: best first; [] when only the video as a whole matched. */
  moments: SearchMoment[];
  /** 1-based position in each half's ranking; null when that half did not find it (or was not searched). */
  ranks: { vector: number | null; text: number | null };
}

export interface SearchPage {
  analyzer: string;
  model: string;
  offline: boolean;
  /** The vector collection searched; null in text mode (no query embedding is made). */
  collection: string | null;
  mode: SearchMode;
  offset: number;
  limit: number;
  /** Offset of the next page, or null when this is the last. */
  nextOffset: number | null;
  results: SearchResult[];
}

/** Nearest neighbours fetched at most per query: deeper pages than this are not offered. */
const MAX_CANDIDATES = 1_000;
/**
 * How deep each half ranks before fusion (Elasticsearch's rank_window_size idea): an item just
 * past the page in both halves can outscore one that tops a single half (see rank-fusion.ts),
 * so each half looks well past the page.
 */
const RANK_WINDOW = 100;
/** Moments shown per video (said and shown together). */
const MOMENTS_PER_VIDEO = 3;

/**
 * Hybrid search. The semantic half: the query is embedded by the analyzer whose collection is
 * searched (same analyzer, model and dimension — another model's vectors mean nothing here)
 * and the nearest points are joined with their rows. The text half: PostgreSQL full-text over
 * the transcript segments, the keyframe descriptions and the title/tags/summary, each in its
 * own language's configuration (src/db/text-search-repo.ts). Both keep only rows that are fully
 * indexed, not deleted and match every filter; the two rankings are fused by reciprocal rank
 * (rank-fusion.ts). Each hit carries its best moments: the transcript segments (said) and the
 * keyframes (shown) whose words hold the query's, merged best first (merge-moments.ts).
 *
 * Keyframe moments come from the AI analyzer's answer, which describes each keyframe it was sent
 * in a line (src/adapters/analyzer/shots.ts); the index saga stores them in keyframe_moments. The
 * offline analyzer sees no pictures, so its videos have spoken moments only. What is shown is
 * matched by words, not by an embedding per keyframe: one vector per video stays the semantic half.
 */
export class SearchService {
  private readonly rows: VideoIndexRepo;

  constructor(
    private readonly deps: { videoIndex: VideoIndexRepo; textSearch: TextSearchRepo; analyzer: Analyzer; vectorStore: VectorStore },
  ) {
    this.rows = deps.videoIndex;
  }

  async search(req: SearchRequest): Promise<SearchPage> {
    const { analyzer, textSearch } = this.deps;
    const mode = req.mode ?? 'hybrid';
    const want = req.offset + req.limit + 1; // +1 tells whether a next page exists
    const depth = Math.min(MAX_CANDIDATES, Math.max(RANK_WINDOW, want));
    const [semantic, text] = await Promise.all([
      mode === 'text' ? undefined : this.semantic(req, depth),
      mode === 'vector' ? [] : textSearch.rank(req.q, req, depth),
    ]);
    const vectorHits = semantic?.hits ?? [];
    const known = new Map<string, SearchableRow>();
    for (const r of [...vectorHits, ...text]) known.set(r.id, r);
    const lists = mode === 'hybrid' ? [vectorHits, text] : mode === 'vector' ? [vectorHits] : [text];
    const fused = reciprocalRankFusion(lists.map((l) => l.map((r) => r.id)));
    const best = maxFusedScore(lists.length);
    const page = fused.slice(req.offset, req.offset + req.limit);
    const moments = await textSearch.moments(
      req.q,
      page.map((f) => f.id),
      MOMENTS_PER_VIDEO,
    );
    const rankIn = (f: (typeof fused)[number], half: 'vector' | 'text'): number | null => {
      const i = mode === 'hybrid' ? (half === 'vector' ? 0 : 1) : mode === half ? 0 : -1;
      return i < 0 ? null : (f.ranks[i] ?? null);
    };
    const results = page.map((f): SearchResult => {
      const r = known.get(f.id)!;
      return {
        videoId: f.id,
        score: Math.round((f.score / best) * 10_000) / 10_000,
        summary: r.summary,
        tags: r.tags,
        durationSec: r.durationSec,
        createdAt: r.createdAt.toISOString(),
        thumbnail: r.thumbnailPath ? `/videos/${f.id}/thumbnail.jpg` : null,
        rendition: r.renditionPath ? `/videos/${f.id}/rendition.mp4` : null,
        moments: mergeMoments(moments.get(f.id) ?? [], MOMENTS_PER_VIDEO).map((m) => ({
          startSec: m.startSec,
          endSec: m.endSec,
          text: m.text,
          source: m.source,
        })),
        ranks: { vector: rankIn(f, 'vector'), text: rankIn(f, 'text') },
      };
    });
    return {
      analyzer: analyzer.name,
      model: analyzer.model,
      offline: analyzer.offline,
      collection: semantic?.collection ?? null,
      mode,
      offset: req.offset,
      limit: req.limit,
      nextOffset: fused.length > req.offset + req.limit ? req.offset + req.limit : null,
      results,
    };
  }

  /**
   * The `depth` nearest searchable videos, nearest first. Filters apply after the vector
   * search, so it widens its candidate set until enough rows pass or the collection is exhausted.
   */
  private async semantic(req: SearchRequest, depth: number): Promise<{ hits: SearchableRow[]; collection: string }> {
    const { analyzer, vectorStore } = this.deps;
    const vector = await analyzer.embedQuery(req.q);
    const space = { analyzer: analyzer.name, model: analyzer.model, dim: vector.length };
    let k = Math.min(MAX_CANDIDATES, Math.max(20, depth * 3));
    let matched: SearchableRow[] = [];
    for (;;) {
      const hits = await vectorStore.search(space, vector, k);
      const rows = await this.rows.searchable(
        hits.map((h) => h.id),
        req,
      );
      matched = hits.flatMap((h) => rows.get(h.id) ?? []);
      if (matched.length >= depth || hits.length < k || k >= MAX_CANDIDATES) break;
      k = Math.min(MAX_CANDIDATES, k * 4);
    }
    return { hits: matched.slice(0, depth), collection: collectionName(space) };
  }
}
