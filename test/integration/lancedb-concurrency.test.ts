import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connect } from '@lancedb/lancedb';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { LanceDbVectorStore } from '../../src/adapters/vector-store/lancedb-store';
import { collectionName, type VectorSpace } from '../../src/adapters/vector-store/port';
import { PgAdvisoryLock } from '../../src/db/advisory-lock';
import { writeEmbeddingArtifact } from '../../src/artifacts/embedding-artifact';
import type { IndexInput } from '../../src/workflows/contracts';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { sampleFacts } from '../support/facts';
import { indexRace } from '../support/index-race-workflow';
import { clusteredVectors } from '../support/synthetic-vectors';
import { startStack, type Stack } from '../support/stack';

// Two writer PROCESSES on one LanceDB directory, through the production adapter: with the
// PostgreSQL advisory lock the index workers use, no id is ever stored twice. Without it,
// LanceDB's own behaviour (two concurrent merge-inserts of a new id both insert) shows.
const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const WRITER = path.join(ROOT, 'test', 'support', 'lance-writer.ts');
const space = { analyzer: 'concurrency', model: 'test', dim: 8 };
const SHARED = 6;
const OWN = 4;
const ROUNDS = 8;
/** Ids both writers write (SHARED per round) plus each writer's own (OWN per round each). */
const EXPECTED_IDS = ROUNDS * (SHARED + 2 * OWN);
const WRITER_TIMEOUT_MS = 45_000;
/** Rounds start this far apart in both writers (a round takes ~30-50 ms here). */
const ROUND_INTERVAL_MS = 100;

let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'biblio-lance-conc-'));
});

afterAll(async () => {
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Writer {
  tag: string;
  child: ChildProcessWithoutNullStreams;
  ready: Promise<void>;
  done: Promise<number>;
}

function startWriter(sub: string, tag: string, lock: boolean): Writer {
  const child = spawn(TSX, [WRITER, path.join(dir, sub), db.url, tag, lock ? '1' : '0', String(SHARED), String(OWN), String(ROUNDS)], {
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
  // A writer that hangs must fail the test with its output, not stall jest until its timeout.
  const timer = setTimeout(() => child.kill('SIGKILL'), WRITER_TIMEOUT_MS);
  const done = new Promise<number>((resolve, reject) =>
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const ms = /done (\d+)/.exec(out);
      if (code === 0 && ms) resolve(Number(ms[1]));
      else reject(new Error(`writer ${tag} exited ${code ?? signal}: ${out}`));
    }),
  );
  // If it dies before "ready", release the waiter so the failure surfaces through `done`.
  void done.catch(() => markReady());
  return { tag, child, ready, done };
}

/**
 * Starts both writers, waits until both are loaded, then releases them at the same moment.
 * `during` runs in this process while they write, until both have finished.
 */
async function runWriters(sub: string, lock: boolean, during?: (finished: () => boolean) => Promise<void>): Promise<number[]> {
  const writers = ['A', 'B'].map((tag) => startWriter(sub, tag, lock));
  await Promise.all(writers.map((w) => w.ready));
  // Same schedule for both; end() also closes the pipe, the writer needs no more input.
  const go = `go ${Date.now() + 200} ${ROUND_INTERVAL_MS}\n`;
  for (const w of writers) w.child.stdin.end(go);
  let finished = false;
  const all = Promise.all(writers.map((w) => w.done)).finally(() => (finished = true));
  if (during) await during(() => finished);
  return all;
}

/** Reads the table with LanceDB itself (not the adapter under test): rows and distinct ids. */
async function countIds(sub: string, of: VectorSpace = space): Promise<{ rows: number; distinct: number }> {
  const conn = await connect(path.join(dir, sub));
  try {
    const table = await conn.openTable(collectionName(of));
    const ids = (await table.query().select(['id']).toArray()) as { id: string }[];
    table.close();
    return { rows: ids.length, distinct: new Set(ids.map((r) => r.id)).size };
  } finally {
    conn.close();
  }
}

test('two writer processes upserting the same and different ids concurrently under the advisory lock leave exactly one point per id', async () => {
  const ms = await runWriters('locked', true);
  const { rows, distinct } = await countIds('locked');
  console.log(`with the lock: ${rows} rows, ${distinct} distinct ids (writers took ${ms.join(' / ')} ms)`);
  expect(distinct).toBe(EXPECTED_IDS);
  expect(rows).toBe(EXPECTED_IDS);
}, 60_000);

// maintain() compacts under the write lock but builds the index beside the writes (a build
// takes up to a minute at 100k rows): the writers' rows must all survive, once each.
test('index maintenance (compaction, ANN build and refresh) in a third process while both writers write', async () => {
  const store = await LanceDbVectorStore.open(path.join(dir, 'maintained'), {
    lock: new PgAdvisoryLock(db.pool),
    annThreshold: 40,
    annMaxUnindexed: 5,
    maxSmallFragments: 2,
  });
  const actions: string[] = [];
  try {
    await runWriters('maintained', true, async (finished) => {
      while (!finished()) {
        actions.push((await store.maintain(space)).action);
        await new Promise((r) => setTimeout(r, 30));
      }
    });
    // Once more after the last write: every row ends up in the index.
    const last = await store.maintain(space);
    actions.push(last.action);
    expect(last.unindexedRows).toBe(0);
  } finally {
    await store.close();
  }
  const { rows, distinct } = await countIds('maintained');
  console.log(`with maintenance alongside: ${rows} rows, ${distinct} distinct ids; maintain() actions: ${actions.join(' ')}`);
  // The maintenance really ran between writes: it built the index and then refreshed it.
  expect(actions).toContain('built');
  expect(actions).toContain('optimized');
  expect(distinct).toBe(EXPECTED_IDS);
  expect(rows).toBe(EXPECTED_IDS);
}, 60_000);

// Rounds start at the same instant in both writers, so each round's new shared ids race; here
// that left 42-48 duplicates in every one of 12 runs (0 in 2 of 6 before the rounds were aligned).
test('negative control: the same two writers without the lock leave duplicates, so the test above can fail', async () => {
  const ms = await runWriters('unlocked', false);
  const { rows, distinct } = await countIds('unlocked');
  console.log(
    `without the lock: ${rows} rows, ${distinct} distinct ids, ${rows - distinct} duplicates (writers took ${ms.join(' / ')} ms)`,
  );
  expect(distinct).toBe(EXPECTED_IDS);
  expect(rows - distinct).toBeGreaterThan(0);
}, 60_000);

// The same property through the production path: two real index worker processes
// (dist/workers/indexer.js, each with its PgAdvisoryLock) take `upsertVector` activities from
// one queue, every video id twice, all at once.
describe('two index worker processes running upsertVector concurrently', () => {
  const VIDEOS = 24;
  const raceSpace: VectorSpace = { analyzer: 'race', model: 'test', dim: 16 };
  let stack: Stack | undefined;
  let prefix: string;
  let env: TestWorkflowEnvironment | undefined;

  beforeAll(async () => {
    // On the file's database and under its dir, where countIds reads the store.
    stack = await startStack({
      name: 'lc',
      database: { url: db.url },
      dataDir: path.join(dir, 'workers'),
      workerEnv: { INDEX_CONCURRENCY: '6' },
    });
    ({ prefix, temporal: env } = stack);
    // One after the other: two processes starting at once on 2 cores only slows both.
    for (let i = 0; i < 2; i++) await stack.startWorkers(['index']);
  }, 180_000);

  afterAll(() => stack?.stop());

  test('leave exactly one point per video, and both processes wrote', async () => {
    if (!env) throw new Error('Temporal did not start');
    const data = clusteredVectors({ dim: raceSpace.dim, topics: 3, subtopics: 2, seed: 5 });
    const artifacts = path.join(dir, 'workers', 'artifacts');
    const inputs: IndexInput[] = [];
    for (let i = 0; i < VIDEOS; i++) {
      const videoId = `race-${i}`;
      const embeddingPath = await writeEmbeddingArtifact(artifacts, { videoId, analyzer: 'race', model: 'test', vector: data.vector(i) });
      const input: IndexInput = {
        videoId,
        source: { kind: 'file', path: `/nowhere/${videoId}.mp4` },
        media: { renditionPath: '/nowhere/r.mp4', thumbnailPath: '/nowhere/t.jpg', source: sampleFacts, rendition: sampleFacts },
        analysis: { ...raceSpace, offline: true, summary: `video ${i}`, tags: ['race'], embeddingPath },
      };
      inputs.push(input, input);
    }
    const wfWorker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: `${prefix}race`,
      workflowsPath: require.resolve('../support/index-race-workflow'),
    });
    const workflowId = `index-race-${Date.now()}`;
    await wfWorker.runUntil(
      env.client.workflow.execute(indexRace, {
        taskQueue: `${prefix}race`,
        workflowId,
        args: [{ indexQueue: `${prefix}index`, inputs }],
      }),
    );
    const { rows, distinct } = await countIds(path.join('workers', 'lancedb'), raceSpace);
    expect(distinct).toBe(VIDEOS);
    expect(rows).toBe(VIDEOS);
    // Which worker ran each activity: the identity on its started event (role@host:pid).
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const identities = new Set(
      (history.events ?? []).flatMap((e) =>
        e.activityTaskStartedEventAttributes?.identity ? [e.activityTaskStartedEventAttributes.identity] : [],
      ),
    );
    console.log(`upsertVector ran in ${identities.size} processes: ${[...identities].join(', ')}`);
    expect(identities.size).toBe(2);
  }, 120_000);
});
