import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { VideoStatus } from '../../src/app/status';
import { StartOutboxRepo } from '../../src/db/start-outbox-repo';
import type { QueueRole } from '../../src/pipeline/catalogue';
import type { TestDatabase } from '../support/database';
import { makeTinyClip } from '../support/media';
import { waitFor, type OpsApi } from '../support/ops';
import { startStack, type Stack } from '../support/stack';
import { startDiskTemporal, type DiskTemporal } from '../support/disk-temporal';

// Issue 19: a real Temporal dev server (history on disk) that this file kills -9 and restarts.
let stack: Stack;
let dataDir: string;
let db: TestDatabase;
let temporal: DiskTemporal;
let client: Client;
const apis: OpsApi[] = [];

function startRoles(roles: QueueRole[]) {
  return stack.startWorkers(roles, { temporalAddress: temporal.address });
}

beforeAll(async () => {
  // The stack without its Temporal: this file's server is its own, to kill and restart.
  stack = await startStack({ name: 'outage', temporal: false });
  ({ dataDir, db } = stack);
  await makeTinyClip(path.join(stack.ingestDir, 'clip.mp4'));
  temporal = await startDiskTemporal(dataDir, ['--dynamic-config-value', 'matching.longPollExpirationInterval="5s"']);
  // Run at stop after the APIs and workers, last added first: the client closes, then the server dies.
  stack.onStop(() => temporal.kill());
  client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
  stack.onStop(() => client.connection.close().catch(() => undefined));
  // Two API replicas share the database: both sweep the start outbox.
  for (let i = 0; i < 2; i++) {
    apis.push(
      await stack.startOpsApi({
        client,
        startDeadlineMs: 1_000,
        env: { OUTBOX_SWEEP_MS: '300', RATE_LIMIT_MAX: '0', POLLER_STALE_AFTER_MS: '15000' },
      }),
    );
  }
});

afterAll(() => stack?.stop());

const api = () => apis[0]!;

async function get(videoId: string): Promise<VideoStatus> {
  return (await api().app.inject({ method: 'GET', url: `/videos/${videoId}` })).json() as VideoStatus;
}

test('during a Temporal outage status says it is unknown (keeping the last known state), and a 503 upload starts by itself exactly once after recovery', async () => {
  // No media worker yet: the first video stays in its transcode step, i.e. genuinely processing.
  await startRoles(['pipeline', 'ai', 'index']);
  const first = await api().app.inject({
    method: 'POST',
    url: '/videos',
    payload: { videoId: 'out-1', source: { kind: 'file', path: 'clip.mp4' } },
  });
  expect(first.statusCode).toBe(202);
  await waitFor('out-1 processing', async () => ((await get('out-1')).step === 'transcode' ? true : undefined), 30_000);

  await temporal.kill();
  const began = Date.now();
  const during = await get('out-1');
  expect(Date.now() - began).toBeLessThan(8_000);
  expect(during).toMatchObject({ workflowStatus: 'UNKNOWN', temporalReachable: false, status: 'processing', step: 'transcode' });
  expect(during.waitingFor).toMatch(/Temporal is unreachable/);
  const ready = await api().app.inject({ method: 'GET', url: '/readyz' });
  expect(ready.statusCode).toBe(503);
  expect(ready.json()).toMatchObject({ ready: false, checks: { database: { ok: true }, temporal: { ok: false } } });

  const refused = await api().app.inject({
    method: 'POST',
    url: '/videos',
    payload: { videoId: 'out-2', source: { kind: 'file', path: 'clip.mp4' } },
  });
  expect(refused.statusCode).toBe(503);
  expect(refused.json().error).toMatchObject({ type: 'TemporalUnavailable', videoId: 'out-2' });
  expect(await new StartOutboxRepo(db.pool).startState('out-2')).toBe('pending');
  // Sweeps while Temporal is down start nothing and lose nothing.
  await new Promise((r) => setTimeout(r, 1_500));
  expect(await new StartOutboxRepo(db.pool).startState('out-2')).toBe('pending');

  await temporal.start();
  await startRoles(['media']);

  // Nobody re-posts out-2: the outbox starts it.
  for (const id of ['out-1', 'out-2']) {
    await waitFor(`${id} ready`, async () => ((await get(id)).status === 'ready' ? true : undefined), 120_000, 500);
  }
  expect(await new StartOutboxRepo(db.pool).startState('out-2')).toBe('started');
  const runs: string[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = 'video-out-2'` })) runs.push(wf.runId);
  expect(runs).toHaveLength(1);
  // More sweeps, from both replicas, change nothing.
  expect(await Promise.all(apis.map((a) => a.outbox.sweepOnce()))).toEqual([[], []]);
}, 300_000);
