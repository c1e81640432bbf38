import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ErrorType } from '../../src/errors';
import { loadDataConverter } from '../../src/temporal/data-converter';
import { keyMismatchProbe } from '../support/key-mismatch-workflow';
import { startTemporal } from '../support/temporal';

// Two "hosts" with their own data directories and so their own generated payload keys, through a
// real Temporal server: the activity worker cannot decrypt what the workflow worker encrypted, and
// the attempt fails typed as PayloadKeyMismatch (before, the history recorded an untyped "Error").
let env: TestWorkflowEnvironment;
let dirs: string[] = [];

beforeAll(async () => {
  env = await startTemporal();
  dirs = await Promise.all(['a', 'b'].map((h) => mkdtemp(path.join(os.tmpdir(), `biblio-host-${h}-`))));
});

afterAll(async () => {
  await env?.teardown();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function probe(activityHostDir: string): Promise<Awaited<ReturnType<typeof keyMismatchProbe>>> {
  const [hostA, activityHost] = [await loadDataConverter({ dataDir: dirs[0]! }), await loadDataConverter({ dataDir: activityHostDir })];
  const prefix = `pkm-${randomBytes(3).toString('hex')}-`;
  const client = new Client({ connection: env.connection, dataConverter: hostA });
  const wfWorker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: `${prefix}wf`,
    workflowsPath: require.resolve('../support/key-mismatch-workflow'),
    dataConverter: hostA,
  });
  const actWorker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: `${prefix}act`,
    activities: { echoUrl: async (url: string) => url },
    dataConverter: activityHost,
  });
  return actWorker.runUntil(
    wfWorker.runUntil(
      client.workflow.execute(keyMismatchProbe, {
        taskQueue: `${prefix}wf`,
        workflowId: `${prefix}probe`,
        args: [{ activityQueue: `${prefix}act`, url: 'https://cdn.example/clip.mp4' }],
      }),
    ),
  );
}

test('an activity worker on a host with another generated payload key fails the attempt as PayloadKeyMismatch', async () => {
  const outcome = await probe(dirs[1]!);
  expect(outcome).toMatchObject({
    type: ErrorType.PayloadKeyMismatch,
    message: expect.stringMatching(/payload key differs between hosts/),
  });
}, 120_000);

test('control: the same data directory (one host, generated key shared) runs the activity', async () => {
  expect(await probe(dirs[0]!)).toBe('ok');
}, 120_000);
