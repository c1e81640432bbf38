import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connect } from '@lancedb/lancedb';
import { S3ObjectStorage } from '../../src/adapters/storage/s3-storage';
import { LanceDbVectorStore } from '../../src/adapters/vector-store/lancedb-store';
import { collectionName, type VectorSpace, type WriteLock } from '../../src/adapters/vector-store/port';
import { loadConfig } from '../../src/config';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startMinio, type MinioServer } from '../support/minio';
import { vectorStoreContract } from './vector-store.contract';

// LanceDB with its tables in S3-compatible storage (a real MinIO started here), configured the way
// a deployment does it: VECTOR_LANCEDB_URI=s3://bucket/prefix and the S3_* variables of the
// storage port. This is how index workers and the API on separate hosts share one vector store.
const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const WRITER = path.join(ROOT, 'test', 'support', 'lance-writer.ts');
const BUCKET = 'biblio-vectors';

let minio: MinioServer | undefined;
let lance: { uri: string; storageOptions?: Record<string, string> };

beforeAll(async () => {
  minio = await startMinio();
  if (!minio) throw new Error('MinIO is not available (scripts/ensure-minio.sh failed)');
  // LanceDB does not create buckets; the storage port's ensureBucket does, as at start-up.
  const storage = new S3ObjectStorage({
    endpoint: minio.endpoint,
    region: 'us-east-1',
    bucket: BUCKET,
    accessKeyId: minio.accessKeyId,
    secretAccessKey: minio.secretAccessKey,
    forcePathStyle: true,
  });
  await storage.ensureBucket();
  await storage.close();
  const config = loadConfig({
    STORAGE_BACKEND: 's3',
    S3_ENDPOINT: minio.endpoint,
    S3_BUCKET: BUCKET,
    S3_ACCESS_KEY_ID: minio.accessKeyId,
    S3_SECRET_ACCESS_KEY: minio.secretAccessKey,
    VECTOR_LANCEDB_URI: `s3://${BUCKET}/vectors-${randomBytes(3).toString('hex')}`,
    BIBLIO_DATA_DIR: os.tmpdir(),
  });
  lance = config.lancedb;
}, 60_000);

afterAll(async () => {
  await minio?.stop();
});

const openS3 = (opts: { lock?: WriteLock } = {}) => LanceDbVectorStore.open(lance.uri, { ...opts, storageOptions: lance.storageOptions });

vectorStoreContract('lancedb on S3 (MinIO)', () => openS3());

test('the tables are objects in the bucket, not files on this host', async () => {
  const store = await openS3();
  const space = { analyzer: 's3', model: 'where', dim: 4 };
  try {
    await store.upsert(space, [{ id: 'a', vector: [1, 0, 0, 0], payload: {} }]);
  } finally {
    await store.close();
  }
  const storage = new S3ObjectStorage({
    endpoint: minio!.endpoint,
    region: 'us-east-1',
    bucket: BUCKET,
    accessKeyId: minio!.accessKeyId,
    secretAccessKey: minio!.secretAccessKey,
    forcePathStyle: true,
  });
  try {
    const prefix = `${lance.uri.slice(`s3://${BUCKET}/`.length)}/${collectionName(space)}.lance/`;
    const keys = await storage.list(prefix);
    expect(keys.some((k) => k.includes('/_versions/'))).toBe(true);
    expect(keys.some((k) => k.includes('/data/'))).toBe(true);
  } finally {
    await storage.close();
  }
});

/** p50 and p95 of n timed calls, in ms. */
async function timed(n: number, call: (i: number) => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call(i);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: +ms[Math.floor(n * 0.5)]!.toFixed(1), p95: +ms[Math.floor(n * 0.95)]!.toFixed(1) };
}

// Not a benchmark: a side-by-side of the same calls on a local directory and on MinIO (loopback,
// so the S3 figures are the request overhead, not network distance).
test('upsert and search latency, local directory vs MinIO', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'biblio-lance-latency-'));
  const space: VectorSpace = { analyzer: 'latency', model: randomBytes(3).toString('hex'), dim: 384 };
  const vec = (i: number) => Array.from({ length: 384 }, (_, j) => Math.sin(i * 31 + j));
  const figures: Record<string, { upsert: { p50: number; p95: number }; search: { p50: number; p95: number } }> = {};
  try {
    for (const [where, open] of [
      ['local', () => LanceDbVectorStore.open(dir)],
      ['minio', () => openS3()],
    ] as const) {
      const store = await open();
      try {
        const upsert = await timed(30, (i) => store.upsert(space, [{ id: `v${i}`, vector: vec(i), payload: { i } }]));
        const search = await timed(30, (i) => store.search(space, vec(i), 5));
        expect((await store.search(space, vec(7), 1))[0]?.id).toBe('v7');
        figures[where] = { upsert, search };
      } finally {
        await store.close();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`LanceDB latency (ms, 30 calls each, 384-dim, one point per upsert): ${JSON.stringify(figures)}`);
  expect(Object.keys(figures)).toEqual(['local', 'minio']);
}, 120_000);

// The writer lock is a PostgreSQL advisory lock (src/db/advisory-lock.ts), not a file lock, so it
// holds between hosts that share only PostgreSQL and the bucket: two writer processes here.
describe('two writer processes on one S3 table', () => {
  const space = { analyzer: 'concurrency', model: 'test', dim: 8 };
  const [SHARED, OWN, ROUNDS] = [6, 4, 6];
  const EXPECTED_IDS = ROUNDS * (SHARED + 2 * OWN);
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  function writer(uri: string, tag: string, lock: boolean): { ready: Promise<void>; go: (line: string) => void; done: Promise<string> } {
    const child = spawn(TSX, [WRITER, uri, db.url, tag, lock ? '1' : '0', String(SHARED), String(OWN), String(ROUNDS)], {
      env: { ...process.env, LANCE_STORAGE_OPTIONS: JSON.stringify(lance.storageOptions) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let markReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('ready\n')) markReady();
    });
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    const done = new Promise<string>((resolve, reject) =>
      child.once('exit', (code) => {
        clearTimeout(timer);
        markReady();
        if (code === 0) resolve(out);
        else reject(new Error(`writer ${tag} exited ${code}: ${out}`));
      }),
    );
    return { ready, go: (line) => child.stdin.end(line), done };
  }

  async function race(sub: string, lock: boolean): Promise<{ rows: number; distinct: number; ms: string[] }> {
    const uri = `${lance.uri}-${sub}`;
    const writers = ['A', 'B'].map((tag) => writer(uri, tag, lock));
    await Promise.all(writers.map((w) => w.ready));
    const go = `go ${Date.now() + 300} 250\n`;
    for (const w of writers) w.go(go);
    const outs = await Promise.all(writers.map((w) => w.done));
    const conn = await connect(uri, { storageOptions: lance.storageOptions });
    try {
      const table = await conn.openTable(collectionName(space));
      const ids = (await table.query().select(['id']).toArray()) as { id: string }[];
      table.close();
      return { rows: ids.length, distinct: new Set(ids.map((r) => r.id)).size, ms: outs.map((o) => /done (\d+)/.exec(o)?.[1] ?? '?') };
    } finally {
      conn.close();
    }
  }

  test('under the advisory lock, the same and different ids written at once leave exactly one point per id', async () => {
    const r = await race('locked', true);
    console.log(`S3, with the lock: ${r.rows} rows, ${r.distinct} distinct ids (writers took ${r.ms.join(' / ')} ms)`);
    expect(r.distinct).toBe(EXPECTED_IDS);
    expect(r.rows).toBe(EXPECTED_IDS);
  }, 120_000);

  // What the lock prevents on S3 too: without it the racing merge-inserts of new ids both commit.
  test('negative control: without the lock the same writers leave duplicates, so the test above can fail', async () => {
    const r = await race('unlocked', false);
    console.log(`S3, without the lock: ${r.rows} rows, ${r.distinct} distinct ids, ${r.rows - r.distinct} duplicates`);
    expect(r.distinct).toBe(EXPECTED_IDS);
    expect(r.rows - r.distinct).toBeGreaterThan(0);
  }, 120_000);
});
