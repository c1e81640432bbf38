import { connect, Index, type Connection, type Table } from '@lancedb/lancedb';
import { Field, FixedSizeList, Float32, Schema, Utf8 } from 'apache-arrow';
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
  type WriteLock,
} from './port';

export interface LanceDbOptions {
  /**
   * Serialises writes per table across processes (src/db/advisory-lock.ts). Without it only
   * this process's writes are serialised: fine for one writer, wrong for two index workers.
   */
  lock?: WriteLock;
  /** Rows from which `maintain()` builds the ANN index (exact search is fast below it). */
  annThreshold?: number;
  /** Rows written since the index was built above which `maintain()` adds them to it. */
  annMaxUnindexed?: number;
  /** Small (uncompacted) fragments above which `maintain()` compacts the table. */
  maxSmallFragments?: number;
  /** Object-store options of an s3:// location (endpoint, credentials; config/search-index.ts). */
  storageOptions?: Record<string, string>;
}

export interface MaintenanceReport {
  collection: string;
  rows: number;
  /**
   * What was done: nothing, the ANN index built, the index brought up to date (with
   * compaction), or only compaction (many small fragments, no index yet).
   */
  action: 'none' | 'built' | 'optimized' | 'compacted';
  /** Rows a search has to scan exactly: all of them until the index exists. */
  unindexedRows: number;
  /** Name of the ANN index when there is one. */
  index?: string;
}

/**
 * HNSW-SQ queried with ef 100 and refine 5 (the SQ distances re-ranked on the full vectors):
 * recall@10 1.000 vs exact at 10k and 100k in bench/search-ann.ts (synthetic clustered
 * vectors; stack-facts.md measured 0.999), ANN p50 ~6 ms vs exact ~300-360 ms at 100k on
 * the loaded 2-core machine. Without refine, recall dropped to 0.964 on the same data.
 */
const ANN_EF = 100;
const ANN_REFINE = 5;
const ANN_INDEX_NAME = 'vector_idx';
const DEFAULT_ANN_THRESHOLD = 50_000;
/** Brute-forcing this many rows next to the index costs well under a millisecond. */
const DEFAULT_ANN_MAX_UNINDEXED = 1_000;
/**
 * Every merge-insert of a new video appends a fragment; thousands of tiny fragments make
 * every scan and search slow long before the ANN threshold, so maintain() compacts them.
 */
const DEFAULT_MAX_SMALL_FRAGMENTS = 64;
/**
 * Versions older than this are removed when the table is optimized. Readers here reload the
 * latest version on every read, so nothing needs old versions for long; the default (7 days)
 * would keep every compacted-away file, deleted videos' vectors included, for a week.
 */
const KEEP_OLD_VERSIONS_MS = 60 * 60 * 1000;

// indexStats() otherwise warns on every call and copies the index centroids into the answer;
// maintain() needs only the row counts.
process.env.LANCE_INCLUDE_VECTOR_CENTROIDS ??= 'false';

/**
 * Embedded vector store: one LanceDB table per VectorSpace, on local disk or in S3-compatible storage.
 *
 * LanceDB does not enforce key uniqueness: mergeInsert with the same id twice in one batch,
 * or two concurrent mergeInserts of a new id, both leave duplicate rows. So each batch is
 * deduplicated, writes are chained per table inside this process, and across processes they
 * run under the injected WriteLock (a PostgreSQL advisory lock keyed by the table name).
 */
export class LanceDbVectorStore implements VectorStore {
  readonly backend = 'lancedb';

  /** Open or creating tables, memoised so two concurrent first upserts create it once. */
  private readonly tables = new Map<string, Promise<Table>>();
  /** Tail of each chain: a table's writes, and separately its maintenance. */
  private readonly writeTails = new Map<string, Promise<void>>();
  private closed = false;

  private constructor(
    private readonly conn: Connection,
    private readonly opts: LanceDbOptions,
  ) {}

  /** `uri`: a directory, or `s3://bucket/prefix` with `opts.storageOptions` naming the server. */
  static async open(uri: string, opts: LanceDbOptions = {}): Promise<LanceDbVectorStore> {
    // 0 = check for newer table versions on every read: the API process must see what the
    // index worker (another process or host) wrote; the check is a local stat, or one object
    // listing per read on S3.
    const conn = await connect(uri, {
      readConsistencyInterval: 0,
      ...(opts.storageOptions ? { storageOptions: opts.storageOptions } : {}),
    });
    return new LanceDbVectorStore(conn, opts);
  }

  async upsert(space: VectorSpace, points: VectorPoint[]): Promise<void> {
    this.assertOpen();
    if (points.length === 0) return;
    for (const p of points) assertDim(space, p.vector, `point ${JSON.stringify(p.id)}`);
    // Last occurrence wins, matching what sequential upserts would leave.
    const latest = new Map<string, VectorPoint>();
    for (const p of points) latest.set(p.id, p);
    const rows = [...latest.values()].map((p) => ({
      id: p.id,
      vector: p.vector,
      payload: JSON.stringify(p.payload),
    }));
    const name = collectionName(space);
    await this.serialised(name, `lancedb:${name}`, async () => {
      const table = await this.tableForWrite(space);
      await table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows);
    });
  }

  async search(space: VectorSpace, vector: number[], limit: number): Promise<VectorHit[]> {
    this.assertOpen();
    assertDim(space, vector, 'query vector');
    if (limit <= 0) return [];
    const name = collectionName(space);
    const table = await this.existingTable(name);
    if (!table) return [];
    // ef and refineFactor are set always: without an index LanceDB ignores them (the contract
    // test compares that search with exact search), and with one they make it precise. Asking
    // "is there an index?" first would cost a call per search or a stale cache, and a stale
    // "no" would query another process's new index without refinement (recall drops).
    const rows: unknown[] = await table
      .vectorSearch(vector)
      .distanceType('cosine')
      .ef(ANN_EF)
      .refineFactor(ANN_REFINE)
      .select(['id', 'payload', '_distance'])
      .limit(Math.floor(limit))
      .toArray();
    return rows.map(toHit);
  }

  /** Exact (brute-force) search even when an ANN index exists: the bench's ground truth. */
  async searchExact(space: VectorSpace, vector: number[], limit: number): Promise<VectorHit[]> {
    this.assertOpen();
    assertDim(space, vector, 'query vector');
    const table = await this.existingTable(collectionName(space));
    if (!table) return [];
    const rows: unknown[] = await table
      .vectorSearch(vector)
      .distanceType('cosine')
      .bypassVectorIndex()
      .select(['id', 'payload', '_distance'])
      .limit(Math.floor(limit))
      .toArray();
    return rows.map(toHit);
  }

  async delete(space: VectorSpace, ids: string[]): Promise<void> {
    this.assertOpen();
    if (ids.length === 0) return;
    const name = collectionName(space);
    await this.serialised(name, `lancedb:${name}`, async () => {
      const table = await this.existingTable(name);
      if (!table) return;
      await table.delete(`id IN (${sqlList(ids)})`);
    });
  }

  async fetch(space: VectorSpace, ids: string[]): Promise<StoredPoint[]> {
    this.assertOpen();
    if (ids.length === 0) return [];
    const table = await this.existingTable(collectionName(space));
    if (!table) return [];
    const rows: unknown[] = await table
      .query()
      .where(`id IN (${sqlList(ids)})`)
      .select(['id', 'payload'])
      .toArray();
    return rows.map(toStored);
  }

  async scan(space: VectorSpace, page: { cursor?: string; limit: number }): Promise<ScanPage> {
    this.assertOpen();
    const table = await this.existingTable(collectionName(space));
    if (!table) return { points: [] };
    // Keyset paging by id (no ORDER BY in LanceDB queries): take ids after the cursor, sort,
    // keep the first `limit`. Reads only the id column until the page is known.
    const after = page.cursor;
    let q = table.query().select(['id']);
    if (after !== undefined) q = q.where(`id > ${sqlString(after)}`);
    const idRows = (await q.toArray()) as { id: string }[];
    const ids = idRows.map((r) => r.id).sort();
    const chosen = ids.slice(0, page.limit);
    const points = await this.fetch(space, chosen);
    points.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const last = chosen[chosen.length - 1];
    return { points, next: ids.length > page.limit && last !== undefined ? last : undefined };
  }

  /** Rows of a space, duplicates included: what the concurrency test counts. */
  async countRows(space: VectorSpace, filter?: string): Promise<number> {
    const table = await this.existingTable(collectionName(space));
    return table ? table.countRows(filter) : 0;
  }

  async listSpaces(): Promise<VectorSpace[]> {
    this.assertOpen();
    const names = await this.conn.tableNames();
    return names.map(spaceOfCollection).filter((s): s is VectorSpace => s !== undefined);
  }

  /**
   * Builds the ANN index once the table passes the threshold, and keeps it current: rows
   * added after the build stay unindexed (searched by brute force) until optimize(), which
   * also compacts the small fragments every write leaves.
   *
   * Locking: one maintainer per table at a time (its own lock key), so two reconcilers never
   * build the same index twice. Compaction/optimize additionally take the write lock (they
   * rewrite the fragments a merge-insert is changing, and take seconds). The index BUILD does
   * not: it takes up to a minute at 100k rows (bench/search-ann.ts), which would stall every
   * upsertVector (1 min start-to-close) behind it, and LanceDB commits an index next to
   * concurrent writes (rows written meanwhile are simply unindexed until the next optimize).
   * test/integration/lancedb-concurrency.test.ts runs maintenance beside two writer processes;
   * test/contract/lancedb.test.ts commits updates and new ids during a build.
   */
  async maintain(
    space: VectorSpace,
    opts: { annThreshold?: number; maxUnindexed?: number; maxSmallFragments?: number } = {},
  ): Promise<MaintenanceReport> {
    this.assertOpen();
    const collection = collectionName(space);
    const threshold = opts.annThreshold ?? this.opts.annThreshold ?? DEFAULT_ANN_THRESHOLD;
    const maxUnindexed = opts.maxUnindexed ?? this.opts.annMaxUnindexed ?? DEFAULT_ANN_MAX_UNINDEXED;
    const maxSmall = opts.maxSmallFragments ?? this.opts.maxSmallFragments ?? DEFAULT_MAX_SMALL_FRAGMENTS;
    if (!(await this.existingTable(collection))) return { collection, rows: 0, action: 'none', unindexedRows: 0 };
    return this.serialised(`maintain:${collection}`, `lancedb-maintain:${collection}`, async () => {
      const table = await this.tableForWrite(space);
      const optimize = () =>
        this.serialised(collection, `lancedb:${collection}`, () =>
          table.optimize({ cleanupOlderThan: new Date(Date.now() - KEEP_OLD_VERSIONS_MS) }),
        );
      const rows = await table.countRows();
      const vectorIndex = (await table.listIndices()).find((i) => i.columns.includes('vector'));
      const small = (await table.stats()).fragmentStats.numSmallFragments;
      if (!vectorIndex) {
        if (rows < threshold) {
          if (small <= maxSmall) return { collection, rows, action: 'none', unindexedRows: rows };
          await optimize();
          return { collection, rows, action: 'compacted', unindexedRows: rows };
        }
        // Compact first: the index is then built over a few large fragments.
        if (small > maxSmall) await optimize();
        await table.createIndex('vector', {
          config: Index.hnswSq({ distanceType: 'cosine' }),
          name: ANN_INDEX_NAME,
          replace: true,
          waitTimeoutSeconds: 600,
        });
        const built = await table.indexStats(ANN_INDEX_NAME);
        return { collection, rows, action: 'built', unindexedRows: built?.numUnindexedRows ?? 0, index: ANN_INDEX_NAME };
      }
      const stats = await table.indexStats(vectorIndex.name);
      const unindexed = stats?.numUnindexedRows ?? 0;
      if (unindexed <= maxUnindexed && small <= maxSmall) {
        return { collection, rows, action: 'none', unindexedRows: unindexed, index: vectorIndex.name };
      }
      // optimize() compacts files and adds the new rows to the index (incrementally, no retrain).
      await optimize();
      const after = await table.indexStats(vectorIndex.name);
      return { collection, rows, action: 'optimized', unindexedRows: after?.numUnindexedRows ?? 0, index: vectorIndex.name };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Let queued writes land before the handles go away.
    await Promise.allSettled([...this.writeTails.values()]);
    const tables = await Promise.allSettled([...this.tables.values()]);
    for (const t of tables) if (t.status === 'fulfilled' && t.value.isOpen()) t.value.close();
    this.tables.clear();
    if (this.conn.isOpen()) this.conn.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('LanceDbVectorStore is closed');
  }

  /**
   * Runs fn after every earlier call on the chain `name` has settled, under the cross-process
   * lock `lockKey` (writes of a table: `lancedb:<table>`, its maintenance: `lancedb-maintain:<table>`).
   */
  private serialised<T>(name: string, lockKey: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.writeTails.get(name) ?? Promise.resolve();
    const locked = () => (this.opts.lock ? this.opts.lock.withLock(lockKey, fn) : fn());
    const run: Promise<T> = prev.then(locked);
    // The chain must survive a failed write, or one error would block the table forever.
    const tail: Promise<void> = run.then(
      () => undefined,
      () => undefined,
    );
    this.writeTails.set(name, tail);
    void tail.then(() => {
      if (this.writeTails.get(name) === tail) this.writeTails.delete(name);
    });
    return run;
  }

  private tableForWrite(space: VectorSpace): Promise<Table> {
    const name = collectionName(space);
    let pending = this.tables.get(name);
    if (!pending) {
      // existOk: the table may already be on disk from an earlier run or another process.
      pending = this.conn.createEmptyTable(name, schemaFor(space.dim), { mode: 'create', existOk: true });
      this.remember(name, pending);
    }
    return pending;
  }

  /** The table if it exists; never creates one, so reads leave no empty tables behind. */
  private async existingTable(name: string): Promise<Table | undefined> {
    const pending = this.tables.get(name);
    if (pending) return pending;
    // One table per space keeps this list short; a miss is not cached, so a table another
    // process creates later is found on the next search.
    if (!(await this.conn.tableNames()).includes(name)) return undefined;
    // Re-check: a concurrent upsert may have registered the table while we listed.
    const raced = this.tables.get(name);
    if (raced) return raced;
    const opened = this.conn.openTable(name);
    this.remember(name, opened);
    return opened;
  }

  private remember(name: string, pending: Promise<Table>): void {
    this.tables.set(name, pending);
    // A failed open/create must not be cached, so the next call retries.
    pending.catch(() => {
      if (this.tables.get(name) === pending) this.tables.delete(name);
    });
  }
}

function schemaFor(dim: number): Schema {
  // Explicit schema: inference from JS rows picks Float64 lists and cannot express the
  // fixed dimension LanceDB needs for vector search.
  return new Schema([
    new Field('id', new Utf8(), false),
    new Field('vector', new FixedSizeList(dim, new Field('item', new Float32(), true)), false),
    new Field('payload', new Utf8(), false),
  ]);
}

/** Ids go into SQL filters: quote and escape them (a video id with a quote must not break out). */
function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function sqlList(ids: string[]): string {
  return ids.map(sqlString).join(', ');
}

function toHit(row: unknown): VectorHit {
  if (typeof row !== 'object' || row === null) throw new Error('LanceDB returned a non-object row');
  const r = row as { id?: unknown; payload?: unknown; _distance?: unknown };
  if (typeof r.id !== 'string' || typeof r.payload !== 'string' || typeof r._distance !== 'number') {
    throw new Error('LanceDB returned a row without id, payload or _distance');
  }
  return { id: r.id, score: 1 - r._distance, payload: parsePayload(r.payload) };
}

function toStored(row: unknown): StoredPoint {
  const r = row as { id?: unknown; payload?: unknown };
  if (typeof r.id !== 'string' || typeof r.payload !== 'string') throw new Error('LanceDB returned a row without id or payload');
  return { id: r.id, payload: parsePayload(r.payload) };
}

function parsePayload(json: string): Record<string, unknown> {
  const value: unknown = JSON.parse(json);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
