import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createAiActivities } from '../../src/activities/ai';
import { createAnalysisInputsActivities } from '../../src/activities/media/analysis-inputs';
import type { Analyzer } from '../../src/adapters/analyzer/port';
import { LocalObjectStorage } from '../../src/adapters/storage/local-storage';
import type { ObjectStorage } from '../../src/adapters/storage/port';
import { S3ObjectStorage } from '../../src/adapters/storage/s3-storage';
import { loadConfig } from '../../src/config';
import { ErrorType } from '../../src/errors';
import { renditionKey } from '../../src/media/artifact-keys';
import type { AnalysisInputs, AnalysisInputsInput, AnalyzeOutput, HeartbeatProgress, MediaFacts } from '../../src/workflows/contracts';
import { startMinio } from '../support/minio';
import { cachedMedia, ffmpeg, hdClipArgs, probeJson } from '../support/media-corpus';

// extractAnalysisInputs in-process (MockActivityEnvironment) on real ffmpeg, with the product's
// defaults (threads, keyframe count and size, chunk size, stall timeout): what a worker runs.
const defaults = loadConfig({});
let root: string;
let activities: ReturnType<typeof createAnalysisInputsActivities>;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'biblio-analysis-inputs-'));
  activities = createAnalysisInputsActivities({
    ffmpeg: defaults.ffmpeg,
    artifactsDir: path.join(root, 'artifacts'),
    stallTimeoutMs: defaults.media.stallTimeoutMs,
    ...defaults.ai,
  });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Beat {
  at: number;
  details: HeartbeatProgress;
}

async function extract(input: AnalysisInputsInput): Promise<{ out: AnalysisInputs; beats: Beat[]; startedAt: number; endedAt: number }> {
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  const env = new MockActivityEnvironment({ attempt: 1 }, { logger: quiet });
  const beats: Beat[] = [];
  env.on('heartbeat', (details: HeartbeatProgress) => beats.push({ at: Date.now(), details }));
  const startedAt = Date.now();
  const out = (await env.run(activities.extractAnalysisInputs, input)) as AnalysisInputs;
  return { out, beats, startedAt, endedAt: Date.now() };
}

/** Longest silence between the start, each heartbeat and the end: what the heartbeat timeout sees. */
function longestGapMs(startedAt: number, beats: Beat[], endedAt: number): number {
  const times = [startedAt, ...beats.map((b) => b.at), endedAt];
  return Math.max(...times.slice(1).map((t, i) => t - times[i]!));
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

describe('a 5-minute 1280x720 video (what users upload)', () => {
  let result: Awaited<ReturnType<typeof extract>>;
  const DURATION = 300;

  beforeAll(async () => {
    const clip = await cachedMedia('hd-720p-300s.mp4', (f) => ffmpeg([...hdClipArgs(DURATION), f]));
    result = await extract({ videoId: 'long-1', renditionPath: clip, durationSec: DURATION, hasAudio: true });
  }, 600_000);

  test('heartbeats at least every 2 s in every phase (the production heartbeat timeout is 10 s)', () => {
    // Gaps between heartbeats, not the run's speed: the old keyframe pass decoded the whole
    // video between two heartbeats (13–15 s for 3–5 minutes of 720p).
    expect(longestGapMs(result.startedAt, result.beats, result.endedAt)).toBeLessThanOrEqual(2_000);
    const phases = result.beats.map((b) => b.details.phase).filter((p, i, all) => all[i - 1] !== p);
    expect(phases).toEqual(['keyframes', 'audio', 'digest']);
    expect(result.beats.some((b) => b.details.phase === 'audio' && (b.details.encodedSec ?? 0) > 0)).toBe(true);
  });

  test('takes one keyframe from each sixth of the video, at the time it shows', async () => {
    const { keyframes } = result.out;
    expect(keyframes).toHaveLength(defaults.ai.keyframes);
    // testsrc2 has no cuts: each window gives its first frame, at the window's start.
    keyframes.forEach((k, i) => {
      const windowStart = (i * DURATION) / keyframes.length;
      expect(k.atSec).toBeGreaterThanOrEqual(windowStart);
      expect(k.atSec).toBeLessThan(windowStart + 1);
    });
    for (const k of keyframes) {
      expect(k.bytes).toBeGreaterThan(0);
      expect(await sha256(k.path)).toBe(k.sha256);
      const image = (await probeJson(k.path)).streams[0]!;
      expect(Math.max(Number(image['width']), Number(image['height']))).toBeLessThanOrEqual(defaults.ai.keyframeMaxSide);
    }
  });

  test('cuts the whole audio track into chunks', async () => {
    const { audio, audioChunks } = result.out;
    expect(audio).toBe('present');
    expect(audioChunks.length).toBeGreaterThanOrEqual(1);
    expect(audioChunks[0]!.startSec).toBe(0);
    let total = 0;
    for (const c of audioChunks) {
      expect(await sha256(c.path)).toBe(c.sha256);
      total += Number((await probeJson(c.path)).format['duration']);
    }
    expect(Math.abs(total - DURATION)).toBeLessThan(1);
    expect(await readdir(path.join(root, 'artifacts', 'long-1'))).toEqual(['analysis-inputs']);
  });
});

test('prefers a scene change inside a window to the window’s first frame', async () => {
  // Black, white from 12 s, black again from 31 s: windows start every 10 s and scan 4 s, so
  // windows 1 and 3 hold a cut; the others hold none.
  const clip = path.join(root, 'cuts.mp4');
  // prettier-ignore
  await ffmpeg([
    '-f', 'lavfi', '-i', 'color=c=black:s=320x240:r=25:d=12',
    '-f', 'lavfi', '-i', 'color=c=white:s=320x240:r=25:d=19',
    '-f', 'lavfi', '-i', 'color=c=black:s=320x240:r=25:d=29',
    '-filter_complex', '[0:v][1:v][2:v]concat=n=3:v=1:a=0',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-threads', '1', clip,
  ]);
  const { out } = await extract({ videoId: 'cuts-1', renditionPath: clip, durationSec: 60, hasAudio: false });
  expect(out.keyframes.map((k) => k.atSec)).toEqual([0, 12, 20, 31, 40, 50]);
  expect(out).toMatchObject({ audio: 'none', audioChunks: [] });
}, 120_000);

test('a silent audio track gives no chunks and says so', async () => {
  const clip = path.join(root, 'silent.mp4');
  // prettier-ignore
  await ffmpeg([
    '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=3',
    '-f', 'lavfi', '-i', 'anullsrc=sample_rate=48000:channel_layout=stereo',
    '-t', '3', '-c:v', 'libx264', '-preset', 'ultrafast', '-threads', '1', '-c:a', 'aac', clip,
  ]);
  const { out } = await extract({ videoId: 'silent-1', renditionPath: clip, durationSec: 3, hasAudio: true });
  expect(out).toMatchObject({ audio: 'silent', audioChunks: [] });
  expect(out.keyframes.map((k) => k.atSec)).toEqual([0, 1, 2]);
  expect((await readdir(path.join(root, 'artifacts', 'silent-1', 'analysis-inputs'))).sort()).toEqual([
    'keyframe-01.jpg',
    'keyframe-02.jpg',
    'keyframe-03.jpg',
  ]);
}, 120_000);

test("a dead attempt's scratch dir is swept by the next attempt", async () => {
  const clip = path.join(root, 'stale.mp4');
  await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=2', '-c:v', 'libx264', '-preset', 'ultrafast', clip]);
  // What a SIGKILLed worker leaves: its attempt's scratch dir, under a pid no process has.
  const stale = path.join(root, 'artifacts', 'stale-1', 'analysis-inputs.attempt-1.pid-4194303');
  await mkdir(stale, { recursive: true });
  await writeFile(path.join(stale, 'keyframe-01.jpg'), 'half-written');
  await extract({ videoId: 'stale-1', renditionPath: clip, durationSec: 2, hasAudio: false });
  expect(await readdir(path.join(root, 'artifacts', 'stale-1'))).toEqual(['analysis-inputs']);
}, 120_000);

// The data plane: the AI worker may run on another host than the media worker, so what it reads
// comes from the store, and its own disk is a cache it may have lost. Local store and MinIO.
describe.each([
  ['the local store', startLocalStore],
  ['S3 (MinIO)', startMinioStore],
])('through %s', (_name, start) => {
  let store: { storage: ObjectStorage; close(): Promise<void> } | undefined;
  let clip: string;
  let withStore: ReturnType<typeof createAnalysisInputsActivities>;
  const artifactsDir = () => path.join(root, 'artifacts');
  const aiDir = () => path.join(root, 'ai-host');
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

  beforeAll(async () => {
    store = await start();
    if (!store) return;
    clip = path.join(root, 'tone.mp4');
    // prettier-ignore
    await ffmpeg([
      '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=4',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=4',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-threads', '1', '-c:a', 'aac', '-shortest', clip,
    ]);
    withStore = createAnalysisInputsActivities({
      ffmpeg: defaults.ffmpeg,
      artifactsDir: artifactsDir(),
      stallTimeoutMs: defaults.media.stallTimeoutMs,
      storage: store.storage,
      ...defaults.ai,
    });
  }, 120_000);

  afterAll(async () => {
    await store?.close();
  });

  /** The AI activity on a host of its own (its own artifacts dir), with an analyzer that reads every input. */
  function aiHost(storage: ObjectStorage, read: string[], deferrals = new Map<string, string>()) {
    const analyzer: Analyzer = {
      name: 'reader',
      model: 'reader-1',
      offline: true,
      async analyze(req) {
        for (const item of [...(req.inputs?.keyframes ?? []), ...(req.inputs?.audioChunks ?? [])]) {
          expect(await sha256(item.path)).toBe(item.sha256);
          read.push(path.basename(item.path));
        }
        return { summary: 'read', tags: ['read'], embedding: [1, 0, 0] };
      },
      embedQuery: async () => [1, 0, 0],
    };
    return createAiActivities({
      analyzer,
      artifactsDir: aiDir(),
      storage,
      deferrals: { record: async (id, cause) => void deferrals.set(id, cause), causeOf: async (id) => deferrals.get(id) },
      resilience: { backoff: { baseMs: 1_000, capMs: 10_000 }, degradeAfterMs: 60_000, reanalyzeDelaysMs: [60_000] },
    });
  }

  test('the inputs are published; an AI attempt whose local copies are gone analyses from the store; gone from both → typed, degraded, no path', async () => {
    if (!store) return;
    const { storage } = store;
    const videoId = `dp-${storage.backend}`;
    // The rendition is not on this host: the media step fetches the published one.
    await storage.putFile(renditionKey(videoId), clip, 'video/mp4');
    const env = new MockActivityEnvironment({ attempt: 1 }, { logger: quiet });
    const inputs = (await env.run(withStore.extractAnalysisInputs, {
      videoId,
      renditionPath: path.join(root, 'elsewhere', videoId, 'rendition.mp4'),
      durationSec: 4,
      hasAudio: true,
    })) as AnalysisInputs;
    expect(inputs.audio).toBe('present');
    const items = [...inputs.keyframes, ...inputs.audioChunks];
    expect(inputs.keyframes.length).toBeGreaterThan(0);
    expect(inputs.audioChunks.length).toBeGreaterThan(0);
    for (const item of items) {
      expect(item.key).toMatch(new RegExp(`^analysis/${videoId}/inputs/`));
      const copy = path.join(root, 'check.bin');
      expect(await storage.getFile(item.key!, copy)).toBe(true);
      expect(await sha256(copy)).toBe(item.sha256);
    }
    // Published: the media host keeps nothing of the video (no fetched rendition, no inputs).
    expect((await readdir(artifactsDir())).filter((n) => n.startsWith(videoId))).toEqual([]);
    for (const item of items) await expect(stat(item.path)).rejects.toThrow();

    // The AI host has no local copy either: it analyses from the store.
    const read: string[] = [];
    const ai = aiHost(storage, read);
    const analyzeInput = {
      videoId,
      title: 'tone',
      facts: {
        durationSec: 4,
        width: 320,
        height: 240,
        videoCodec: 'h264',
        audioCodec: 'aac',
        frameRate: 25,
        sizeBytes: 1,
        container: 'mov,mp4',
      } satisfies MediaFacts,
      inputs,
      degradable: true,
    };
    const out = (await new MockActivityEnvironment({ attempt: 1 }, { logger: quiet }).run(ai.analyze, analyzeInput)) as AnalyzeOutput;
    expect(read.sort()).toEqual(items.map((i) => path.basename(i.path)).sort());
    expect(out.embeddingPath).toBe(`analysis/${videoId}/embedding.reader.json`);
    expect(JSON.parse((await storage.getBytes(out.embeddingPath))!.toString('utf8'))).toMatchObject({ videoId, vector: [1, 0, 0] });
    // Fetched inputs lived for the attempt only.
    expect(await readdir(path.join(aiDir(), '.ai-inputs')).catch(() => [])).toEqual([]);

    // Gone from the store too: a typed failure the workflow degrades on, never a raw ENOENT or a path.
    for (const item of items) await storage.delete(item.key!);
    const deferrals = new Map<string, string>();
    const degradable = aiHost(storage, [], deferrals);
    const err = await new MockActivityEnvironment({ attempt: 1 }, { logger: quiet }).run(degradable.analyze, analyzeInput).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: ErrorType.AiDeferred, nonRetryable: true });
    expect((err as ApplicationFailure).details?.[0]).toMatchObject({ cause: ErrorType.AnalysisInputsMissing });
    expect(deferrals.get(videoId)).toBe(ErrorType.AnalysisInputsMissing);
    const strict = await new MockActivityEnvironment({ attempt: 1 }, { logger: quiet })
      .run(degradable.analyze, { ...analyzeInput, degradable: false })
      .then(
        () => undefined,
        (e: unknown) => e as ApplicationFailure,
      );
    expect(strict).toMatchObject({ type: ErrorType.AnalysisInputsMissing, nonRetryable: true });
    for (const message of [(err as Error).message, strict!.message]) {
      expect(message).not.toMatch(/ENOENT/);
      expect(message).not.toContain(root);
      expect(message).not.toMatch(/\/[\w.-]+\/[\w.-]+/);
    }
    // What the workflow runs next: the stand-in, saying why.
    const standIn = (await new MockActivityEnvironment({ attempt: 1 }, { logger: quiet }).run(degradable.analyzeDegraded, {
      ...analyzeInput,
      reason: ErrorType.AiDeferred,
    })) as AnalyzeOutput;
    expect(standIn).toMatchObject({ degraded: true, offline: true });
    expect(standIn.summary).toMatch(/keyframes and audio cut for the analysis were no longer available/);
  }, 120_000);

  // A CI soak killed the media worker -9 while it extracted analysis inputs from a fetched
  // rendition: the copy, kept beside the work dirs, stayed for good. It is fetched into the
  // attempt's work dir now, which the next attempt sweeps; this is what that attempt finds.
  test("a killed attempt's fetched rendition is in its work dir, and the next attempt leaves nothing of the video", async () => {
    if (!store) return;
    const { storage } = store;
    const videoId = `killed-${storage.backend}`;
    await storage.putFile(renditionKey(videoId), clip, 'video/mp4');
    const fetchedTo: string[] = [];
    const getFile: ObjectStorage['getFile'] = (key, file, opts) => {
      if (key === renditionKey(videoId)) fetchedTo.push(file);
      return storage.getFile(key, file, opts);
    };
    const watched = new Proxy(storage, {
      get: (target, name) => {
        if (name === 'getFile') return getFile;
        const value: unknown = Reflect.get(target, name, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const activities = createAnalysisInputsActivities({
      ffmpeg: defaults.ffmpeg,
      artifactsDir: artifactsDir(),
      stallTimeoutMs: defaults.media.stallTimeoutMs,
      storage: watched,
      ...defaults.ai,
    });
    // What attempt 1 left when its worker was killed -9 (a pid no process has).
    const dead = path.join(artifactsDir(), videoId, 'analysis-inputs.attempt-1.pid-4194303');
    await mkdir(dead, { recursive: true });
    await copyFile(clip, path.join(dead, 'rendition.mp4'));
    await new MockActivityEnvironment({ attempt: 2 }, { logger: quiet }).run(activities.extractAnalysisInputs, {
      videoId,
      renditionPath: path.join(root, 'elsewhere', videoId, 'rendition.mp4'),
      durationSec: 4,
      hasAudio: true,
    });
    expect(fetchedTo).toHaveLength(1);
    expect(path.relative(artifactsDir(), fetchedTo[0]!)).toBe(
      path.join(videoId, `analysis-inputs.attempt-2.pid-${process.pid}`, 'rendition.mp4'),
    );
    expect((await readdir(artifactsDir())).filter((n) => n.startsWith(videoId))).toEqual([]);
  }, 120_000);
});

async function startLocalStore(): Promise<{ storage: ObjectStorage; close(): Promise<void> }> {
  const storage = new LocalObjectStorage({
    root: path.join(root, 'objects'),
    secret: randomBytes(32),
    publicBaseUrl: 'http://127.0.0.1:1',
  });
  return { storage, close: async () => storage.close() };
}

async function startMinioStore(): Promise<{ storage: ObjectStorage; close(): Promise<void> } | undefined> {
  const minio = await startMinio();
  if (!minio) return undefined;
  const storage = new S3ObjectStorage({
    endpoint: minio.endpoint,
    region: 'us-east-1',
    bucket: 'biblio-analysis',
    accessKeyId: minio.accessKeyId,
    secretAccessKey: minio.secretAccessKey,
    forcePathStyle: true,
    partSize: 5 * 1024 * 1024,
  });
  await storage.ensureBucket();
  return {
    storage,
    close: async () => {
      await storage.close();
      await minio.stop();
    },
  };
}
