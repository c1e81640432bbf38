import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { OpenAiAnalyzer, type OpenAiAnalyzerOptions } from '../../src/adapters/analyzer/openai-analyzer';
import { MemoryResponseCache, type CachedResponse } from '../../src/adapters/analyzer/response-cache';
import type { AnalysisRequest } from '../../src/adapters/analyzer/port';
import type { AiCallCharge } from '../../src/db/usage-ledger-repo';
import type { AnalysisInputs } from '../../src/workflows/contracts';
import { sampleFacts } from '../support/facts';
import { faultProvider } from '../support/fault-provider';
import { startOpenAiFaultServer, type OpenAiFaultServer, type RecordedRequest } from '../support/openai-fault-server';

// Issue 25, at the adapter: paid answers are recorded before parsing and never bought in a loop;
// transcription is optional. The fault server is the provider; MemoryResponseCache stands for the
// PostgreSQL cache + ledger (same contract: one transaction there, one call here).
const CHAT = '/v1/chat/completions';
const AUDIO = '/v1/audio/transcriptions';
const NOT_JSON = 'Sure! This video shows a harbour with cranes at dawn.';

let server: OpenAiFaultServer;
let dir: string;

beforeEach(async () => {
  server = await startOpenAiFaultServer({ dim: 8 });
  dir = await mkdtemp(path.join(os.tmpdir(), 'biblio-paid-'));
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function analyzer(opts: OpenAiAnalyzerOptions = {}): OpenAiAnalyzer {
  return new OpenAiAnalyzer(faultProvider(server, { OPENAI_TIMEOUT_MS: '5000' }).openai, { transcribeModel: 'whisper-1', ...opts });
}

/** A request whose inputs are real files: one keyframe and `chunks` audio chunks with distinct bytes. */
async function requestWith(videoId: string, chunks: number): Promise<AnalysisRequest> {
  const keyframe = path.join(dir, `${videoId}-kf.jpg`);
  await writeFile(keyframe, Buffer.from(`jpeg of ${videoId}`));
  const audioChunks: AnalysisInputs['audioChunks'] = [];
  for (let i = 0; i < chunks; i++) {
    const p = path.join(dir, `${videoId}-audio-${i}.mp3`);
    await writeFile(p, Buffer.from(`mp3 of ${videoId} ${i}`));
    audioChunks.push({ path: p, sha256: `${videoId}-sha-${i}`, bytes: 10, startSec: i * 5, durationSec: 5 });
  }
  return {
    videoId,
    title: `clip ${videoId}`,
    facts: sampleFacts,
    inputs: {
      keyframes: [{ path: keyframe, sha256: `${videoId}-kf`, bytes: 10, atSec: 1 }],
      audioChunks,
      audio: chunks > 0 ? 'present' : 'none',
    },
  };
}

const onPath = (p: string): RecordedRequest[] => server.requests.filter((r) => r.path === p);
/** Chat requests carrying images: the expensive, identical request. */
const imageChats = (): RecordedRequest[] => onPath(CHAT).filter((r) => (r.imageParts ?? 0) > 0);

async function rejection(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

/** The ledger (cache charges) says exactly what the provider billed: the same requests, the same units. */
function expectLedgerMatchesBill(charges: AiCallCharge[]): void {
  const sum = (xs: { inputTokens: number; outputTokens: number; audioSeconds: number }[]) =>
    xs.reduce((a, x) => ({ in: a.in + x.inputTokens, out: a.out + x.outputTokens, sec: a.sec + x.audioSeconds }), {
      in: 0,
      out: 0,
      sec: 0,
    });
  expect(charges.map((c) => c.requestId).sort()).toEqual(server.billed.map((b) => b.requestId).sort());
  expect(sum(charges)).toEqual(sum(server.billed));
}

describe('a paid answer is never thrown away', () => {
  it('repairs a non-JSON chat answer with one text-only re-ask and charges both answers', async () => {
    server.setScript([{ kind: 'content', content: NOT_JSON }], CHAT);
    const cache = new MemoryResponseCache();
    const result = await analyzer({ cache }).analyze(await requestWith('v-repair', 0));

    expect(result.summary).toMatch(/^Fault-server summary/);
    const chats = onPath(CHAT);
    expect(chats).toHaveLength(2);
    expect(chats[0]!.imageParts).toBe(1);
    // The repair carries no images, and shows the model its unusable answer.
    expect(chats[1]!.imageParts).toBe(0);
    expect(JSON.stringify(chats[1]!.body)).toContain(NOT_JSON);
    expect(cache.charges.map((c) => [c.kind, c.details?.['purpose']])).toEqual([
      ['chat', 'analysis'],
      ['chat', 'repair'],
      ['embedding', 'analysis'],
    ]);
    expect(cache.charges.every((c) => c.videoId === 'v-repair' && c.step === 'analyze')).toBe(true);
    expect(cache.charges[0]!.imageTokens).toBe(85);
    expectLedgerMatchesBill(cache.charges);
  });

  it('sends the identical image request at most twice per video however often the analysis is retried, and charges every answer once', async () => {
    server.addWindow({ from: 0, to: Number.MAX_SAFE_INTEGER, path: CHAT, step: { kind: 'content', content: NOT_JSON } });
    const cache = new MemoryResponseCache();
    const req = await requestWith('v-garbage', 0);
    const types: string[] = [];
    // The first attempt, then four re-analysis timers (one analyzer per worker process, one shared cache).
    for (let i = 0; i < 5; i++) types.push((await rejection(analyzer({ cache }).analyze(req))).type!);

    expect(types).toEqual(Array(5).fill('AiBadAnswer'));
    expect(imageChats()).toHaveLength(2);
    // One repair per distinct unusable answer (both answers are the same text here): one repair in all.
    expect(onPath(CHAT).filter((r) => r.imageParts === 0)).toHaveLength(1);
    expect(onPath('/v1/embeddings')).toHaveLength(0);
    expectLedgerMatchesBill(cache.charges);
  });

  it('marks an unusable answer as non-retryable AiBadAnswer (the activity degrades it), not AiUnavailable', async () => {
    server.addWindow({ from: 0, to: Number.MAX_SAFE_INTEGER, path: CHAT, step: { kind: 'content', content: '{"tags": ["x"]}' } });
    const f = await rejection(analyzer().analyze(await requestWith('v-shape', 0)));
    expect(f.type).toBe('AiBadAnswer');
    expect(f.nonRetryable).toBe(true);
  });

  it('waits for a database restart to record a paid answer: the ledger still equals the bill, nothing bought twice', async () => {
    // The PostgreSQL cache + ledger refusing connections for 2 s (a restart), then back.
    class RestartingCache extends MemoryResponseCache {
      readonly downUntil = Date.now() + 2_000;
      refused = 0;
      override async put<T>(key: string, kind: string, model: string, entry: CachedResponse<T>, charge?: AiCallCharge): Promise<void> {
        if (Date.now() < this.downUntil) {
          this.refused++;
          throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
        }
        return super.put(key, kind, model, entry, charge);
      }
    }
    const cache = new RestartingCache();
    const warnings: string[] = [];
    const req = await requestWith('v-pg-restart', 1);
    await analyzer({ cache, warn: (m) => warnings.push(m) }).analyze(req);
    expect(cache.refused).toBeGreaterThan(2);
    expect(warnings).toEqual([]);
    expectLedgerMatchesBill(cache.charges);
    // A later attempt (the activity retried for another reason) reads every answer back: no second purchase.
    const before = server.requests.length;
    await analyzer({ cache }).analyze(req);
    expect(server.requests.length).toBe(before);
  }, 20_000);

  it('reads a paid chat answer back after a later call failed: a retry pays only for what was never answered', async () => {
    server.setScript([{ kind: 'status', status: 503 }], '/v1/embeddings');
    const cache = new MemoryResponseCache();
    const req = await requestWith('v-retry', 1);
    expect((await rejection(analyzer({ cache }).analyze(req))).type).toBe('AiUnavailable');
    const before = server.requests.length;
    await analyzer({ cache }).analyze(req);
    expect(server.requests.slice(before).map((r) => r.path)).toEqual(['/v1/embeddings']);
    expectLedgerMatchesBill(cache.charges);
  });
});

describe('transcription is optional', () => {
  it('analyses from frames when the provider has no transcription route, asking for it once per process (analyzer)', async () => {
    server.setRouteMissing(AUDIO, 404);
    const a = analyzer({ cache: new MemoryResponseCache() });
    // Two concurrent analyses while the route is unknown, then a third: one probe in all.
    const [r1, r2] = await Promise.all([a.analyze(await requestWith('v-a', 2)), a.analyze(await requestWith('v-b', 2))]);
    const r3 = await a.analyze(await requestWith('v-c', 1));

    expect(onPath(AUDIO)).toHaveLength(1);
    for (const r of [r1, r2, r3]) {
      expect(r.transcriptStatus).toBe('unavailable');
      expect(r.transcript).toBeUndefined();
      expect(r.summary).toMatch(/^Fault-server summary/);
    }
    expect(onPath(CHAT)).toHaveLength(3);
    expect(a.transcription.state).toBe('absent');
  });

  it.each([400, 405])('treats %i on a never-working transcription route as absent', async (status) => {
    server.setRouteMissing(AUDIO, status);
    const a = analyzer();
    expect((await a.analyze(await requestWith('v-1', 1))).transcriptStatus).toBe('unavailable');
    expect((await a.analyze(await requestWith('v-2', 1))).transcriptStatus).toBe('unavailable');
    expect(onPath(AUDIO)).toHaveLength(1);
  });

  it('sends no transcription request with AI_TRANSCRIBE=off and says the audio was not heard', async () => {
    const result = await analyzer({ transcribe: false }).analyze(await requestWith('v-off', 2));
    expect(onPath(AUDIO)).toHaveLength(0);
    expect(result.transcriptStatus).toBe('unavailable');
    expect(JSON.stringify(onPath(CHAT)[0]!.body)).toContain('\\"transcript\\":null');
  });

  it('once the route has worked, a 400 for one video skips that audio only; the next video is transcribed', async () => {
    const a = analyzer();
    expect((await a.analyze(await requestWith('v-ok', 1))).transcriptStatus).toBe('present');
    server.setScript([{ kind: 'status', status: 400, body: { error: { message: 'Audio file might be corrupted' } } }], AUDIO);
    expect((await a.analyze(await requestWith('v-bad-audio', 2))).transcriptStatus).toBe('unavailable');
    expect((await a.analyze(await requestWith('v-next', 1))).transcriptStatus).toBe('present');
    expect(a.transcription.state).toBe('present');
  });

  it('keeps what was heard when a later chunk cannot be transcribed (partial)', async () => {
    const a = analyzer();
    await a.analyze(await requestWith('v-warm', 1));
    server.setScript([{ kind: 'ok' }, { kind: 'status', status: 400 }], AUDIO);
    const r = await a.analyze(await requestWith('v-partial', 2));
    expect(r.transcriptStatus).toBe('partial');
    expect(r.transcript).toContain('spoken words from v-partial-audio-0.mp3');
  });

  it('still fails typed on a transcription outage (5xx is not absence) and probes again next time', async () => {
    server.setScript([{ kind: 'status', status: 503 }], AUDIO);
    const a = analyzer();
    expect((await rejection(a.analyze(await requestWith('v-down', 1)))).type).toBe('AiUnavailable');
    expect(a.transcription.state).toBe('unknown');
    expect((await a.analyze(await requestWith('v-up', 1))).transcriptStatus).toBe('present');
  });

  it('keeps a content refusal of this audio terminal', async () => {
    server.setScript([{ kind: 'status', status: 400, body: { error: { message: 'refused', code: 'content_policy_violation' } } }], AUDIO);
    expect((await rejection(analyzer().analyze(await requestWith('v-refused', 1)))).type).toBe('AiContentRejected');
  });
});

describe('a chat model without vision', () => {
  it('analyses from title, facts and transcript when the model refuses image parts, learning it once per process', async () => {
    server.setScript([{ kind: 'status', status: 400, body: { error: { message: 'this model does not support image input' } } }], CHAT);
    const a = analyzer();
    const first = await a.analyze(await requestWith('v-blind-1', 1));
    const second = await a.analyze(await requestWith('v-blind-2', 1));

    expect([first.summary, second.summary]).toEqual([
      expect.stringMatching(/^Fault-server summary/),
      expect.stringMatching(/^Fault-server summary/),
    ]);
    expect(first.transcriptStatus).toBe('present');
    expect(onPath(CHAT).map((r) => [r.status, r.imageParts])).toEqual([
      [400, 1],
      [200, 0],
      [200, 0],
    ]);
    expect(a.vision.state).toBe('absent');
  });

  it('keeps a content refusal of the images terminal', async () => {
    server.setScript([{ kind: 'status', status: 400, body: { error: { message: 'refused', code: 'content_policy_violation' } } }], CHAT);
    expect((await rejection(analyzer().analyze(await requestWith('v-policy', 0)))).type).toBe('AiContentRejected');
    expect(onPath(CHAT)).toHaveLength(1);
  });
});
