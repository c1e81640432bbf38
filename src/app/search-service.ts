import type { Analyzer } from '../adapters/analyzer/port';
import { collectionName, type VectorStore } from '../adapters/vector-store/port';
import type { SearchFilters, VideoIndexRepo } from '../db/video-index-repo';

export interface SearchRequest extends SearchFilters {
  q: string;
  limit: number;
  offset: number;
}

export interface SearchResult {
  videoId: string;
  score: number;
  summary: string | null;
  tags: string[];
  durationSec: number | null;
  createdAt: string;
  /** API URLs of the media (never server paths). */
  thumbnail: string | null;
  rendition: string | null;
}

export interface SearchPage {
  analyzer: string;
  model: string;
  offline: boolean;
  collection: string;
  offset: number;
  limit: number;
  /** Offset of the next page, or null when this is the last. */
  nextOffset: number | null;
  results: SearchResult[];
}

/** Nearest neighbours fetched at most per query: deeper pages than this are not offered. */
const MAX_CANDIDATES = 1_000;

/**
 * Semantic search: the query is embedded by the analyzer whose collection is
 * searched (same analyzer, model and dimension — another model's vectors mean nothing here),
 * the nearest points are joined with their rows, and only rows that are fully indexed, not
 * deleted and match every filter come back. Filters apply after the vector search, so it
 * widens its candidate set until the page is full or the collection is exhausted.
 */
export class SearchService {
  private readonly rows: VideoIndexRepo;

  constructor(private readonly deps: { videoIndex: VideoIndexRepo; analyzer: Analyzer; vectorStore: VectorStore }) {
    this.rows = deps.videoIndex;
  }

  async search(req: SearchRequest): Promise<SearchPage> {
    const { analyzer, vectorStore } = this.deps;
    const vector = await analyzer.embedQuery(req.q);
    const space = { analyzer: analyzer.name, model: analyzer.model, dim: vector.length };
    const want = req.offset + req.limit + 1; // +1 tells whether a next page exists
    let k = Math.min(MAX_CANDIDATES, Math.max(20, want * 3));
    let matched: SearchResult[] = [];
    for (;;) {
      const hits = await vectorStore.search(space, vector, k);
      const rows = await this.rows.searchable(
        hits.map((h) => h.id),
        req,
      );
      matched = hits.flatMap((h) => {
        const r = rows.get(h.id);
        if (!r) return [];
        return [
          {
            videoId: h.id,
            score: Math.round(h.score * 10_000) / 10_000,
            summary: r.summary,
            tags: r.tags,
            durationSec: r.durationSec,
            createdAt: r.createdAt.toISOString(),
            thumbnail: r.thumbnailPath ? `/videos/${h.id}/thumbnail.jpg` : null,
            rendition: r.renditionPath ? `/videos/${h.id}/rendition.mp4` : null,
          },
        ];
      });
      if (matched.length >= want || hits.length < k || k >= MAX_CANDIDATES) break;
      k = Math.min(MAX_CANDIDATES, k * 4);
    }
    const results = matched.slice(req.offset, req.offset + req.limit);
    return {
      analyzer: analyzer.name,
      model: analyzer.model,
      offline: analyzer.offline,
      collection: collectionName(space),
      offset: req.offset,
      limit: req.limit,
      nextOffset: matched.length > req.offset + req.limit ? req.offset + req.limit : null,
      results,
    };
  }
}
