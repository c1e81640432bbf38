/**
 * Port: where embeddings live. LanceDB (embedded, on disk) by default, Qdrant in production.
 * Both adapters pass test/contract/vector-store.contract.ts.
 */

/** Vectors of different analyzers, models or sizes never share a table/collection. */
export interface VectorSpace {
  analyzer: string;
  model: string;
  dim: number;
}

export interface VectorPoint {
  /** The video id. Upserting the same id again replaces the point (idempotent). */
  id: string;
  vector: number[];
  payload: Record<string, unknown>;
}

export interface VectorHit {
  id: string;
  /** Cosine similarity, higher is closer (1 = same direction). */
  score: number;
  payload: Record<string, unknown>;
}

export interface VectorStore {
  /** Human-readable backend name for logs and status ("lancedb", "qdrant"). */
  readonly backend: string;
  upsert(space: VectorSpace, points: VectorPoint[]): Promise<void>;
  /** Returns [] when nothing was ever written to that space. */
  search(space: VectorSpace, vector: number[], limit: number): Promise<VectorHit[]>;
  delete(space: VectorSpace, ids: string[]): Promise<void>;
  close(): Promise<void>;
}

/** A stable, store-safe name for a space: lowercase letters, digits and underscores. */
export function collectionName(space: VectorSpace): string {
  const clean = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '');
  return `videos__${clean(space.analyzer)}__${clean(space.model)}__${space.dim}`;
}
