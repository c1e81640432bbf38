import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { VideoStatus } from '../../src/app/status';
import type { QueueRole } from '../../src/pipeline/catalogue';
import type { TestDatabase } from '../support/database';
import { makeTinyClip } from '../support/media';
import { rssBytes, sample, sleep, startOpsApi, waitFor, type OpsApi } from '../support/ops';
import { startStack, type Stack } from '../support/stack';
import { startWorkers, type WorkerProcesses } from '../support/workers';

// Issue 19: admission control, rate limit, lag metric, worker health/metrics, TTL, status without
// a workflow worker — on the real dev server, PostgreSQL, ffmpeg and the real worker processes.
// Idle workers re-poll every 5 s here (production: 60 s), so a stopped worker is noticed in 15 s.
const LONG_POLL = '5s';
const STALE_MS = '15000';

let stack: Stack;
let prefix: string;
let queues: Stack['queues'];
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let dataDir: string;
let ingestDir: string;
let api: OpsApi;
const workers = new Map<QueueRole, WorkerProcesses>();

async function startRole(role: QueueRole, extraEnv: Record<string, string> = {}) {
  const w = await stack.startWorkers([role], { extraEnv: { WORKER_HEALTH_PORT: '0', ...extraEnv } });
  workers.set(role, w);
  return w;
}

function healthPort(role: QueueRole): number {
  const out = workers.get(role)?.output.get(role) ?? '';
  const m = out.match(/"healthPort":(\d+)/);
  if (!m) throw new Error(`${role} worker printed no health port:\n${out}`);
  return Number(m[1]);
}

beforeAll(async () => {
  // A server of the file's own: the long-poll interval above is its dynamic config.
  stack = await startStack({
    name: 'ops',
    temporal: { extraArgs: ['--dynamic-config-value', `matching.longPollExpirationInterval="${LONG_POLL}"`] },
  });
  ({ prefix, queues, temporal: env, db, dataDir, ingestDir } = stack);
  await makeTinyClip(path.join(ingestDir, 'clip.mp4'));
  for (const role of ['pipeline', 'media', 'ai', 'index'] as const) await startRole(role);
  api = await stack.startOpsApi({
    env: {
      ADMISSION_MAX_BACKLOG: '3',
      ADMISSION_CACHE_MS: '200',
      LAG_ALERT_MS: '3000',
      POLLER_STALE_AFTER_MS: STALE_MS,
      RATE_LIMIT_MAX: '0',
    },
  });
});

afterAll(() => stack?.stop());

async function post(videoId: string) {
  const res = await api.app.inject({ method: 'POST', url: '/videos', payload: { videoId, source: { kind: 'file', path: 'clip.mp4' } } });
  return { status: res.statusCode, headers: res.headers, body: res.json() };
}

async function get(videoId: string): Promise<VideoStatus> {
  return (await api.app.inject({ method: 'GET', url: `/videos/${videoId}` })).json() as VideoStatus;
}

const waitReady = (videoId: string, timeoutMs = 90_000) =>
  waitFor(`${videoId} ready`, async () => ((await get(videoId)).status === 'ready' ? true : undefined), timeoutMs, 300);

async function scrape(): Promise<string> {
  const res = await api.app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  return res.body;
}

test('a bounded flood gets 429 + Retry-After once the backlog limit passes; every accepted upload completes; worker memory stays flat', async () => {
  // Warm-up run, so RSS "before" is a worker that has already run each step once.
  expect((await post('warm-1')).status).toBe(202);
  await waitReady('warm-1');
  const pids = (['media', 'ai', 'index', 'pipeline'] as const).map((r) => [r, workers.get(r)!.procs.get(r)!.pid!] as const);
  const before = Object.fromEntries(pids.map(([r, pid]) => [r, rssBytes(pid)]));

  const accepted: string[] = [];
  const refused: { id: string; retryAfter: string | undefined; type: string }[] = [];
  for (let wave = 0; wave < 12; wave++) {
    const results = await Promise.all([0, 1, 2].map((i) => post(`flood-${wave}-${i}`).then((r) => ({ id: `flood-${wave}-${i}`, ...r }))));
    for (const r of results) {
      if (r.status === 202) accepted.push(r.id);
      else if (r.status === 429)
        refused.push({ id: r.id, retryAfter: r.headers['retry-after'] as string | undefined, type: r.body.error.type });
      else throw new Error(`unexpected ${r.status}: ${JSON.stringify(r.body)}`);
    }
    await sleep(300);
  }
  console.log(`flood: ${accepted.length} accepted, ${refused.length} refused (429) of ${accepted.length + refused.length}`);
  expect(refused.length).toBeGreaterThan(0);
  expect(accepted.length).toBeGreaterThanOrEqual(3);
  for (const r of refused) {
    expect(r.type).toBe('Overloaded');
    expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
  }
  // A refused upload was not registered (never accept-and-drop); the rejection is counted.
  const text = await scrape();
  const counted = ['backlog', 'running'].map((reason) => sample(text, 'biblio_admission_rejections_total', { reason }) ?? 0);
  expect(counted[0]! + counted[1]!).toBe(refused.length);
  for (const r of refused) expect((await api.app.inject({ method: 'GET', url: `/videos/${r.id}` })).statusCode).toBe(404);

  for (const id of accepted) await waitReady(id, 180_000);
  // "Ready" is written before the workflow's last media task (the work-area clean-up) runs, so
  // the backlog drains a few seconds later; once it has, uploads are admitted again (no lockout).
  await waitFor(
    'backlog drained after the flood',
    async () => {
      const text = await scrape();
      return Object.values(queues).every((q) => (sample(text, 'biblio_queue_backlog_count', { queue: q }) ?? 0) === 0) ? true : undefined;
    },
    60_000,
    500,
  );
  expect(await post('after-flood')).toMatchObject({ status: 202 });
  await waitReady('after-flood');
  const after = Object.fromEntries(pids.map(([r, pid]) => [r, rssBytes(pid)]));
  const mb = (b: number) => Math.round(b / 1024 / 1024);
  console.log(`worker RSS MB before → after: ${pids.map(([r]) => `${r} ${mb(before[r]!)} → ${mb(after[r]!)}`).join(', ')}`);
  for (const [r] of pids) expect(after[r]! - before[r]!).toBeLessThan(120 * 1024 * 1024);
}, 400_000);

test('the per-client rate limit answers 429 with Retry-After and the one error body; health and metrics are exempt', async () => {
  const limited = await startOpsApi({
    client: env.client,
    pool: db.pool,
    dataDir,
    ingestDir,
    queues,
    env: { RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '60000' },
  });
  try {
    const codes: number[] = [];
    let last;
    for (let i = 0; i < 7; i++) {
      // Auth is off on this app, so a client is its address (a header it picks is no identity).
      last = await limited.app.inject({ method: 'GET', url: '/videos/nope', remoteAddress: '127.0.0.2', headers: { 'x-api-key': 'a1' } });
      codes.push(last.statusCode);
    }
    expect(codes).toEqual([404, 404, 404, 404, 404, 429, 429]);
    expect(Number(last!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(last!.json()).toEqual({ error: { type: 'RateLimited', message: expect.any(String), videoId: null, hint: expect.any(String) } });
    // A new x-api-key from the same address is the same client; another address has its own budget.
    expect(
      (await limited.app.inject({ method: 'GET', url: '/videos/nope', remoteAddress: '127.0.0.2', headers: { 'x-api-key': 'a2' } }))
        .statusCode,
    ).toBe(429);
    expect((await limited.app.inject({ method: 'GET', url: '/videos/nope', remoteAddress: '127.0.0.3' })).statusCode).toBe(404);
    // Probes are never limited.
    for (let i = 0; i < 8; i++)
      expect((await limited.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '127.0.0.2' })).statusCode).toBe(200);
    expect((await limited.app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({
      ready: true,
      checks: { database: { ok: true }, temporal: { ok: true } },
    });
  } finally {
    await limited.close();
  }
});

test('the lag metric rises while the media workers are stopped and falls when they return', async () => {
  await workers.get('media')!.stop();
  // Promptly (not after the server's 5-minute poller memory): status names the missing worker.
  expect(await post('lag-1')).toMatchObject({ status: 202 });
  expect(await post('lag-2')).toMatchObject({ status: 202 });
  const waiting = await waitFor('waitingFor media', async () => (await get('lag-1')).waitingFor ?? undefined, 40_000, 500);
  expect(waiting).toBe(`no worker is polling task queue '${queues.media}'`);

  const first = await waitFor('media backlog age > 1 s', async () => {
    const v = sample(await scrape(), 'biblio_queue_backlog_age_seconds', { queue: queues.media });
    return v !== undefined && v > 1 ? v : undefined;
  });
  const over = await waitFor('lag over threshold', async () => {
    const text = await scrape();
    return sample(text, 'biblio_queue_lag_over_threshold', { queue: queues.media }) === 1 ? text : undefined;
  });
  await waitFor('media backlog age rising', async () => {
    const v = sample(await scrape(), 'biblio_queue_backlog_age_seconds', { queue: queues.media });
    return v !== undefined && v > first ? v : undefined;
  });
  expect(sample(over, 'biblio_queue_backlog_count', { queue: queues.media })).toBeGreaterThanOrEqual(1);
  const health = (await api.app.inject({ method: 'GET', url: '/healthz' })).json();
  expect(health.scaleOut).toContain(queues.media);
  expect(health.lag[queues.media].overThreshold).toBe(true);

  await startRole('media');
  await waitReady('lag-1');
  await waitReady('lag-2');
  await waitFor(
    'lag back under threshold',
    async () => {
      const text = await scrape();
      return sample(text, 'biblio_queue_lag_over_threshold', { queue: queues.media }) === 0 &&
        (sample(text, 'biblio_queue_backlog_age_seconds', { queue: queues.media }) ?? 99) < 3
        ? true
        : undefined;
    },
    30_000,
  );
}, 300_000);

test('each worker serves its own metrics (with the Temporal SDK runtime metrics), liveness and readiness', async () => {
  const media = await fetch(`http://127.0.0.1:${healthPort('media')}/metrics`).then((r) => r.text());
  // The label is the activity type: a short upload's media step is one prepareMedia task.
  expect(sample(media, 'biblio_step_duration_seconds_count', { step: 'prepareMedia', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
  expect(sample(media, 'biblio_transcode_speed_ratio_count')).toBeGreaterThanOrEqual(1);
  expect(media).toMatch(/^temporal_\w+/m); // the SDK's own exporter, merged into the same scrape
  expect(sample(media, 'biblio_worker_process_resident_memory_bytes')).toBeGreaterThan(0);

  const index = healthPort('index');
  expect(await fetch(`http://127.0.0.1:${index}/healthz`).then((r) => r.json())).toMatchObject({
    alive: true,
    role: 'index',
    state: 'RUNNING',
  });
  const ready = await fetch(`http://127.0.0.1:${index}/readyz`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toMatchObject({
    ready: true,
    checks: { worker: { ok: true }, temporal: { ok: true }, database: { ok: true }, vectorStore: { ok: true } },
  });
});

test('readiness is false while the worker cannot reach its database', async () => {
  const broken = await startWorkers(['index'], {
    temporalAddress: env.address,
    databaseUrl: 'postgres://postgres@127.0.0.1:1/none',
    dataDir,
    queuePrefix: `${prefix}broken-`,
    extraEnv: { WORKER_HEALTH_PORT: '0' },
  });
  try {
    const port = Number((broken.output.get('index') ?? '').match(/"healthPort":(\d+)/)![1]);
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body).toMatchObject({ ready: false, checks: { temporal: { ok: true }, database: { ok: false } } });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200); // alive, just not ready
  } finally {
    await broken.stop();
  }
});

test('with the workflow worker down, status keeps the step it had, names the missing worker and answers fast', async () => {
  await workers.get('media')!.stop();
  expect(await post('wfdown-1')).toMatchObject({ status: 202 });
  await waitFor('wfdown-1 in transcode', async () => ((await get('wfdown-1')).step === 'transcode' ? true : undefined), 30_000);
  await workers.get('pipeline')!.stop();
  try {
    const timings: number[] = [];
    let status: VideoStatus | undefined;
    await waitFor(
      'workflow worker reported missing',
      async () => {
        const t = Date.now();
        status = await get('wfdown-1');
        timings.push(Date.now() - t);
        // Never a regression to queued while the worker is gone.
        expect(status).toMatchObject({ status: 'processing', step: 'transcode', workflowStatus: 'RUNNING' });
        return status.waitingFor?.includes(queues.pipeline) ? true : undefined;
      },
      40_000,
      500,
    );
    expect(status!.waitingFor).toBe(
      `no worker is polling task queue '${queues.pipeline}' (workflow worker); no worker is polling task queue '${queues.media}'`,
    );
    // At most one request per 30 s waits out the query deadline; the rest answer quickly.
    expect(timings.filter((ms) => ms > 2_000).length).toBeLessThanOrEqual(1);
    const t = Date.now();
    await get('wfdown-1');
    expect(Date.now() - t).toBeLessThan(1_500);
  } finally {
    await startRole('pipeline');
    await startRole('media');
  }
  await waitReady('wfdown-1');
}, 300_000);

test('a run past its execution timeout (the TTL) ends with a typed, visible WorkflowTimedOut', async () => {
  const ttl = await startOpsApi({
    client: env.client,
    pool: db.pool,
    dataDir,
    ingestDir,
    queues: { ...queues, media: `${prefix}nobody-polls` },
    // A 2 s TTL so the run times out within the test; the refresh deadline must be shorter than the
    // TTL (a start-up cross-check), so it shrinks with it.
    env: { WORKFLOW_EXECUTION_TIMEOUT_MS: '2000', SOURCE_REFRESH_DEADLINE_MS: '1000' },
  });
  try {
    const res = await ttl.app.inject({
      method: 'POST',
      url: '/videos',
      payload: { videoId: 'ttl-1', source: { kind: 'file', path: 'clip.mp4' } },
    });
    expect(res.statusCode).toBe(202);
    const final = await waitFor(
      'ttl-1 timed out',
      async () => {
        const s = (await ttl.app.inject({ method: 'GET', url: '/videos/ttl-1' })).json() as VideoStatus;
        return s.workflowStatus === 'TIMED_OUT' ? s : undefined;
      },
      30_000,
    );
    expect(final).toMatchObject({ status: 'failed', lastError: { type: 'WorkflowTimedOut' } });
    expect(final.lastError?.message).toMatch(/execution timeout/);
  } finally {
    await ttl.close();
  }
});
