import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connect } from '@lancedb/lancedb';
import { LanceDbVectorStore } from '../../src/adapters/vector-store/lancedb-store';
import { collectionName } from '../../src/adapters/vector-store/port';
import { clusteredVectors, recallAtK } from '../support/synthetic-vectors';
import { vectorStoreContract } from './vector-store.contract';

let dir: string | undefined;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'biblio-lancedb-contract-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

vectorStoreContract('lancedb', async () => {
  if (!dir) throw new Error('temp dir not created');
  // A subdirectory that does not exist yet: the store must create it, as it does on first run.
  return LanceDbVectorStore.open(path.join(dir, 'lancedb'));
});

// LanceDB-only: the ANN index maintain() builds past the threshold and keeps current. Small
// numbers (threshold 300) so it runs in seconds; bench/search-ann.ts measures 10k and 100k.
describe('LanceDB ANN index maintenance', () => {
  const DIM = 384;
  const THRESHOLD = 300;
  const space = { analyzer: 'ann', model: 'synthetic', dim: DIM };
  const data = clusteredVectors({ dim: DIM, topics: 8, subtopics: 6, seed: 17 });
  let store: LanceDbVectorStore;
  let annDir: string;

  const points = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, k) => ({ id: `v${from + k}`, vector: data.vector(from + k), payload: { n: from + k } }));

  /** Writes one small batch at a time, as index workers do (one fragment per write). */
  async function write(from: number, to: number, batch = 25): Promise<void> {
    for (let i = from; i < to; i += batch) await store.upsert(space, points(i, Math.min(to, i + batch)));
  }

  /** What is on disk, read with LanceDB itself rather than through the adapter. */
  async function onDisk(): Promise<{ indexTypes: string[]; rows: number; smallFragments: number }> {
    const conn = await connect(annDir);
    try {
      const table = await conn.openTable(collectionName(space));
      const indices = (await table.listIndices()).filter((i) => i.columns.includes('vector'));
      const stats = await table.stats();
      const rows = await table.countRows();
      table.close();
      return { indexTypes: indices.map((i) => i.indexType), rows, smallFragments: stats.fragmentStats.numSmallFragments };
    } finally {
      conn.close();
    }
  }

  async function meanRecall(queries: number): Promise<number> {
    let sum = 0;
    for (let j = 0; j < queries; j++) {
      const q = data.query(j);
      const ann = (await store.search(space, q, 10)).map((h) => h.id);
      const exact = (await store.searchExact(space, q, 10)).map((h) => h.id);
      expect(exact).toHaveLength(10);
      sum += recallAtK(ann, exact);
    }
    return sum / queries;
  }

  beforeAll(async () => {
    if (!dir) throw new Error('temp dir not created');
    annDir = path.join(dir, 'ann');
    store = await LanceDbVectorStore.open(annDir, { annThreshold: THRESHOLD, annMaxUnindexed: 50, maxSmallFragments: 4 });
  });

  afterAll(async () => {
    await store?.close();
  });

  test('below the threshold: no index, small fragments compacted, search is exact', async () => {
    await write(0, 250);
    expect((await onDisk()).smallFragments).toBeGreaterThan(4);
    const report = await store.maintain(space);
    expect(report).toMatchObject({ action: 'compacted', rows: 250, unindexedRows: 250 });
    const after = await onDisk();
    expect(after.indexTypes).toEqual([]);
    expect(after.smallFragments).toBeLessThanOrEqual(1);
    expect(after.rows).toBe(250);
    // Without an index, search (with its ef/refine settings) must be exact search.
    for (let j = 0; j < 5; j++) {
      const q = data.query(j);
      expect((await store.search(space, q, 10)).map((h) => h.id)).toEqual((await store.searchExact(space, q, 10)).map((h) => h.id));
    }
  });

  test('past the threshold: maintain() builds an HNSW index and search keeps recall@10 ≥ 0.95', async () => {
    await write(250, 400);
    const report = await store.maintain(space);
    expect(report).toMatchObject({ action: 'built', rows: 400, unindexedRows: 0 });
    const disk = await onDisk();
    expect(disk.indexTypes).toHaveLength(1);
    expect(disk.indexTypes[0]).toMatch(/hnsw/i);
    const recall = await meanRecall(30);
    console.log(`ANN recall@10 vs exact at 400 rows: ${recall.toFixed(3)}`);
    expect(recall).toBeGreaterThanOrEqual(0.95);
    // A second call has nothing to do.
    expect(await store.maintain(space)).toMatchObject({ action: 'none', unindexedRows: 0 });
  });

  test('rows added later are searchable at once and join the index on the next maintain()', async () => {
    await write(400, 600);
    // Unindexed rows are brute-forced next to the index: a new point is its own nearest hit.
    const [hit] = await store.search(space, data.vector(590), 1);
    expect(hit?.id).toBe('v590');
    const report = await store.maintain(space);
    expect(report).toMatchObject({ action: 'optimized', rows: 600, unindexedRows: 0 });
    expect((await onDisk()).rows).toBe(600);
    const recall = await meanRecall(30);
    console.log(`ANN recall@10 vs exact at 600 rows after optimize: ${recall.toFixed(3)}`);
    expect(recall).toBeGreaterThanOrEqual(0.95);
  });

  test('deleted and re-upserted points behave the same with the index', async () => {
    await store.delete(space, ['v10']);
    expect((await store.search(space, data.vector(10), 5)).map((h) => h.id)).not.toContain('v10');
    // Upserting an indexed id again (payload changed) leaves one point, not two.
    await store.upsert(space, [{ id: 'v20', vector: data.vector(20), payload: { n: 20, rev: 2 } }]);
    const hits = (await store.search(space, data.vector(20), 5)).filter((h) => h.id === 'v20');
    expect(hits).toHaveLength(1);
    expect(hits[0]?.payload).toEqual({ n: 20, rev: 2 });
    expect((await onDisk()).rows).toBe(599);
  });
});

// maintain() builds the index without the write lock (a build takes up to a minute at 100k
// rows); this proves LanceDB keeps writes that commit while the build runs: updates of rows
// the build is indexing and new ids, none lost or doubled, the updates' latest payload wins.
test('LanceDB: writes committed while maintain() builds the index are all kept, once each', async () => {
  if (!dir) throw new Error('temp dir not created');
  const N = 3_000;
  const space = { analyzer: 'ann', model: 'beside', dim: 384 };
  const data = clusteredVectors({ dim: 384, topics: 20, subtopics: 5, seed: 3 });
  const buildDir = path.join(dir, 'beside');
  const maintainer = await LanceDbVectorStore.open(buildDir, { annThreshold: N });
  const writer = await LanceDbVectorStore.open(buildDir);
  try {
    await maintainer.upsert(
      space,
      Array.from({ length: N }, (_, i) => ({ id: `v${i}`, vector: data.vector(i), payload: { rev: 0 } })),
    );
    let building = true;
    let rev = 0;
    const build = maintainer.maintain(space).finally(() => (building = false));
    while (building) {
      rev++;
      await writer.upsert(space, [
        // Rows the build is indexing get new vectors (those of points not in the table)...
        ...Array.from({ length: 10 }, (_, k) => ({ id: `v${k}`, vector: data.vector(N + 100 + k), payload: { rev } })),
        // ...and new ids arrive.
        ...Array.from({ length: 3 }, (_, k) => ({ id: `new-${rev}-${k}`, vector: data.vector(N + 1000 + rev * 3 + k), payload: { rev } })),
      ]);
    }
    expect((await build).action).toBe('built');
    expect(rev).toBeGreaterThan(1);
    const conn = await connect(buildDir);
    const table = await conn.openTable(collectionName(space));
    const ids = ((await table.query().select(['id']).toArray()) as { id: string }[]).map((r) => r.id);
    table.close();
    conn.close();
    console.log(`${rev} writes committed during the index build; ${ids.length} rows`);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(N + 3 * rev);
    // An updated row is found by its new vector, with its latest payload.
    const [hit] = await maintainer.search(space, data.vector(N + 100 + 7), 1);
    expect(hit).toMatchObject({ id: 'v7', payload: { rev } });
    expect(await maintainer.maintain(space, { maxUnindexed: 0 })).toMatchObject({ action: 'optimized', unindexedRows: 0 });
  } finally {
    await writer.close();
    await maintainer.close();
  }
}, 60_000);
