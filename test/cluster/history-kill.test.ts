import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { VideoStatus } from '../../src/app/status';
import { QUEUE_ROLES, taskQueues } from '../../src/pipeline/catalogue';
import { traceSteps } from '../../src/temporal/step-trace';
import { workflowIdFor } from '../../src/workflows/ids';
import { completedRunViolations } from '../support/catalogue-trace';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeTinyClip } from '../support/media';
import { sleep, startOpsApi, waitFor, type OpsApi } from '../support/ops';
import { startTemporal } from '../support/temporal';
import { startWorkers, type WorkerProcesses } from '../support/workers';

// Issue 19, only with TEMPORAL_TARGET=cluster (npm run test:cluster): the production engine —
// frontend/history/matching/worker as separate processes on PostgreSQL — survives kill -9 of its
// history service under load: every workflow completes, none runs twice, no activity runs more
// often than its retry policy allows. This suite runs outside `npm test`, so it names no step,
// activity or queue itself: the worker roles, steps and per-run invariants come from the catalogue
// and test/support/catalogue-trace.ts, which test/unit/catalogue-trace.test.ts exercises.
const ROOT = path.resolve(__dirname, '..', '..');
const CLUSTER_DIR = process.env.CLUSTER_DIR ?? path.join(ROOT, '.biblio', 'cluster');
const prefix = `t${process.pid}-hk-`;
const queues = taskQueues(prefix);
const VIDEOS = 12;

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let workers: WorkerProcesses;
let api: OpsApi;
let dataDir: string;
let ingestDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-hk-'));
  ingestDir = path.join(dataDir, 'ingest');
  await mkdir(ingestDir, { recursive: true });
  await makeTinyClip(path.join(ingestDir, 'clip.mp4'));
  env = await startTemporal();
  db = await createTestDatabase();
  workers = await startWorkers([...QUEUE_ROLES], {
    temporalAddress: env.address,
    databaseUrl: db.url,
    dataDir,
    queuePrefix: prefix,
    extraEnv: { BIBLIO_INGEST_DIR: ingestDir, MEDIA_CONCURRENCY: '2' },
  });
  api = await startOpsApi({
    client: env.client,
    pool: db.pool,
    dataDir,
    ingestDir,
    queues,
    env: { RATE_LIMIT_MAX: '0', ADMISSION_MAX_BACKLOG: '0', ADMISSION_MAX_RUNNING: '0', ADMISSION_MAX_BACKLOG_AGE_MS: '0' },
  });
});

afterAll(async () => {
  if (process.env.SHOW_WORKER_LOGS)
    for (const [role, text] of workers?.output ?? []) console.log(`--- ${role} worker ---\n${text.slice(-4000)}`);
  await api?.close();
  await workers?.stop();
  await env?.teardown();
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('kill -9 of the history service under load loses no workflow and runs no activity beyond its retry policy', async () => {
  const ids = Array.from({ length: VIDEOS }, (_, i) => `hk-${i}`);
  for (const id of ids) {
    const res = await api.app.inject({
      method: 'POST',
      url: '/videos',
      payload: { videoId: id, source: { kind: 'file', path: 'clip.mp4' } },
    });
    expect(res.statusCode).toBe(202);
  }
  await sleep(2_000); // some transcodes running, some queued, some done

  const pidFile = path.join(CLUSTER_DIR, 'history.pid');
  const pid = Number(readFileSync(pidFile, 'utf8'));
  process.kill(pid, 'SIGKILL');
  const killedAt = Date.now();
  await waitFor('history process gone', async () => {
    try {
      process.kill(pid, 0);
      return undefined;
    } catch {
      return true;
    }
  });
  await sleep(3_000);
  // start.sh restarts only what is not running (the history service here).
  await promisify(execFile)('bash', [path.join(ROOT, 'scripts', 'cluster', 'start.sh')], { env: { ...process.env, CLUSTER_DIR } });
  console.log(`history down for ${((Date.now() - killedAt) / 1000).toFixed(1)} s (pid ${pid} → ${readFileSync(pidFile, 'utf8').trim()})`);

  const finals = new Map<string, VideoStatus>();
  await waitFor(
    'every video ready',
    async () => {
      for (const id of ids) {
        if (finals.has(id)) continue;
        const s = (await api.app.inject({ method: 'GET', url: `/videos/${id}` })).json() as VideoStatus;
        if (s.status === 'ready' || s.status === 'failed') finals.set(id, s);
      }
      return finals.size === ids.length ? true : undefined;
    },
    540_000,
    1_000,
  );
  expect([...finals.values()].map((s) => s.status)).toEqual(ids.map(() => 'ready'));

  let retried = 0;
  for (const id of ids) {
    const runs: string[] = [];
    for await (const wf of env.client.workflow.list({ query: `WorkflowId = '${workflowIdFor(id)}'` })) runs.push(wf.runId);
    expect(runs).toHaveLength(1);
    const trace = await traceSteps(env.client, workflowIdFor(id));
    // Every step done, each activity scheduled once, on its catalogued queue, within its retry preset.
    expect(completedRunViolations(trace, queues)).toEqual([]);
    retried += trace.filter((t) => t.attempt > 1).length;
  }
  console.log(`history kill: ${VIDEOS} workflows, all completed once; ${retried} activity attempt(s) retried within policy`);
}, 600_000);
