/**
 * Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): an item's fused score is
 * Σ 1/(k + rank) over the lists that hold it (rank 1-based). It uses only positions, so a
 * cosine similarity and a ts_rank (scales that share nothing) need no calibration, and an item
 * both lists rank well beats one that tops a single list.
 *
 * k = 60: the constant of the paper, found robust across collections and kept by
 * Elasticsearch, OpenSearch and Azure AI Search as their default. A small k lets the top of a
 * single list dominate (k = 0: the first of one list scores 1, an item third in both only
 * 0.67); a large k flattens every rank towards the same score. At 60 the first of one list
 * (1/61 ≈ 0.016) loses to an item 30th in both (2/90 ≈ 0.022): agreement between the text and
 * the semantic half counts most, which is the point of hybrid search, while within one list
 * the top ranks still differ enough (1/61 vs 1/70) to order the single-list hits.
 */
export const RRF_K = 60;

export interface FusedItem {
  id: string;
  /** Σ 1/(k + rank) over the lists holding it. */
  score: number;
  /** 1-based position in each input list, null where absent (same order as the lists). */
  ranks: (number | null)[];
}

/**
 * Fuses ranked lists of ids (best first). Duplicates within one list count at their first
 * position. Ties (same fused score) go to the item with the better single best rank, then by
 * id, so the order is deterministic.
 */
export function reciprocalRankFusion(lists: readonly (readonly string[])[], k = RRF_K): FusedItem[] {
  if (!(k >= 0) || !Number.isFinite(k)) throw new RangeError(`k must be a finite number >= 0, got ${k}`);
  const items = new Map<string, FusedItem>();
  lists.forEach((list, li) => {
    list.forEach((id, i) => {
      let item = items.get(id);
      if (!item) {
        item = { id, score: 0, ranks: lists.map(() => null) };
        items.set(id, item);
      }
      if (item.ranks[li] !== null) return;
      item.ranks[li] = i + 1;
      item.score += 1 / (k + i + 1);
    });
  });
  const best = (f: FusedItem) => Math.min(...f.ranks.map((r) => r ?? Infinity));
  return [...items.values()].sort((a, b) => b.score - a.score || best(a) - best(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The best score `lists` lists can give (first in all): divides a fused score into 0..1. */
export function maxFusedScore(lists: number, k = RRF_K): number {
  return lists / (k + 1);
}
