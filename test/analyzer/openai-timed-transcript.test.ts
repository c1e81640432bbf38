import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OpenAiAnalyzer } from '../../src/adapters/analyzer/openai-analyzer';
import { MemoryResponseCache } from '../../src/adapters/analyzer/response-cache';
import type { AnalysisRequest } from '../../src/adapters/analyzer/port';
import { sampleFacts } from '../support/facts';
import { faultProvider } from '../support/fault-provider';
import { startOpenAiFaultServer, type OpenAiFaultServer } from '../support/openai-fault-server';

// Issue 30, at the adapter: transcription asks for verbose_json segments, and each chunk's
// segment times (relative to the chunk) land on the video's clock.
const AUDIO = '/v1/audio/transcriptions';
let server: OpenAiFaultServer | undefined;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'biblio-timed-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function request(chunks: number, chunkSec: number): Promise<AnalysisRequest> {
  const audioChunks = [];
  for (let i = 0; i < chunks; i++) {
    const p = path.join(dir, `audio-${String(i).padStart(3, '0')}.mp3`);
    await writeFile(p, Buffer.from(`mp3 ${i}`));
    audioChunks.push({ path: p, sha256: `sha-${i}`, bytes: 5, startSec: i * chunkSec, durationSec: chunkSec });
  }
  return { videoId: 'v-timed', title: 'timed', facts: sampleFacts, inputs: { keyframes: [], audioChunks, audio: 'present' } };
}

it('asks for verbose_json segments and adds each chunk start to its segment times', async () => {
  // Chunk i says the same relative times; only the product's offset tells them apart.
  server = await startOpenAiFaultServer({
    dim: 8,
    transcribe: async (_audio, fields) => ({
      text: `words of ${fields['fileName']}`,
      language: 'english',
      duration: 9,
      segments: [
        { id: 0, start: 1.5, end: 3, text: `first of ${fields['fileName']}` },
        { id: 1, start: 5.25, end: 6, text: `second of ${fields['fileName']}` },
      ],
    }),
  });
  const cache = new MemoryResponseCache();
  const analyzer = new OpenAiAnalyzer(faultProvider(server).openai, { transcribeModel: 'whisper-1', cache });
  const result = await analyzer.analyze(await request(3, 9));

  const sent = server.requests.filter((r) => r.path === AUDIO);
  expect(sent).toHaveLength(3);
  for (const r of sent) expect(r.body).toMatchObject({ response_format: 'verbose_json', 'timestamp_granularities[]': 'segment' });
  expect(result.transcriptStatus).toBe('present');
  expect(result.timedTranscript?.language).toBe('en');
  expect(result.timedTranscript?.segments.map((s) => [s.startSec, s.endSec])).toEqual([
    [1.5, 3],
    [5.25, 6],
    [10.5, 12],
    [14.25, 15],
    [19.5, 21],
    [23.25, 24],
  ]);
  expect(result.timedTranscript?.segments[2]?.text).toBe('first of audio-001.mp3');
  // whisper-1's verbose_json has no usage block: the ledger bills its `duration`.
  expect(cache.charges.filter((c) => c.kind === 'transcription').map((c) => c.audioSeconds)).toEqual([9, 9, 9]);
});

it('gives a provider that answers plain {text} one segment per chunk, spanning the chunk', async () => {
  server = await startOpenAiFaultServer({ dim: 8 });
  const analyzer = new OpenAiAnalyzer(faultProvider(server).openai, { transcribeModel: 'whisper-1' });
  const result = await analyzer.analyze(await request(2, 5));
  expect(result.timedTranscript?.language).toBeUndefined();
  expect(result.timedTranscript?.segments.map((s) => [s.startSec, s.endSec])).toEqual([
    [0, 5],
    [5, 10],
  ]);
  expect(result.timedTranscript?.segments[1]?.text).toContain('audio-001.mp3');
});
