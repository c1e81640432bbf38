import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createAnalysisInputsActivities } from '../../src/activities/media/analysis-inputs';
import { loadConfig } from '../../src/config';
import type { AnalysisInputs, AnalysisInputsInput, HeartbeatProgress } from '../../src/workflows/contracts';
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
