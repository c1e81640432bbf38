import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createSegmentActivities } from '../../src/activities/media/segments';
import { makeSampleClip } from '../../src/media/sample-clip';
import type { EncodedSegment, TranscodeOutput, TranscodePlan } from '../../src/workflows/contracts';
import { decodeErrors, streamTimes } from '../support/av-checks';

// The segment activities in-process, on real ffmpeg: plan → segments → audio → join.
let root: string;
let ingest: string;
let acts: ReturnType<typeof createSegmentActivities>;
const SOURCE_SEC = 32;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'biblio-segments-'));
  ingest = path.join(root, 'ingest');
  await mkdir(ingest);
  await makeSampleClip(path.join(ingest, 'clip.mp4'), { seconds: SOURCE_SEC, width: 320, height: 240, audio: true });
  await makeSampleClip(path.join(ingest, 'short.mp4'), { seconds: 3, width: 320, height: 240, audio: true });
  acts = createSegmentActivities({
    ffmpeg: { ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', threads: 1, preset: 'ultrafast' },
    mediaDir: path.join(root, 'media'),
    tmpDir: path.join(root, 'tmp'),
    maxSourceBytes: 100_000_000,
    ingestDir: ingest,
    segmentSec: 5,
  });
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function call<A extends unknown[], R>(fn: (...a: A) => Promise<R>, ...args: A): Promise<R> {
  return new MockActivityEnvironment().run(fn, ...args) as Promise<R>;
}

test('plan, encode, join: the joined rendition decodes cleanly and matches the source timing', async () => {
  const source = { kind: 'file' as const, path: path.join(ingest, 'clip.mp4') };
  const plan: TranscodePlan = await call(acts.planTranscode, { videoId: 'seg-1', source });
  expect(plan.segmented).toBe(true);
  expect(plan.count).toBeGreaterThanOrEqual(5);
  // Issue 25: the workflow is handed the count and the digest; each activity reads its span from the work area.
  const ref = { videoId: 'seg-1', count: plan.count, planDigest: plan.planDigest };
  const done: EncodedSegment[] = [];
  for (let index = 0; index < plan.count; index++) done.push(await call(acts.encodeSegment, { ...ref, index }));
  expect(done.every((d) => !d.reused)).toBe(true);
  // Redelivery of a finished segment returns it without encoding.
  expect(await call(acts.encodeSegment, { ...ref, index: 0 })).toMatchObject({ reused: true });
  // A run that holds another plan's digest (the video was planned again since) is refused, not mixed in.
  await expect(call(acts.encodeSegment, { ...ref, index: 0, planDigest: 'stale' })).rejects.toMatchObject({ type: 'TranscodeFailed' });
  await expect(call(acts.encodeSegment, { ...ref, index: plan.count })).rejects.toMatchObject({ type: 'TranscodeFailed' });
  await call(acts.encodeAudio, { videoId: 'seg-1' });
  const out: TranscodeOutput = await call(acts.joinSegments, { ...ref, hasAudio: plan.hasAudio });

  expect(await decodeErrors(out.renditionPath)).toBe('');
  const src = await streamTimes(source.path);
  const got = await streamTimes(out.renditionPath);
  expect(got.video.frames).toBe(src.video.frames);
  expect(Math.abs(got.video.duration - src.video.duration)).toBeLessThanOrEqual(src.video.frameSec + 1e-6);
  expect(Math.abs((got.audio?.start ?? NaN) - got.video.start)).toBeLessThanOrEqual(0.04);
  expect(Math.abs((got.audio?.duration ?? NaN) - got.video.duration)).toBeLessThanOrEqual(0.04);
  // Published, and the work area is gone.
  expect((await stat(out.thumbnailPath)).size).toBeGreaterThan(0);
  expect(await readdir(path.join(root, 'tmp', 'segments')).catch(() => [])).toEqual([]);
}, 120_000);

test('a clip shorter than two segments is not segmented and leaves no work area', async () => {
  const plan = await call(acts.planTranscode, { videoId: 'short-1', source: { kind: 'file', path: path.join(ingest, 'short.mp4') } });
  expect(plan).toMatchObject({ segmented: false, count: 0 });
  expect(await readdir(path.join(root, 'tmp', 'segments')).catch(() => [])).not.toContain('short-1');
}, 60_000);
