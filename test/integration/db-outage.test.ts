import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { VideoStatus } from '../../src/api/status';
import { VideosRepo } from '../../src/db/videos-repo';
import { taskQueues } from '../../src/pipeline/catalogue';
import { traceSteps } from '../../src/temporal/step-trace';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeTinyClip } from '../support/media';
import { sleep, startOpsApi, waitFor, type OpsApi } from '../support/ops';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { startTemporal } from '../support/temporal';
import { startWorkers, type WorkerProcesses } from '../support/workers';

// Issue 19: the index worker loses its main database for ~100 s mid-run (a TCP proxy in front of
// PostgreSQL is cut, then restored). The run must ride it out, not fail with an unrecordable error.
const OUTAGE_MS = Number(process.env.DB_OUTAGE_MS ?? 100_000);
const prefix = `t${process.pid}-dbout-`;
const queues = taskQueues(prefix);

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let proxy: TcpProxy;
let workers: WorkerProcesses;
let api: OpsApi;
let dataDir: string;
let ingestDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-dbout-'));
  ingestDir = path.join(dataDir, 'ingest');
  await mkdir(ingestDir, { recursive: true });
  await makeTinyClip(path.join(ingestDir, 'clip.mp4'));
  env = await startTemporal();
  db = await createTestDatabase();
  proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(db.url).port || 5432) });
  const viaProxy = new URL(db.url);
  viaProxy.port = String(proxy.port);
  const common = { temporalAddress: env.address, dataDir, queuePrefix: prefix, extraEnv: { BIBLIO_INGEST_DIR: ingestDir } };
  workers = await startWorkers(['pipeline', 'media', 'ai'], { ...common, databaseUrl: db.url });
  const index = await startWorkers(['index'], { ...common, databaseUrl: viaProxy.toString() });
  for (const [k, v] of index.procs) workers.procs.set(k, v);
  for (const [k, v] of index.output) workers.output.set(k, v);
  const stopBoth = workers.stop;
  workers.stop = async () => {
    await Promise.all([stopBoth(), index.stop()]);
  };
  api = await startOpsApi({ client: env.client, pool: db.pool, dataDir, ingestDir, queues, env: { RATE_LIMIT_MAX: '0' } });
});

afterAll(async () => {
  await api?.close();
  await workers?.stop();
  await proxy?.close();
  await env?.teardown();
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('a ~100 s main-database outage during index is ridden out: the run completes and the row says ready', async () => {
  await proxy.cut();
  const res = await api.app.inject({
    method: 'POST',
    url: '/videos',
    payload: { videoId: 'dbout-1', source: { kind: 'file', path: 'clip.mp4' } },
  });
  expect(res.statusCode).toBe(202);
  await waitFor(
    'index step reached',
    async () => ((await api.app.inject({ method: 'GET', url: '/videos/dbout-1' })).json().step === 'index' ? true : undefined),
    60_000,
  );
  await sleep(OUTAGE_MS);
  await proxy.restore();

  const final = await waitFor(
    'dbout-1 finished',
    async () => {
      const s = (await api.app.inject({ method: 'GET', url: '/videos/dbout-1' })).json() as VideoStatus;
      return s.status === 'ready' || s.status === 'failed' ? s : undefined;
    },
    120_000,
    500,
  );
  expect(final).toMatchObject({ status: 'ready', workflowStatus: 'COMPLETED' });
  const index = (await traceSteps(env.client, 'video-dbout-1')).find((t) => t.activity === 'writeIndexRow');
  console.log(`db outage ${OUTAGE_MS / 1000} s: writeIndexRow (the index step's main-DB write) succeeded on attempt ${index?.attempt}`);
  expect(index?.attempt).toBeGreaterThan(1);
  expect(index?.attempt).toBeLessThanOrEqual(10); // the index retry policy's maximumAttempts
  expect(await new VideosRepo(db.pool).get('dbout-1')).toMatchObject({ status: 'ready' });
}, 300_000);
