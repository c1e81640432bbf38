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

/** A stored point without its vector: what the reconciler compares with the main DB. */
export interface StoredPoint {
  id: string;
  payload: Record<string, unknown>;
}

export interface ScanPage {
  points: StoredPoint[];
  /** Pass back to get the next page; absent on the last page. */
  next?: string;
}

export interface VectorStore {
  /** Human-readable backend name for logs and status ("lancedb", "qdrant"). */
  readonly backend: string;
  /** Idempotent by id; duplicate ids in one batch leave one point (the last one). */
  upsert(space: VectorSpace, points: VectorPoint[]): Promise<void>;
  /** Returns [] when nothing was ever written to that space. */
  search(space: VectorSpace, vector: number[], limit: number): Promise<VectorHit[]>;
  /** Deleting ids that are not there (or a space never written) is a no-op. */
  delete(space: VectorSpace, ids: string[]): Promise<void>;
  /** The points among `ids` that exist (payload only). */
  fetch(space: VectorSpace, ids: string[]): Promise<StoredPoint[]>;
  /** Pages through every point of a space; the cursor is opaque. */
  scan(space: VectorSpace, page: { cursor?: string; limit: number }): Promise<ScanPage>;
  /** Every space that holds (or held) points. */
  listSpaces(): Promise<VectorSpace[]>;
  /** Backend housekeeping (LanceDB: build/refresh the ANN index); Qdrant indexes by itself. */
  maintain?(space: VectorSpace): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Serialises writes to one table/collection across processes. The embedded LanceDB needs it
 * (two concurrent merge-inserts of a new id both insert); see src/db/advisory-lock.ts.
 */
export interface WriteLock {
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** Every adapter checks vectors against their space the same way. */
export function assertDim(space: VectorSpace, vector: number[], what: string): void {
  if (vector.length !== space.dim) {
    throw new Error(`${what} has ${vector.length} dimensions but space ${collectionName(space)} expects ${space.dim}`);
  }
}

/** Inverse of collectionName for names it produced (cleaned parts never contain "__"). */
export function spaceOfCollection(name: string): VectorSpace | undefined {
  const m = /^videos__([a-z0-9_]+?)__([a-z0-9_]+)__(\d+)$/.exec(name);
  if (!m || !m[1] || !m[2] || !m[3]) return undefined;
  return { analyzer: m[1], model: m[2], dim: Number(m[3]) };
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
