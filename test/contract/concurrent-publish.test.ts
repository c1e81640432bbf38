import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createRenditionSteps } from '../../src/activities/media/rendition';
import type { ObjectStorage } from '../../src/adapters/storage/port';
import { S3ObjectStorage } from '../../src/adapters/storage/s3-storage';
import { renditionKey, renditionManifestKey } from '../../src/media/artifact-keys';
import { startMinio, type MinioServer } from '../support/minio';

// Two attempts of one video's transcode publishing at once on one media host, on S3: the attempt
// whose worker's lease ran out still runs (it learns at its next heartbeat) while its retry runs
// beside it. The soak found the retry dead-lettered with an untyped ENOENT: both published through
// the host's one directory for the video, and the first to finish removed it (a host that is not
// the store keeps nothing) while the other was opening its copy to upload it.
let root: string;
let minio: MinioServer | undefined;
let store: S3ObjectStorage;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'biblio-concurrent-publish-'));
  minio = await startMinio();
  if (!minio) return;
  store = new S3ObjectStorage({
    endpoint: minio.endpoint,
    region: 'us-east-1',
    bucket: 'biblio-concurrent',
    accessKeyId: minio.accessKeyId,
    secretAccessKey: minio.secretAccessKey,
    forcePathStyle: true,
  });
  await store.ensureBucket();
}, 60_000);

afterAll(async () => {
  await store?.close();
  await minio?.stop();
  await rm(root, { recursive: true, force: true });
});

/** What an attempt's encoder leaves in its own work dir: a browser-playable, faststart MP4. */
async function encodedIn(workDir: string): Promise<string> {
  await mkdir(workDir, { recursive: true });
  const out = path.join(workDir, 'rendition.mp4');
  await promisify(execFile)('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=3'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:duration=3'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart', out],
  ]);
  return out;
}

test('S3: a stale attempt that finishes first does not pull the retry’s copy from under its upload', async () => {
  if (!minio) return console.warn('SKIPPED: no MinIO binary (scripts/ensure-minio.sh)');
  const videoId = 'vid-concurrent-1';
  const mediaDir = path.join(root, 'media');
  // The retry's first upload is held until attempt 1 has published and cleaned up: it opens its file after that.
  let attempt1Done!: () => void;
  const attempt1Finished = new Promise<void>((resolve) => (attempt1Done = resolve));
  let retryHeld!: () => void;
  const retryUploading = new Promise<void>((resolve) => (retryHeld = resolve));
  let uploads = 0;
  const gated = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop !== 'putFile') return Reflect.get(target, prop, receiver) as unknown;
      return async (key: string, file: string, type: string) => {
        if (uploads++ === 0) {
          retryHeld();
          await attempt1Finished;
        }
        return target.putFile(key, file, type);
      };
    },
  }) as ObjectStorage;
  const steps = createRenditionSteps({
    ffmpeg: { ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', threads: 1, preset: 'ultrafast' },
    mediaDir,
    tmpDir: path.join(root, 'tmp'),
    maxSourceBytes: 100_000_000,
    storage: gated,
  });
  const signal = new AbortController().signal;
  const beat = () => undefined;
  const publish = async (attempt: number) => {
    const workDir = path.join(root, 'tmp', `${videoId}.attempt-${attempt}.pid-${process.pid}`);
    const renditionTmp = await encodedIn(workDir);
    const sourceFacts = (await steps.probe(renditionTmp, signal, 'the source')).facts;
    return steps.finishRendition({ videoId, renditionTmp, workDir, sourceFacts, key: 'same-source-same-settings', signal, beat });
  };

  // Both attempts verified and published their rendition on this host…
  const first = await publish(1);
  const retry = await publish(2);
  // …the retry starts its upload; the stale attempt uploads, cleans up and ends before the retry's file is opened.
  const retryStored = steps.toObjectStorage(videoId, retry);
  await retryUploading;
  const firstStored = await steps.toObjectStorage(videoId, first);
  attempt1Done();
  const stored = await retryStored;

  expect(stored.renditionPath).toBe(`s3://biblio-concurrent/${renditionKey(videoId)}`);
  expect(firstStored.renditionPath).toBe(stored.renditionPath);
  const object = await store.head(renditionKey(videoId));
  expect(object?.size).toBeGreaterThan(1000);
  expect(await store.getBytes(renditionManifestKey(videoId))).toBeDefined();
  // A host that is not the store keeps nothing of the video once it is published.
  expect(await stat(path.join(mediaDir, videoId)).catch(() => undefined)).toBeUndefined();
}, 120_000);
