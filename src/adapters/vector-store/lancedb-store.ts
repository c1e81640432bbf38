import { connect, type Connection, type Table } from '@lancedb/lancedb';
import { Field, FixedSizeList, Float32, Schema, Utf8 } from 'apache-arrow';
import { collectionName, type VectorHit, type VectorPoint, type VectorSpace, type VectorStore } from './port';

/**
 * Embedded vector store: one LanceDB table per VectorSpace, on local disk.
 *
 * LanceDB does not enforce key uniqueness: mergeInsert with the same id twice in one batch,
 * or two concurrent mergeInserts of a new id, both leave duplicate rows. So each batch is
 * deduplicated and every write to a table goes through a per-table promise chain.
 * Cross-process writers to the same directory are not serialised; one indexing worker
 * per data directory is the supported set-up.
 */
export class LanceDbVectorStore implements VectorStore {
  readonly backend = 'lancedb';

  /** Open or creating tables, memoised so two concurrent first upserts create it once. */
  private readonly tables = new Map<string, Promise<Table>>();
  /** Tail of the write chain of each table. */
  private readonly writeTails = new Map<string, Promise<void>>();
  private closed = false;

  private constructor(private readonly conn: Connection) {}

  static async open(dir: string): Promise<LanceDbVectorStore> {
    // 0 = check for newer table versions on every read: the API process must see what the
    // index worker (another process) wrote, and the check is a cheap local stat.
    const conn = await connect(dir, { readConsistencyInterval: 0 });
    return new LanceDbVectorStore(conn);
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
    await this.serialised(name, async () => {
      const table = await this.tableForWrite(space);
      await table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows);
    });
  }

  async search(space: VectorSpace, vector: number[], limit: number): Promise<VectorHit[]> {
    this.assertOpen();
    assertDim(space, vector, 'query vector');
    if (limit <= 0) return [];
    const table = await this.existingTable(collectionName(space));
    if (!table) return [];
    const rows: unknown[] = await table
      .vectorSearch(vector)
      .distanceType('cosine')
      .select(['id', 'payload', '_distance'])
      .limit(Math.floor(limit))
      .toArray();
    return rows.map(toHit);
  }

  async delete(space: VectorSpace, ids: string[]): Promise<void> {
    this.assertOpen();
    if (ids.length === 0) return;
    const name = collectionName(space);
    await this.serialised(name, async () => {
      const table = await this.existingTable(name);
      if (!table) return;
      const list = ids.map((id) => `'${id.replace(/'/g, "''")}'`).join(', ');
      await table.delete(`id IN (${list})`);
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

  /** Runs fn after every earlier write to the same table has settled. */
  private serialised(name: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.writeTails.get(name) ?? Promise.resolve();
    const run = prev.then(fn);
    // The chain must survive a failed write, or one error would block the table forever.
    const tail = run.catch(() => undefined);
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

function assertDim(space: VectorSpace, vector: number[], what: string): void {
  if (vector.length !== space.dim) {
    throw new Error(`${what} has ${vector.length} dimensions but space ${collectionName(space)} expects ${space.dim}`);
  }
}

function toHit(row: unknown): VectorHit {
  if (typeof row !== 'object' || row === null) throw new Error('LanceDB returned a non-object row');
  const r = row as { id?: unknown; payload?: unknown; _distance?: unknown };
  if (typeof r.id !== 'string' || typeof r.payload !== 'string' || typeof r._distance !== 'number') {
    throw new Error('LanceDB returned a row without id, payload or _distance');
  }
  return { id: r.id, score: 1 - r._distance, payload: parsePayload(r.payload) };
}

function parsePayload(json: string): Record<string, unknown> {
  const value: unknown = JSON.parse(json);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
