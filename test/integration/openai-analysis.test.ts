import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { VideoStatus } from '../../src/api/status';
import { taskQueues } from '../../src/pipeline/catalogue';
import { traceSteps } from '../../src/temporal/step-trace';
import { startApi, type TestApi } from '../support/api';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeTinyClip } from '../support/media';
import { startOpenAiFaultServer, type OpenAiFaultServer } from '../support/openai-fault-server';
import { startTemporal } from '../support/temporal';
import { startWorkers, type WorkerProcesses } from '../support/workers';

// The `openai` SDK path end to end, against an OpenAI-compatible server that misbehaves on cue
// (the one double in these tests: a paid external API that must fail on purpose).
const prefix = `t${process.pid}-openai-`;
const queues = taskQueues(prefix);
const CHAT = '/v1/chat/completions';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let fault: OpenAiFaultServer;
let workers: WorkerProcesses;
let api: TestApi;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-openai-'));
  const ingestDir = path.join(dataDir, 'ingest');
  await mkdir(ingestDir, { recursive: true });
  await makeTinyClip(path.join(ingestDir, 'harbour cranes.mp4'));
  // Another title: the same clip under the same title would be answered from the response cache.
  await makeTinyClip(path.join(ingestDir, 'rejected key.mp4'));
  fault = await startOpenAiFaultServer();
  env = await startTemporal();
  db = await createTestDatabase();
  const openai = { OPENAI_BASE_URL: fault.url, OPENAI_API_KEY: 'sk-test-key', OPENAI_TIMEOUT_MS: '5000' };
  workers = await startWorkers(['pipeline', 'media', 'ai', 'index'], {
    temporalAddress: env.address,
    databaseUrl: db.url,
    dataDir,
    queuePrefix: prefix,
    extraEnv: { ...openai, BIBLIO_INGEST_DIR: ingestDir },
  });
  api = await startApi({
    client: env.client,
    pool: db.pool,
    dataDir,
    ingestDir,
    queues,
    openai: {
      baseURL: fault.url,
      apiKey: 'sk-test-key',
      chatModel: 'gpt-4o-mini',
      embeddingModel: 'text-embedding-3-small',
      timeoutMs: 5000,
    },
  });
});

afterAll(async () => {
  await api?.close();
  await workers?.stop();
  await env?.teardown();
  await fault?.close();
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function runVideo(videoId: string, file = 'harbour cranes.mp4'): Promise<VideoStatus> {
  const res = await api.app.inject({
    method: 'POST',
    url: '/videos',
    payload: { videoId, source: { kind: 'file', path: file } },
  });
  expect(res.statusCode).toBe(202);
  for (let i = 0; i < 300; i++) {
    const status = (await api.app.inject({ method: 'GET', url: `/videos/${videoId}` })).json() as VideoStatus;
    if (status.status === 'ready' || status.status === 'failed') return status;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${videoId} did not finish`);
}

const chatRequestsFor = (since: number) => fault.requests.slice(since).filter((r) => r.path === CHAT);

test('analyzes through the openai SDK, retrying a 429 after the server-given delay', async () => {
  const before = fault.requests.length;
  fault.setScript([{ kind: 'status', status: 429, headers: { 'retry-after': '1' } }], CHAT);

  const final = await runVideo('openai-429');

  expect(final.status).toBe('ready');
  expect(final.result).toMatchObject({ analyzer: 'openai', model: 'text-embedding-3-small', offlineAnalysis: false });
  const analyze = (await traceSteps(env.client, 'video-openai-429')).find((t) => t.activity === 'analyze');
  expect(analyze?.attempt).toBe(2);
  // One request per attempt: the SDK's own retries are off, Temporal owns retrying.
  const chats = chatRequestsFor(before);
  expect(chats).toHaveLength(2);
  expect(chats[1]!.at - chats[0]!.at).toBeGreaterThanOrEqual(900);
  expect(chats[0]!.headers.authorization).toBe('Bearer sk-test-key');

  const search = await api.app.inject({ method: 'GET', url: '/search?q=harbour%20cranes' });
  expect(search.json()).toMatchObject({ analyzer: 'openai' });
  expect(search.json().results.map((r: { videoId: string }) => r.videoId)).toContain('openai-429');
  // Issue 17: the provider's token usage is charged once in the ledger, with the media step's seconds.
  const { rows } = await db.pool.query<{ step: string; kind: string; quantity: number }>(
    'SELECT step, kind, quantity FROM usage_ledger WHERE video_id = $1 ORDER BY step',
    ['openai-429'],
  );
  expect(rows.map((r) => [r.step, r.kind])).toEqual([
    ['analyze', 'ai_tokens'],
    ['transcode', 'encoded_seconds'],
  ]);
  expect(rows[0]?.quantity).toBeGreaterThan(0);
});

test('a rejected API key fails the video with AiRejected after one request, without retries', async () => {
  const before = fault.requests.length;
  fault.setScript([{ kind: 'status', status: 401 }], CHAT);

  const final = await runVideo('openai-401', 'rejected key.mp4');

  expect(final.status).toBe('failed');
  expect(final.lastError).toMatchObject({ type: 'AiRejected', step: 'analyze' });
  expect(final.lastError?.message).not.toContain('sk-test-key');
  expect(chatRequestsFor(before)).toHaveLength(1);
});
