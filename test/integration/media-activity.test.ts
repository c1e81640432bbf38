import { mkdir, mkdtemp, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createMediaActivities } from '../../src/activities/media';
import { createSegmentActivities } from '../../src/activities/media/segments';
import { makeSampleClip } from '../../src/media/sample-clip';
import type { HeartbeatProgress, PlanTranscodeInput, TranscodeInput, TranscodeOutput } from '../../src/workflows/contracts';
import { localStore } from '../support/media';

// The media activity in-process (MockActivityEnvironment), on real ffmpeg with a tiny clip.
let root: string;
let ingest: string;
let activities: ReturnType<typeof createMediaActivities>;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'biblio-media-activity-'));
  ingest = path.join(root, 'ingest');
  await mkdir(ingest);
  await makeSampleClip(path.join(ingest, 'clip.mp4'), { seconds: 2, width: 320, height: 240, audio: true });
  activities = createMediaActivities({
    ffmpeg: { ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', threads: 1, preset: 'ultrafast' },
    mediaDir: path.join(root, 'media'),
    tmpDir: path.join(root, 'tmp'),
    maxSourceBytes: 100_000_000,
    ingestDir: ingest,
    storage: localStore(path.join(root, 'objects')),
  });
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function run(videoId: string, attempt = 1): Promise<{ out: TranscodeOutput; beats: HeartbeatProgress[] }> {
  const env = new MockActivityEnvironment({ attempt });
  const beats: HeartbeatProgress[] = [];
  env.on('heartbeat', (d: HeartbeatProgress) => beats.push(d));
  const input: TranscodeInput = { videoId, source: { kind: 'file', path: path.join(ingest, 'clip.mp4') } };
  const out = (await env.run(activities.transcode, input)) as TranscodeOutput;
  return { out, beats };
}

test('heartbeats fetch → probe → transcode → thumbnail → done, each carrying its attempt', async () => {
  const { out, beats } = await run('phases-1', 3);
  const phases = beats.map((b) => b.phase).filter((p, i, all) => all[i - 1] !== p);
  expect(phases).toEqual(['fetch', 'probe', 'transcode', 'thumbnail', 'done']);
  expect(beats.every((b) => b.attempt === 3)).toBe(true);
  expect(beats.some((b) => b.phase === 'transcode' && (b.encodedSec ?? 0) > 0)).toBe(true);
  expect(out.renditionPath).toBe(path.join(root, 'media', 'phases-1', 'rendition.mp4'));
  expect(await readdir(path.join(root, 'tmp'))).toEqual([]);
}, 60_000);

test('a retry reuses the verified output an earlier attempt published instead of encoding again', async () => {
  const first = await run('reuse-1', 1);
  const before = (await stat(first.out.renditionPath)).mtimeMs;
  const again = await run('reuse-1', 2);
  expect(again.out).toEqual(first.out);
  expect(again.beats.map((b) => b.phase)).toEqual(['done']);
  expect((await stat(first.out.renditionPath)).mtimeMs).toBe(before);
}, 60_000);

test('a damaged published output is not reused: the retry encodes again', async () => {
  const first = await run('damaged-1', 1);
  await truncate(first.out.renditionPath, 1000);
  const again = await run('damaged-1', 2);
  expect(again.beats.map((b) => b.phase)).toContain('transcode');
  expect((await stat(again.out.renditionPath)).size).toBeGreaterThan(1000);
}, 60_000);

test('sweeps the work dir a dead attempt of the same video left behind', async () => {
  const dead = path.join(root, 'tmp', 'sweep-1.attempt-1.pid-999999');
  await mkdir(dead, { recursive: true });
  await run('sweep-1', 2);
  expect(await readdir(path.join(root, 'tmp'))).toEqual([]);
}, 60_000);

describe('a poison upload rejected while planning', () => {
  // planTranscode as the media worker registers it (src/workers/media.ts).
  const plan = (tmpDir: string) => {
    const segments = createSegmentActivities({
      ffmpeg: { ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', threads: 1, preset: 'ultrafast' },
      mediaDir: path.join(root, 'media'),
      tmpDir,
      maxSourceBytes: 100_000_000,
      ingestDir: ingest,
      storage: localStore(path.join(root, 'objects')),
    });
    return segments.planTranscode;
  };
  const poison = (videoId: string): PlanTranscodeInput => ({ videoId, source: { kind: 'file', path: path.join(ingest, 'notes.mp4') } });

  beforeAll(() => writeFile(path.join(ingest, 'notes.mp4'), 'this is a text file pretending to be a video\n'));

  test('leaves no work directory behind', async () => {
    const tmpDir = path.join(root, 'plan-tmp-1');
    await expect(new MockActivityEnvironment().run(plan(tmpDir), poison('poison-1'))).rejects.toMatchObject({ type: 'InvalidMedia' });
    // Not even the empty `segments/poison-1/` the plan made before it probed the file.
    expect(await readdir(tmpDir)).toEqual([]);
  }, 60_000);

  test("keeps other videos' work areas", async () => {
    const tmpDir = path.join(root, 'plan-tmp-2');
    await mkdir(path.join(tmpDir, 'segments', 'busy-1'), { recursive: true });
    await writeFile(path.join(tmpDir, 'segments', 'busy-1', 'plan.json'), '{}');
    await expect(new MockActivityEnvironment().run(plan(tmpDir), poison('poison-2'))).rejects.toMatchObject({ type: 'InvalidMedia' });
    expect(await readdir(path.join(tmpDir, 'segments'))).toEqual(['busy-1']);
  }, 60_000);
});
