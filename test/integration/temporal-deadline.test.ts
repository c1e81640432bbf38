import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { OfflineAnalyzer } from '../../src/adapters/analyzer/offline-analyzer';
import { LanceDbVectorStore } from '../../src/adapters/vector-store/lancedb-store';
import { buildApp } from '../../src/api/app';
import { DeadLetterService } from '../../src/app/dead-letter-service';
import { wireOps } from '../../src/api/ops-wiring';
import { VideoService } from '../../src/app/video-service';
import { createRepositories } from '../../src/db/repositories';
import { loadConfig } from '../../src/config';
import { DeadLettersRepo } from '../../src/db/dead-letters-repo';
import { VideosRepo } from '../../src/db/videos-repo';
import { workflowIdFor } from '../../src/workflows/ids';
import { makeTinyClip } from '../support/media';
import { startStack, type Stack } from '../support/stack';
import { startDiskTemporal, type DiskTemporal } from '../support/disk-temporal';
import { loadUrlSealer } from '../../src/security/sealed-url';

// Issue 26: with Temporal down, every route that needs it answers 503 TemporalUnavailable within
// the ~5 s the API promises (docs/api.md), on production defaults (no deadline overrides).
// The stack has its own Temporal dev server, killed by this file.
let stack: Stack;
let temporal: DiskTemporal;
let app: FastifyInstance;

beforeAll(async () => {
  stack = await startStack({ name: 'tdead', temporal: false });
  await makeTinyClip(path.join(stack.ingestDir, 'clip.mp4'));
  temporal = await startDiskTemporal(stack.dataDir);
  stack.onStop(() => temporal.kill());
  const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
  stack.onStop(() => client.connection.close().catch(() => undefined));

  const config = loadConfig({ OUTBOX_SWEEP_MS: '0' });
  const ops = wireOps({ client, pool: stack.db.pool, queues: stack.queues, config });
  const vectorStore = await LanceDbVectorStore.open(path.join(stack.dataDir, 'lancedb'));
  stack.onStop(() => vectorStore.close());
  const sealer = await loadUrlSealer({ dataDir: stack.dataDir });
  const repos = createRepositories(stack.db.pool);
  const service = new VideoService({
    client,
    repos,
    analyzer: new OfflineAnalyzer(),
    vectorStore,
    queues: stack.queues,
    ingestDir: stack.ingestDir,
    temporalUiUrl: 'http://localhost:8233',
    mediaHeartbeatTimeoutMs: config.workers.mediaHeartbeatTimeoutMs,
    queueStats: ops.queueStats,
    sealer,
  });
  const deadLetters = new DeadLetterService({
    client,
    deadLetters: repos.deadLetters,
    ingestDir: stack.ingestDir,
    temporalUiUrl: 'http://localhost:8233',
  });
  // Auth has its own tests (uploads-auth.test.ts, db-unavailable.test.ts): off here, explicitly.
  app = buildApp(service, { ops: ops.deps, deadLetters, refresh: true, auth: { disabled: true } });
  await app.ready();
  stack.onStop(() => app.close());

  // What the routes act on: a file video, a URL video, and a dead letter of a run.
  const videos = new VideosRepo(stack.db.pool);
  await videos.claim('td-file', { kind: 'file', path: path.join(stack.ingestDir, 'clip.mp4') }, workflowIdFor('td-file'));
  await videos.claim('td-url', { kind: 'url', url: 'https://93.184.215.14/a.mp4' }, workflowIdFor('td-url'));
  await new DeadLettersRepo(stack.db.pool).record({
    videoId: 'td-file',
    workflowId: workflowIdFor('td-file'),
    runId: '5c1d9a4e-0b7f-4a4e-9a51-0d1f3c2b6e11',
    step: 'transcode',
    errorType: 'TranscodeFailed',
    message: 'ffmpeg failed',
    attempts: 3,
    input: null,
  });
}, 120_000);

afterAll(() => stack?.stop());

const routes: { name: string; method: 'POST' | 'DELETE'; url: () => Promise<string>; payload?: object }[] = [
  {
    name: 'POST /videos',
    method: 'POST',
    url: async () => '/videos',
    payload: { videoId: 'td-new', source: { kind: 'file', path: 'clip.mp4' } },
  },
  { name: 'DELETE /videos/:id', method: 'DELETE', url: async () => '/videos/td-file' },
  {
    name: 'POST /dead-letters/:id/replay',
    method: 'POST',
    url: async () => `/dead-letters/${(await new DeadLettersRepo(stack.db.pool).list({ limit: 1 }))[0]!.id}/replay`,
  },
  {
    name: 'POST /videos/:id/refresh-url',
    method: 'POST',
    url: async () => '/videos/td-url/refresh-url',
    payload: { url: 'https://93.184.215.14/b.mp4' },
  },
];

test('with Temporal down, every route that needs it answers 503 TemporalUnavailable with Retry-After within ~5 s', async () => {
  await temporal.kill();
  for (const r of routes) {
    const url = await r.url();
    const began = Date.now();
    const res = await app.inject({ method: r.method, url, payload: r.payload });
    const tookMs = Date.now() - began;
    console.log(`${r.name} with Temporal down: ${res.statusCode} in ${tookMs} ms`);
    expect({ route: r.name, status: res.statusCode, type: res.json().error?.type }).toEqual({
      route: r.name,
      status: 503,
      type: 'TemporalUnavailable',
    });
    expect(res.headers['retry-after']).toBe('5');
    // A contract promise (docs/api.md: "within ~5 s"), not a benchmark: the bound leaves room
    // for a loaded machine, and is far below the ~20 s the SDK's own retries would take.
    expect(tookMs).toBeLessThan(8_000);
  }
}, 120_000);
