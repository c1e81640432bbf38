import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createSegmentActivities, type SegmentDeps } from '../../src/activities/media/segments';
import type { ObjectStorage } from '../../src/adapters/storage/port';
import { S3ObjectStorage } from '../../src/adapters/storage/s3-storage';
import { renditionKey, videoPrefix } from '../../src/media/artifact-keys';
import { makeSampleClip } from '../../src/media/sample-clip';
import { createWorkStore } from '../../src/media/work-store';
import type { EncodedSegment, TranscodeOutput, TranscodePlan } from '../../src/workflows/contracts';
import { decodeErrors, streamTimes } from '../support/av-checks';
import { localStore } from '../support/media';
import { startMinio } from '../support/minio';

// The segment activities in-process, on real ffmpeg: plan → segments → audio → join.
let root: string;
let ingest: string;
let acts: ReturnType<typeof createSegmentActivities>;
let store: ObjectStorage;
const SOURCE_SEC = 32;

/** The media deps of one "host": its own tmp and media dirs; the store is all hosts share. */
function hostDeps(dir: string, storage: ObjectStorage): SegmentDeps {
  return {
    ffmpeg: { ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', threads: 1, preset: 'ultrafast' },
    mediaDir: path.join(dir, 'media'),
    tmpDir: path.join(dir, 'tmp'),
    maxSourceBytes: 100_000_000,
    ingestDir: ingest,
    // Shorter than the 10 s default so a 32 s clip spreads over several segments.
    segmentSec: 5,
    storage,
  };
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'biblio-segments-'));
  ingest = path.join(root, 'ingest');
  await mkdir(ingest);
  await makeSampleClip(path.join(ingest, 'clip.mp4'), { seconds: SOURCE_SEC, width: 320, height: 240, audio: true });
  await makeSampleClip(path.join(ingest, 'short.mp4'), { seconds: 3, width: 320, height: 240, audio: true });
  store = localStore(path.join(root, 'objects'));
  acts = createSegmentActivities(hostDeps(root, store));
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
  // Published, and the work area and the work objects are gone.
  expect((await stat(out.thumbnailPath)).size).toBeGreaterThan(0);
  expect(await readdir(path.join(root, 'tmp', 'segments')).catch(() => [])).toEqual([]);
  expect(await store.list(videoPrefix('work', 'seg-1'))).toEqual([]);
}, 120_000);

test('a clip shorter than two segments is not segmented and leaves no work area', async () => {
  const plan = await call(acts.planTranscode, { videoId: 'short-1', source: { kind: 'file', path: path.join(ingest, 'short.mp4') } });
  expect(plan).toMatchObject({ segmented: false, count: 0 });
  expect(await readdir(path.join(root, 'tmp', 'segments')).catch(() => [])).not.toContain('short-1');
}, 60_000);

/**
 * One video's activities on three "hosts" that share nothing but the object store: each has its
 * own tmp and media dir. Planned on A, segments split between B and A, audio on B, joined on C.
 * The joined rendition is checked as a local file (fetched from the store when it is S3).
 */
async function acrossHosts(storage: ObjectStorage, videoId: string): Promise<void> {
  const hosts = await mkdtemp(path.join(root, 'hosts-'));
  const [a, b, c] = ['a', 'b', 'c'].map((h) => createSegmentActivities(hostDeps(path.join(hosts, h), storage)));
  const tmpOf = (h: string) => path.join(hosts, h, 'tmp');
  const noArea = async () => {
    for (const h of ['a', 'b', 'c']) expect(await readdir(path.join(tmpOf(h), 'segments')).catch(() => [])).not.toContain(videoId);
  };
  const source = { kind: 'file' as const, path: path.join(ingest, 'clip.mp4') };
  const plan = await call(a!.planTranscode, { videoId, source });
  expect(plan.segmented).toBe(true);
  // The plan and the source copy are in the store, not on A (a host keeps nothing after its activity).
  const work = await storage.list(videoPrefix('work', videoId));
  expect(work).toEqual(
    expect.arrayContaining([`work/${videoId}/plan.json`, expect.stringMatching(new RegExp(`^work/${videoId}/source\\.`))]),
  );
  await noArea();

  const ref = { videoId, count: plan.count, planDigest: plan.planDigest };
  for (let index = 0; index < plan.count; index++) {
    const host = index % 2 === 0 ? b! : a!;
    expect(await call(host.encodeSegment, { ...ref, index })).toMatchObject({ reused: false });
  }
  // Each output under a key of its attempt, published by its sidecar; another host sees it done.
  const keys = await storage.list(videoPrefix('work', videoId));
  expect(keys).toEqual(
    expect.arrayContaining([`work/${videoId}/seg-0.json`, expect.stringMatching(new RegExp(`^work/${videoId}/seg-0\\.[0-9a-f]+\\.mp4$`))]),
  );
  expect(await call(a!.encodeSegment, { ...ref, index: 0 })).toMatchObject({ reused: true });
  await call(b!.encodeAudio, { videoId });
  await noArea();

  const out: TranscodeOutput = await call(c!.joinSegments, { ...ref, hasAudio: plan.hasAudio });
  let rendition = out.renditionPath;
  if (storage.backend === 's3') {
    expect(rendition).toMatch(/^s3:\/\//);
    rendition = path.join(hosts, 'fetched.mp4');
    expect(await storage.getFile(renditionKey(videoId), rendition)).toBe(true);
  }
  expect(await decodeErrors(rendition)).toBe('');
  const src = await streamTimes(source.path);
  const got = await streamTimes(rendition);
  expect(got.video.frames).toBe(src.video.frames);
  expect(Math.abs((got.audio?.duration ?? NaN) - got.video.duration)).toBeLessThanOrEqual(0.04);
  // Joined: no work object and no local area of the video on any host.
  expect(await storage.list(videoPrefix('work', videoId))).toEqual([]);
  await noArea();
}

test('a segmented transcode completes with its activities on hosts that share only the local store', async () => {
  await acrossHosts(localStore(path.join(root, 'objects-hosts')), 'hosts-local');
}, 180_000);

test('a segmented transcode completes with its activities on hosts that share only S3 (MinIO)', async () => {
  const minio = await startMinio();
  if (!minio) return;
  const storage = new S3ObjectStorage({
    endpoint: minio.endpoint,
    region: 'us-east-1',
    bucket: 'biblio-segments',
    accessKeyId: minio.accessKeyId,
    secretAccessKey: minio.secretAccessKey,
    forcePathStyle: true,
    partSize: 5 * 1024 * 1024,
  });
  try {
    await storage.ensureBucket();
    await acrossHosts(storage, 'hosts-s3');
  } finally {
    await storage.close();
    await minio.stop();
  }
}, 180_000);

test('a lost cache entry is fetched again; discard leaves no work object and no local area', async () => {
  const videoId = 'cache-1';
  const hosts = await mkdtemp(path.join(root, 'cache-'));
  const deps = hostDeps(path.join(hosts, 'a'), store);
  const host = createSegmentActivities(deps);
  const plan = await call(host.planTranscode, { videoId, source: { kind: 'file', path: path.join(ingest, 'clip.mp4') } });
  const ref = { videoId, count: plan.count, planDigest: plan.planDigest };
  // Hold the video's cache on this host (as a concurrent activity would) so what is cached stays.
  const work = createWorkStore(deps);
  const release = await work.lease(videoId);
  try {
    await call(host.encodeSegment, { ...ref, index: 0 });
    const area = work.areaOf(videoId);
    const cache = createWorkStore(deps).cacheOf(videoId);
    const cached = (await readdir(cache)).filter((f) => f.startsWith('source.'));
    expect(cached).toHaveLength(1);
    // The host lost its copy (a cleaner, a full disk, a restart): fetched again, not an error.
    await rm(path.join(cache, cached[0]!));
    expect(await call(host.encodeSegment, { ...ref, index: 1 })).toMatchObject({ reused: false });
    await rm(area, { recursive: true, force: true });
    expect(await call(host.encodeSegment, { ...ref, index: 2 })).toMatchObject({ reused: false });
  } finally {
    await release();
  }
  expect((await store.list(videoPrefix('work', videoId))).length).toBeGreaterThan(0);
  // The failure path, on yet another host.
  await call(createSegmentActivities(hostDeps(path.join(hosts, 'b'), store)).discardSegments, { videoId });
  expect(await store.list(videoPrefix('work', videoId))).toEqual([]);
  for (const h of ['a', 'b']) expect(await readdir(path.join(hosts, h, 'tmp', 'segments')).catch(() => [])).not.toContain(videoId);
  // Nothing left to segment from: a typed failure, not an ENOENT.
  await expect(call(host.encodeSegment, { ...ref, index: 3 })).rejects.toMatchObject({ type: 'TranscodeFailed' });
}, 120_000);
