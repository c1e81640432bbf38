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

// Safe deploy (docs/versioning.md): a run started by the workflow code of the latest release
// finishes when the pipeline worker is swapped to this code mid-run; the new worker must replay
// the old run's history to go on. Until the first release is tagged there is nothing to swap from.
const ROOT = path.resolve(__dirname, '..', '..');
const prefix = `t${process.pid}-swap-`;
const queues = taskQueues(prefix);

/** The newest `v*` tag reachable from HEAD, or why there is none (no tag yet, a shallow clone, no git). */
function latestReleaseTag(): { tag?: string; why?: string } {
  try {
    const tag = execFileSync('git', ['-C', ROOT, 'describe', '--tags', '--abbrev=0', '--match', 'v*'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
    return tag ? { tag } : { why: 'no release tag (v*) yet' };
  } catch {
    return { why: 'no release tag (v*) reachable from HEAD (none tagged yet, or a shallow clone)' };
  }
}

const release = latestReleaseTag();
if (!release.tag) console.warn(`deploy-swap test skipped: ${release.why}; it runs against the latest release tag once one exists`);
const releaseTest = release.tag ? test : test.skip;

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let dataDir: string;
let oldSrc: string;
const procs: WorkerProcesses[] = [];

afterAll(async () => {
  for (const p of procs) await p.stop();
  await env?.teardown();
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  if (oldSrc) await rm(oldSrc, { recursive: true, force: true });
});

releaseTest(
  `a run started on the workflow code of ${release.tag ?? 'the latest release'} finishes on this code`,
  async () => {
    const tag = release.tag as string;
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-swap-'));
    await mkdir(path.join(dataDir, 'ingest'), { recursive: true });
    await makeTinyClip(path.join(dataDir, 'ingest', 'clip.mp4'), 3);
    // The released workflow sources, exactly as tagged, next to a link to our node_modules so the bundler resolves the SDK.
    oldSrc = await mkdtemp(path.join(os.tmpdir(), 'biblio-release-src-'));
    const tar = execFileSync('git', ['-C', ROOT, 'archive', tag, 'src'], { maxBuffer: 64 * 1024 * 1024 });
    execFileSync('tar', ['-x', '-C', oldSrc], { input: tar });
    await symlink(path.join(ROOT, 'node_modules'), path.join(oldSrc, 'node_modules'));
    env = await startTemporal();
    db = await createTestDatabase();

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
    };
    const handle = await client.workflow.start('processVideo', {
      taskQueue: queues.pipeline,
      workflowId: workflowIdFor(videoId),
      args: [input],
    });
    // No media worker yet: the released code's first workflow task schedules a media activity and the run waits there.
    const deadline = Date.now() + 30_000;
    while ((await activityRuns(client, handle.workflowId)).length === 0) {
      if (Date.now() > deadline) throw new Error(`the workflow code of ${tag} never scheduled an activity`);
      await new Promise((r) => setTimeout(r, 100));
    }
    old.shutdown();
    await oldRun;
    await connection.close();

    // This code (dist/, what production deploys) plus a media worker.
    procs.push(await startWorkers(['pipeline', 'media'], { ...workerEnv, extraEnv: { BIBLIO_INGEST_DIR: path.join(dataDir, 'ingest') } }));
    const result = (await handle.result()) as ProcessVideoResult;
    expect(result.media.rendition.durationSec).toBeGreaterThan(2.5);
  },
  300_000,
);
