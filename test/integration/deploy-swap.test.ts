import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { NON_RETRYABLE_ERROR_TYPES } from '../../src/errors';
import { taskQueues } from '../../src/pipeline/catalogue';
import { loadDataConverter } from '../../src/temporal/data-converter';
import type { ProcessVideoInput, ProcessVideoResult } from '../../src/workflows/contracts';
import { workflowIdFor } from '../../src/workflows/ids';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeTinyClip } from '../support/media';
import { activityRuns } from '../support/segment-history';
import { startTemporal } from '../support/temporal';
import { startWorkers, type WorkerProcesses } from '../support/workers';

// Safe deploy (issue 15): a run started by the workflow code of main before the segmented
// transcode (commit a9c7981) keeps its single-pass path when the pipeline worker is swapped to
// the new code mid-run. The new worker must replay the old run's history to go on.
const OLD_COMMIT = 'a9c7981';
const ROOT = path.resolve(__dirname, '..', '..');
const prefix = `t${process.pid}-swap-`;
const queues = taskQueues(prefix);

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let dataDir: string;
let oldSrc: string;
const procs: WorkerProcesses[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-swap-'));
  await mkdir(path.join(dataDir, 'ingest'), { recursive: true });
  await makeTinyClip(path.join(dataDir, 'ingest', 'clip.mp4'), 3);
  // The old workflow sources, exactly as committed, next to a link to our node_modules so the bundler resolves the SDK.
  oldSrc = await mkdtemp(path.join(os.tmpdir(), 'biblio-old-src-'));
  const tar = execFileSync('git', ['-C', ROOT, 'archive', OLD_COMMIT, 'src'], { maxBuffer: 64 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', oldSrc], { input: tar });
  await symlink(path.join(ROOT, 'node_modules'), path.join(oldSrc, 'node_modules'));
  env = await startTemporal();
  db = await createTestDatabase();
}, 180_000);

afterAll(async () => {
  for (const p of procs) await p.stop();
  await env?.teardown();
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  if (oldSrc) await rm(oldSrc, { recursive: true, force: true });
});

test('a run started on the old workflow code finishes on the new code with the old single-pass transcode', async () => {
  const dataConverter = await loadDataConverter({ dataDir });
  const workerEnv = { temporalAddress: env.address, databaseUrl: db.url, dataDir, queuePrefix: prefix };
  procs.push(await startWorkers(['ai', 'index'], workerEnv));
  const connection = await NativeConnection.connect({ address: env.address });
  const old = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue: queues.pipeline,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: path.join(oldSrc, 'src', 'workflows', 'index.ts') }),
    dataConverter,
    workflowFailureErrorTypes: { '*': [...NON_RETRYABLE_ERROR_TYPES] },
  });
  const oldRun = old.run();
  const client = new Client({ connection: env.client.connection, namespace: 'default', dataConverter });
  const videoId = 'swap-1';
  const input: ProcessVideoInput = {
    version: 1,
    videoId,
    source: { kind: 'file', path: path.join(dataDir, 'ingest', 'clip.mp4') },
    queues,
    mediaHeartbeatTimeoutMs: 10_000,
  };
  const handle = await client.workflow.start('processVideo', {
    taskQueue: queues.pipeline,
    workflowId: workflowIdFor(videoId),
    args: [input],
  });
  // No media worker yet: the old code's first workflow task schedules `transcode` and the run waits there.
  const deadline = Date.now() + 30_000;
  while (!(await activityRuns(client, handle.workflowId)).some((r) => r.type === 'transcode')) {
    if (Date.now() > deadline) throw new Error('the old workflow code never scheduled transcode');
    await new Promise((r) => setTimeout(r, 100));
  }
  old.shutdown();
  await oldRun;
  await connection.close();

  // The new code (dist/, what production deploys) plus a media worker that also serves segments.
  procs.push(await startWorkers(['pipeline', 'media'], { ...workerEnv, extraEnv: { BIBLIO_INGEST_DIR: path.join(dataDir, 'ingest') } }));
  const result = (await handle.result()) as ProcessVideoResult;
  expect(result.media.rendition.durationSec).toBeGreaterThan(2.5);
  expect(result.media.hls).toBeUndefined();

  // The new patch was never taken: the replaying new worker kept the old branch.
  expect(await patchesOf(handle.workflowId)).not.toContain('biblio-15-segmented');
  const types = (await activityRuns(client, handle.workflowId)).map((r) => r.type);
  expect(types).toContain('transcode');
  expect(types).not.toContain('planTranscode');
  expect(types).not.toContain('encodeSegment');
  // And a new run on the new code does take the new branch (so the assertion above can fail).
  const fresh = await client.workflow.start('processVideo', {
    taskQueue: queues.pipeline,
    workflowId: workflowIdFor('swap-2'),
    args: [{ ...input, videoId: 'swap-2', hls: false }],
  });
  await fresh.result();
  expect((await activityRuns(client, fresh.workflowId)).map((r) => r.type)).toContain('planTranscode');
  expect(await patchesOf(fresh.workflowId)).toContain('biblio-15-segmented');

  /** The text of every marker the run recorded (patch markers carry their patch id). */
  async function patchesOf(workflowId: string): Promise<string> {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? [])
      .flatMap((e) => Object.values(e.markerRecordedEventAttributes?.details ?? {}))
      .flatMap((p) => p.payloads ?? [])
      .map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8'))
      .join(' ');
  }
}, 240_000);
