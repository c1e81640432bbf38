import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createStoryboardActivities } from '../../src/activities/media/storyboard';
import { loadConfig } from '../../src/config';
import { renditionKey, storyboardKey } from '../../src/media/artifact-keys';
import type { HeartbeatProgress, StoryboardInput, StoryboardOutput } from '../../src/workflows/contracts';
import { localStore } from '../support/media';

// generateStoryboard in-process (MockActivityEnvironment) on real ffmpeg and the local object
// store, with the product's defaults (interval, tile size, threads, stall timeout).
const run = promisify(execFile);
const defaults = loadConfig({});
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const CLIP_SEC = 41;

let root: string;
let store: ReturnType<typeof localStore>;
let rendition: string;

function activitiesWith(settings = defaults.media.storyboard) {
  return createStoryboardActivities({
    ffmpeg: defaults.ffmpeg,
    tmpDir: path.join(root, 'tmp'),
    mediaDir: path.join(root, 'media'),
    storage: store,
    settings,
    stallTimeoutMs: defaults.media.stallTimeoutMs,
  });
}

/** One attempt of generateStoryboard, as a worker runs it. */
async function generate(
  env: MockActivityEnvironment,
  activities: ReturnType<typeof activitiesWith>,
  given: StoryboardInput,
): Promise<StoryboardOutput | null> {
  return env.run<[StoryboardInput], StoryboardOutput | null, typeof activities.generateStoryboard>(activities.generateStoryboard, given);
}

function input(videoId: string, renditionPath = rendition): StoryboardInput {
  return { videoId, renditionPath, durationSec: CLIP_SEC, width: 640, height: 360 };
}

/** Cues of a WebVTT thumbnail track: [start, end, sprite, x, y, w, h]. */
function cuesOf(vtt: string): { start: number; end: number; sprite: string; xywh: number[] }[] {
  const sec = (t: string) => t.split(':').reduce((acc, p) => acc * 60 + Number(p), 0);
  const cues = [];
  const lines = vtt.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\S+) --> (\S+)$/.exec(lines[i]!);
    if (!m) continue;
    const [sprite, frag] = lines[i + 1]!.split('#xywh=');
    cues.push({ start: sec(m[1]!), end: sec(m[2]!), sprite: sprite!, xywh: frag!.split(',').map(Number) });
  }
  return cues;
}

async function imageSize(file: string): Promise<{ width: number; height: number }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'json', file]);
  return (JSON.parse(stdout) as { streams: { width: number; height: number }[] }).streams[0]!;
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'biblio-storyboard-'));
  store = localStore(path.join(root, 'objects'));
  rendition = path.join(root, 'rendition.mp4');
  // prettier-ignore
  await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=25`, '-t', String(CLIP_SEC),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-threads', '1', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', rendition]);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

test('publishes sprite sheets and a WebVTT track whose cues cover [0, duration) with tiles that lie inside decodable sheets', async () => {
  const env = new MockActivityEnvironment({ attempt: 1 }, { logger: quiet });
  const beats: HeartbeatProgress[] = [];
  env.on('heartbeat', (d: HeartbeatProgress) => beats.push(d));
  const out = await generate(env, activitiesWith(), input('sb1'));

  // 41 s on defaults: a thumbnail every 2 s → 21 tiles of 160x90 on one sheet of 10 × 3.
  expect(out).toEqual({ track: 'storyboard.vtt', intervalSec: 2, tiles: 21, sheets: 1, tileWidth: 160, tileHeight: 90 });
  const vtt = (await store.getBytes(storyboardKey('sb1', 'storyboard.vtt')))!.toString('utf8');
  const cues = cuesOf(vtt);
  expect(vtt.startsWith('WEBVTT\n')).toBe(true);
  expect(cues).toHaveLength(21);
  expect(cues[0]!.start).toBe(0);
  for (let i = 1; i < cues.length; i++) expect(cues[i]!.start).toBeCloseTo(cues[i - 1]!.end, 3);
  expect(cues.at(-1)!.end).toBeCloseTo(CLIP_SEC, 3);

  const keys = await store.list(storyboardKey('sb1', ''));
  expect(keys.sort()).toEqual([storyboardKey('sb1', cues[0]!.sprite), storyboardKey('sb1', 'storyboard.vtt')].sort());
  const sheet = path.join(root, 'sheet.jpg');
  await store.getFile(storyboardKey('sb1', cues[0]!.sprite), sheet);
  expect(await imageSize(sheet)).toEqual({ width: 1600, height: 270 });
  for (const c of cues) {
    const [x, y, w, h] = c.xywh as [number, number, number, number];
    expect([x + w <= 1600, y + h <= 270, w, h]).toEqual([true, true, 160, 90]);
  }
  // Progress rode on heartbeats, phase storyboard, ending at 100; nothing stays in the scratch dir.
  expect(beats.every((b) => b.phase === 'storyboard')).toBe(true);
  expect(beats.at(-1)?.percent).toBe(100);
  expect(await readdir(path.join(root, 'tmp'))).toEqual([]);
});

test('an attempt cancelled mid-run leaves nothing published and the next attempt publishes a whole storyboard, removing what a killed attempt left', async () => {
  // What a SIGKILLed attempt leaves: its scratch dir (swept at worker start) and a sheet it uploaded before dying.
  await store.putBytes(storyboardKey('sb2', 'sprite-0123456789ab-000.jpg'), 'half a sheet', 'image/jpeg');
  const env = new MockActivityEnvironment({ attempt: 1 }, { logger: quiet });
  env.on('heartbeat', (d: HeartbeatProgress) => {
    // The first report before the end: on an idle machine the decode of this short clip may report
    // no progress before it is done, so the cancel may land while the sheet is tiled.
    if (d.percent < 100) env.cancel();
  });
  const first = await generate(env, activitiesWith(), input('sb2')).then(
    () => 'completed',
    (err: unknown) => (err as Error).name,
  );
  expect(first).not.toBe('completed');
  expect(await store.head(storyboardKey('sb2', 'storyboard.vtt'))).toBeUndefined();
  expect(await readdir(path.join(root, 'tmp'))).toEqual([]);

  const out = (await generate(new MockActivityEnvironment({ attempt: 2 }, { logger: quiet }), activitiesWith(), input('sb2')))!;
  const cues = cuesOf((await store.getBytes(storyboardKey('sb2', 'storyboard.vtt')))!.toString('utf8'));
  expect(cues).toHaveLength(out.tiles);
  const sprites = [...new Set(cues.map((c) => c.sprite))];
  expect((await store.list(storyboardKey('sb2', ''))).sort()).toEqual(
    [...sprites.map((s) => storyboardKey('sb2', s)), storyboardKey('sb2', 'storyboard.vtt')].sort(),
  );
});

test('a worker without the rendition on its disk reads it from the store', async () => {
  await store.putFile(renditionKey('sb3'), rendition, 'video/mp4');
  const out = await generate(
    new MockActivityEnvironment({ attempt: 1 }, { logger: quiet }),
    activitiesWith(),
    input('sb3', 's3://bucket/media/sb3/rendition.mp4'),
  );
  expect(out?.tiles).toBe(21);
  expect(await store.head(storyboardKey('sb3', 'storyboard.vtt'))).toBeDefined();
});

test('portrait videos get 90x160 tiles; MEDIA_STORYBOARD=off publishes nothing', async () => {
  const portrait = await generate(new MockActivityEnvironment({ attempt: 1 }, { logger: quiet }), activitiesWith(), {
    ...input('sb4'),
    width: 360,
    height: 640,
  });
  expect([portrait?.tileWidth, portrait?.tileHeight]).toEqual([90, 160]);

  const off = createStoryboardActivities({ ...{ ffmpeg: defaults.ffmpeg, tmpDir: root, storage: store }, settings: null });
  expect(await generate(new MockActivityEnvironment({ attempt: 1 }, { logger: quiet }), off, input('sb5'))).toBeNull();
  expect(await store.list(storyboardKey('sb5', ''))).toEqual([]);
});
