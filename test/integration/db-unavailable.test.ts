import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { OfflineAnalyzer } from '../../src/adapters/analyzer/offline-analyzer';
import { LanceDbVectorStore } from '../../src/adapters/vector-store/lancedb-store';
import { buildApp } from '../../src/api/app';
import { wireOps } from '../../src/api/ops-wiring';
import { VideoService } from '../../src/app/video-service';
import { createRepositories } from '../../src/db/repositories';
import { loadConfig } from '../../src/config';
import { ApiKeysRepo } from '../../src/db/api-keys-repo';
import { createPool, ensureDatabase, migrate } from '../../src/db/database';
import { workflowIdFor } from '../../src/workflows/ids';
import { DisposablePostgres } from '../support/disposable-postgres';
import { makeTinyClip } from '../support/media';
import { waitFor } from '../support/ops';
import { startStack, type Stack } from '../support/stack';
import { loadUrlSealer } from '../../src/security/sealed-url';

// Issue 26: the main database goes away under a real API (auth on) and real workers. PostgreSQL
// here is a disposable instance this file starts itself (the project's embedded PostgreSQL, on a
// free port), so it can be stopped and started again without touching the shared server.
let stack: Stack;
let pg: DisposablePostgres;
let pool: Pool;
let app: FastifyInstance;
let key: string;

const get = (url: string, token = key) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
const post = (url: string, payload: object) => app.inject({ method: 'POST', url, payload, headers: { authorization: `Bearer ${key}` } });

beforeAll(async () => {
  stack = await startStack({ name: 'dbdown', database: false });
  pg = await DisposablePostgres.create();
  stack.onStop(() => pg.destroy());
  const { url } = pg;
  await ensureDatabase(url);
  await migrate(url);
  pool = createPool(url);
  stack.onStop(() => pool.end());
  key = (await new ApiKeysRepo(pool).create('uploader', 'db-outage test')).key;
  await makeTinyClip(path.join(stack.ingestDir, 'clip.mp4'));
  // No media worker yet: the videos wait in their transcode step, i.e. they are in flight.
  await stack.startWorkers(['pipeline', 'ai', 'index'], { databaseUrl: url });

  // The API wired like src/api/main.ts, with its production auth (keys in the database).
  const config = loadConfig({ OUTBOX_SWEEP_MS: '0' });
  const ops = wireOps({ client: stack.temporal.client, pool, queues: stack.queues, config });
  const vectorStore = await LanceDbVectorStore.open(path.join(stack.dataDir, 'lancedb'));
  stack.onStop(() => vectorStore.close());
  const sealer = await loadUrlSealer({ dataDir: stack.dataDir });
  const service = new VideoService({
    client: stack.temporal.client,
    repos: createRepositories(pool),
    analyzer: new OfflineAnalyzer(),
    vectorStore,
    queues: stack.queues,
    ingestDir: stack.ingestDir,
    temporalUiUrl: 'http://localhost:8233',
    mediaHeartbeatTimeoutMs: config.workers.mediaHeartbeatTimeoutMs,
    queueStats: ops.queueStats,
    sealer,
  });
  app = buildApp(service, { ops: ops.deps });
  await app.ready();
  stack.onStop(() => app.close());
}, 180_000);

afterAll(() => stack?.stop());

test('with PostgreSQL stopped: 503 DatabaseUnavailable with the last known status, /readyz false, typed index failures; after restart every in-flight video completes', async () => {
  const ids = ['dbdown-1', 'dbdown-2'];
  for (const videoId of ids) expect((await post('/videos', { videoId, source: { kind: 'file', path: 'clip.mp4' } })).statusCode).toBe(202);
  for (const id of ids) await waitFor(`${id} in transcode`, async () => (await get(`/videos/${id}`)).json().step === 'transcode', 30_000);

  await pg.stop();

  // A known video: 503 in the one error shape, Retry-After, and what this API last served, flagged stale.
  const known = await get('/videos/dbdown-1');
  expect(known.statusCode).toBe(503);
  expect(known.headers['retry-after']).toBe('5');
  expect(known.json()).toMatchObject({
    error: { type: 'DatabaseUnavailable', videoId: 'dbdown-1' },
    lastKnown: { videoId: 'dbdown-1', status: 'processing', step: 'transcode', stale: true },
  });
  expect(Date.parse(known.json().lastKnown.asOf)).toBeLessThanOrEqual(Date.now());
  // A video this API never served: the same 503, nothing to show.
  const unknown = await get('/videos/never-served');
  expect(unknown.statusCode).toBe(503);
  expect(unknown.json().error.type).toBe('DatabaseUnavailable');
  expect(unknown.json().lastKnown).toBeUndefined();
  // A key the API cannot check now is an outage, not a 401 (and never a 500).
  const unchecked = await get('/videos/dbdown-1', `bib_000000000000_${'A'.repeat(43)}`);
  expect(unchecked.statusCode).toBe(503);
  expect(unchecked.json().error.type).toBe('DatabaseUnavailable');
  // Writes too: nothing is registered, the caller is told to retry.
  const refused = await post('/videos', { videoId: 'dbdown-3', source: { kind: 'file', path: 'clip.mp4' } });
  expect(refused.statusCode).toBe(503);
  expect(refused.json().error.type).toBe('DatabaseUnavailable');
  const ready = await app.inject({ method: 'GET', url: '/readyz' });
  expect(ready.statusCode).toBe(503);
  expect(ready.json()).toMatchObject({ ready: false, checks: { database: { ok: false }, temporal: { ok: true } } });

  // The videos move on to their index step, which retries with a typed, retryable failure.
  await stack.startWorkers(['media'], { databaseUrl: pg.url });
  for (const id of ids) {
    const failure = await waitFor(
      `${id} retrying its index step`,
      async () => {
        const d = await stack.temporal.client.workflow.getHandle(workflowIdFor(id)).describe();
        const pending = d.raw.pendingActivities?.find((a) => a.activityType?.name === 'writeIndexRow');
        return pending?.lastFailure ? pending.lastFailure : undefined;
      },
      120_000,
      500,
    );
    expect(failure.applicationFailureInfo).toMatchObject({ type: 'DatabaseUnavailable', nonRetryable: false });
  }

  await pg.start();
  for (const id of ids) {
    const done = await waitFor(
      `${id} ready after the database is back`,
      async () => {
        const res = await get(`/videos/${id}`);
        return res.statusCode === 200 && res.json().status === 'ready' ? res.json() : undefined;
      },
      120_000,
      1_000,
    );
    expect(done).toMatchObject({ status: 'ready', workflowStatus: 'COMPLETED' });
  }
  expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
}, 360_000);
