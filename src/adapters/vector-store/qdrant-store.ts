import { createHash } from 'node:crypto';
import { QdrantClient } from '@qdrant/js-client-rest';
import type { QdrantConfig } from '../../config';
import {
  assertDim,
  collectionName,
  spaceOfCollection,
  type ScanPage,
  type StoredPoint,
  type VectorHit,
  type VectorPoint,
  type VectorSpace,
  type VectorStore,
} from './port';

/** Payload key holding the caller's id: Qdrant point ids must be UUIDs or unsigned ints. */
export const ORIGINAL_ID_KEY = '_id';

/**
 * Production vector store: one Qdrant collection per VectorSpace. Qdrant upserts by point
 * id, so the deterministic id -> UUID mapping is what makes re-upserting idempotent.
 */
export class QdrantVectorStore implements VectorStore {
  readonly backend = 'qdrant';

  private readonly client: QdrantClient;
  /** Collections known to exist, memoised so concurrent first upserts create once. */
  private readonly ensured = new Map<string, Promise<void>>();

  constructor(cfg: QdrantConfig) {
    // The server and client versions move independently; the check only adds a request
    // and a warning at start-up, and the endpoints used here are long-stable.
    this.client = new QdrantClient({ url: cfg.url, apiKey: cfg.apiKey, checkCompatibility: false });
  }

  async upsert(space: VectorSpace, points: VectorPoint[]): Promise<void> {
    if (points.length === 0) return;
    for (const p of points) {
      assertDim(space, p.vector, `point ${JSON.stringify(p.id)}`);
      if (ORIGINAL_ID_KEY in p.payload) {
        throw new Error(`payload key ${ORIGINAL_ID_KEY} is reserved by the Qdrant vector store`);
      }
    }
    // Last occurrence wins, matching what sequential upserts would leave; Qdrant would
    // do the same, but not documented as guaranteed within one batch.
    const latest = new Map<string, VectorPoint>();
    for (const p of points) latest.set(p.id, p);
    const name = collectionName(space);
    await this.ensureCollection(name, space.dim);
    await this.client.upsert(name, {
      wait: true,
      points: [...latest.values()].map((p) => ({
        id: pointId(p.id),
        vector: p.vector,
        payload: { ...p.payload, [ORIGINAL_ID_KEY]: p.id },
      })),
    });
  }

  async search(space: VectorSpace, vector: number[], limit: number): Promise<VectorHit[]> {
    assertDim(space, vector, 'query vector');
    if (limit <= 0) return [];
    try {
      const res = await this.client.query(collectionName(space), {
        query: vector,
        limit: Math.floor(limit),
        with_payload: true,
      });
      return res.points.map(toHit);
    } catch (err) {
      if (statusOf(err) === 404) return [];
      throw err;
    }
  }

  async delete(space: VectorSpace, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      await this.client.delete(collectionName(space), { wait: true, points: ids.map(pointId) });
    } catch (err) {
      // Nothing was ever written to this space, so there is nothing to delete.
      if (statusOf(err) === 404) return;
      throw err;
    }
  }

  async fetch(space: VectorSpace, ids: string[]): Promise<StoredPoint[]> {
    if (ids.length === 0) return [];
    try {
      const points = await this.client.retrieve(collectionName(space), { ids: ids.map(pointId), with_payload: true, with_vector: false });
      return points.map((p) => toStored(p));
    } catch (err) {
      if (statusOf(err) === 404) return [];
      throw err;
    }
  }

  async scan(space: VectorSpace, page: { cursor?: string; limit: number }): Promise<ScanPage> {
    try {
      const res = await this.client.scroll(collectionName(space), {
        limit: page.limit,
        offset: page.cursor,
        with_payload: true,
        with_vector: false,
      });
      const next = res.next_page_offset;
      return { points: res.points.map((p) => toStored(p)), next: next === null || next === undefined ? undefined : String(next) };
    } catch (err) {
      if (statusOf(err) === 404) return { points: [] };
      throw err;
    }
  }

  async listSpaces(): Promise<VectorSpace[]> {
    const { collections } = await this.client.getCollections();
    return collections.map((c) => spaceOfCollection(c.name)).filter((s): s is VectorSpace => s !== undefined);
  }

  async close(): Promise<void> {
    // The client exposes no way to close its pooled HTTP connections; idle ones expire
    // after its keep-alive timeout (10 s).
    this.ensured.clear();
  }

  private ensureCollection(name: string, dim: number): Promise<void> {
    let pending = this.ensured.get(name);
    if (!pending) {
      pending = this.createIfMissing(name, dim);
      this.ensured.set(name, pending);
      // Do not cache a failure, so a transient error is retried on the next upsert.
      pending.catch(() => {
        if (this.ensured.get(name) === pending) this.ensured.delete(name);
      });
    }
    return pending;
  }

  private async createIfMissing(name: string, dim: number): Promise<void> {
    const { exists } = await this.client.collectionExists(name);
    if (exists) return;
    try {
      await this.client.createCollection(name, { vectors: { size: dim, distance: 'Cosine' } });
    } catch (err) {
      // Another process (or replica of this service) won the race: that is the goal anyway.
      if (isAlreadyExists(err)) return;
      throw err;
    }
  }
}

/** A stable UUID for any string id: the same id always addresses the same point. */
export function pointId(id: string): string {
  const h = createHash('sha256').update(id, 'utf8').digest();
  // Mark it as an RFC 4122 name-based UUID (version 5 bits, variant 10xx) so strict
  // parsers accept it.
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

interface ScoredPointLike {
  id: string | number;
  score: number;
  payload?: Record<string, unknown> | null;
}

function toHit(point: ScoredPointLike): VectorHit {
  const { [ORIGINAL_ID_KEY]: original, ...payload } = point.payload ?? {};
  // Points written by this adapter always carry the original id; fall back for any other.
  const id = typeof original === 'string' ? original : String(point.id);
  return { id, score: point.score, payload };
}

function toStored(point: { id: string | number; payload?: Record<string, unknown> | null }): StoredPoint {
  const { id, payload } = toHit({ id: point.id, score: 0, payload: point.payload });
  return { id, payload };
}

/** HTTP status of a client error (the client throws ApiError, which carries `status`). */
function statusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'status' in err) {
    const { status } = err as { status: unknown };
    if (typeof status === 'number') return status;
  }
  return undefined;
}

function isAlreadyExists(err: unknown): boolean {
  // Qdrant answers 409 in current versions and 400 "already exists" in older ones.
  if (statusOf(err) === 409) return true;
  const data = typeof err === 'object' && err !== null && 'data' in err ? (err as { data: unknown }).data : undefined;
  const text = `${err instanceof Error ? err.message : ''} ${JSON.stringify(data ?? null)}`;
  return /already exists/i.test(text);
}
