import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OpenAiAnalyzer, PROMPT_VERSION } from '../../src/adapters/analyzer/openai-analyzer';
import type { AnalysisRequest } from '../../src/adapters/analyzer/port';
import { sampleFacts } from '../support/facts';
import { faultProvider } from '../support/fault-provider';
import { startOpenAiFaultServer, type OpenAiFaultServer } from '../support/openai-fault-server';

// The chat answer's `shots` (what each keyframe shows) at the adapter: asked for, parsed,
// bounded, and optional, so answers without them (older prompts, text-only models) still parse.
const CHAT = '/v1/chat/completions';
const TIMES = [0, 4, 10, 12];

let server: OpenAiFaultServer;
let dir: string;

beforeEach(async () => {
  server = await startOpenAiFaultServer({ dim: 8 });
  dir = await mkdtemp(path.join(os.tmpdir(), 'biblio-shots-'));
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

// A 5 s request timeout instead of the product's: the fault server answers at once, and a hung
// request should fail this unit-sized test fast rather than wait out the production timeout.
function analyzer(): OpenAiAnalyzer {
  return new OpenAiAnalyzer(faultProvider(server, { OPENAI_TIMEOUT_MS: '5000' }).openai);
}

/** A request with keyframes at TIMES (placeholder bytes: the fault server does not decode them). */
async function request(videoId: string): Promise<AnalysisRequest> {
  const keyframes = [];
  for (const [i, atSec] of TIMES.entries()) {
    const p = path.join(dir, `${videoId}-kf-${i}.jpg`);
    await writeFile(p, Buffer.from(`jpeg ${i} of ${videoId}`));
    keyframes.push({ path: p, sha256: `${videoId}-kf-${i}`, bytes: 10, atSec });
  }
  return {
    videoId,
    title: `clip ${videoId}`,
    facts: { ...sampleFacts, durationSec: 15 },
    inputs: { keyframes, audioChunks: [], audio: 'none' },
  };
}

const answer = (extra: Record<string, unknown>): string => JSON.stringify({ summary: 'A clip.', tags: ['clip'], chapters: [], ...extra });

test('asks for one shot per keyframe, under a new prompt version', async () => {
  await analyzer().analyze(await request('v-ask'));
  const body = server.requests.find((r) => r.path === CHAT)?.body as { messages: { role: string; content: unknown }[] };
  const system = body.messages.find((m) => m.role === 'system')?.content;
  expect(system).toContain('"shots": [{"atSec": number, "description": string}]');
  // The prompt version is part of the answer cache's key: answers to the old prompt are not reused.
  expect(PROMPT_VERSION).not.toBe('v2-vision-chapters');
});

test('the shots of an answer to the images come back bounded: on keyframe times, one per keyframe, inside the video', async () => {
  server.setScript(
    [
      {
        kind: 'content',
        content: answer({
          shots: [
            { atSec: 9.7, description: '  a red car\n on a beach ' },
            { atSec: 0, description: 'a blue sky' },
            { atSec: 10.2, description: 'a second line for the same keyframe' },
            { atSec: 12, description: 'x'.repeat(500) },
            { atSec: 4, description: '' },
          ],
        }),
      },
    ],
    CHAT,
  );
  const result = await analyzer().analyze(await request('v-bound'));
  expect(result.shots?.map((s) => [s.atSec, s.description.length > 160 ? 'too long' : s.description.slice(0, 12)])).toEqual([
    [0, 'a blue sky'],
    [10, 'a red car on'],
    [12, 'xxxxxxxxxxxx'],
  ]);
  expect(Array.from(result.shots![2]!.description)).toHaveLength(160);
  // Bounding never costs a repair.
  expect(server.requests.filter((r) => r.path === CHAT)).toHaveLength(1);
});

test('an answer without shots (or with unusable ones) still parses, with none and no repair', async () => {
  server.setScript(
    [
      { kind: 'content', content: answer({}) },
      { kind: 'content', content: answer({ shots: 'a red car' }) },
    ],
    CHAT,
  );
  expect((await analyzer().analyze(await request('v-old'))).shots).toEqual([]);
  expect((await analyzer().analyze(await request('v-junk'))).shots).toEqual([]);
  expect(server.requests.filter((r) => r.path === CHAT)).toHaveLength(2);
});

test('a text-only model (image parts refused) gives no shots even if its answer invents some', async () => {
  server.setScript(
    [
      {
        kind: 'status',
        status: 400,
        body: { error: { message: 'this model does not support image inputs', type: 'invalid_request_error' } },
      },
      { kind: 'content', content: answer({ shots: [{ atSec: 10, description: 'a red car' }] }) },
    ],
    CHAT,
  );
  const result = await analyzer().analyze(await request('v-blind'));
  const chats = server.requests.filter((r) => r.path === CHAT);
  expect(chats.map((r) => r.imageParts)).toEqual([TIMES.length, 0]);
  expect(result.summary).toBe('A clip.');
  expect(result.shots).toEqual([]);
});

test("the fault server's own answer describes each image it was sent, at the request's keyframe times", async () => {
  const result = await analyzer().analyze(await request('v-fault'));
  // Placeholder bytes are no JPEG: the server says so rather than decoding them.
  expect(result.shots).toEqual(TIMES.map((atSec) => ({ atSec, description: 'an unreadable frame' })));
});
