import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { VideoStatus } from '../../src/app/status';
import { traceSteps } from '../../src/temporal/step-trace';
import type { TestApi } from '../support/api';
import type { TestDatabase } from '../support/database';
import { FAULT_SERVER_KEY, faultProvider } from '../support/fault-provider';
import { makeTinyClip } from '../support/media';
import { startOpenAiFaultServer, type OpenAiFaultServer } from '../support/openai-fault-server';
import { startStack, type Stack } from '../support/stack';

// The `openai` SDK path end to end, against an OpenAI-compatible server that misbehaves on cue
// (the one double in these tests: a paid external API that must fail on purpose).
const CHAT = '/v1/chat/completions';

let stack: Stack;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let fault: OpenAiFaultServer;
let api: TestApi;

beforeAll(async () => {
  fault = await startOpenAiFaultServer();
  // 5 s instead of the product's 10 s: the fault server answers at once, so only a broken script
  // leaves a request waiting, and the run should then fail well inside runVideo's 60 s.
  const provider = faultProvider(fault, { OPENAI_TIMEOUT_MS: '5000' });
  stack = await startStack({
    name: 'openai',
    workers: ['pipeline', 'media', 'ai', 'index'],
    workerEnv: provider.env,
    api: { openai: provider.openai },
  });
  ({ temporal: env, db, api } = stack);
  await makeTinyClip(path.join(stack.ingestDir, 'harbour cranes.mp4'));
  // Another title: the same clip under the same title would be answered from the response cache.
  await makeTinyClip(path.join(stack.ingestDir, 'rejected key.mp4'));
});

afterAll(async () => {
  await stack?.stop();
  await fault?.close();
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
  // What the provider billed for this video (the search below is billed too, but to no video).
  const billedForVideo = fault.billed.map((b) => b.requestId);

  expect(final.status).toBe('ready');
  expect(final.result).toMatchObject({ analyzer: 'openai', model: 'text-embedding-3-small', offlineAnalysis: false });
  const analyze = (await traceSteps(env.client, 'video-openai-429')).find((t) => t.activity === 'analyze');
  expect(analyze?.attempt).toBe(2);
  // One request per attempt: the SDK's own retries are off, Temporal owns retrying.
  const chats = chatRequestsFor(before);
  expect(chats).toHaveLength(2);
  expect(chats[1]!.at - chats[0]!.at).toBeGreaterThanOrEqual(900);
  expect(chats[0]!.headers.authorization).toBe(`Bearer ${FAULT_SERVER_KEY}`);

  const search = await api.app.inject({ method: 'GET', url: '/search?q=harbour%20cranes' });
  expect(search.json()).toMatchObject({ analyzer: 'openai' });
  expect(search.json().results.map((r: { videoId: string }) => r.videoId)).toContain('openai-429');
  // Issue 25: one ledger row per paid request, labelled with its own model and the provider's
  // request id (the 429 was not billed and is not charged), beside the media step's seconds.
  const { rows } = await db.pool.query<{ step: string; kind: string; model: string | null; request_id: string | null; quantity: number }>(
    'SELECT step, kind, model, request_id, quantity FROM usage_ledger WHERE video_id = $1 ORDER BY step, kind',
    ['openai-429'],
  );
  expect(rows.map((r) => [r.step, r.kind, r.model])).toEqual([
    ['analyze', 'chat', 'gpt-4o-mini'],
    ['analyze', 'embedding', 'text-embedding-3-small'],
    ['analyze', 'transcription', 'whisper-1'],
    ['transcode', 'encoded_seconds', null],
  ]);
  expect(rows.every((r) => r.quantity > 0)).toBe(true);
  expect(rows.flatMap((r) => (r.request_id ? [r.request_id] : [])).sort()).toEqual(billedForVideo.sort());
});

test('a rejected API key fails the video with AiRejected after one request, without retries', async () => {
  const before = fault.requests.length;
  fault.setScript([{ kind: 'status', status: 401 }], CHAT);

  const final = await runVideo('openai-401', 'rejected key.mp4');

  expect(final.status).toBe('failed');
  expect(final.lastError).toMatchObject({ type: 'AiRejected', step: 'analyze' });
  expect(final.lastError?.message).not.toContain(FAULT_SERVER_KEY);
  expect(chatRequestsFor(before)).toHaveLength(1);
});
