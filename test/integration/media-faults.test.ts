import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { LocalObjectStorage } from '../../src/adapters/storage/local-storage';
import { LanceDbVectorStore } from '../../src/adapters/vector-store/lancedb-store';
import { createReconcileActivities } from '../../src/activities/indexer/reconcile';
import { answerError } from '../../src/api/error-handler';
import { PublishedMedia } from '../../src/app/published-media';
import { VideoListService } from '../../src/app/video-list-service';
import { registerHlsRoutes } from '../../src/api/routes/hls-files';
import { registerVideosListRoutes } from '../../src/api/routes/videos-list';
import { loadConfig } from '../../src/config';
import { VideoIndexRepo } from '../../src/db/video-index-repo';
import { VideosRepo } from '../../src/db/videos-repo';
import { workflowIdFor } from '../../src/workflows/ids';
import { createTestDatabase, type TestDatabase } from '../support/database';

// Issue 26: what stays behind after a fault must not be served or kept forever: a failed video's
// HLS ladder (still on disk until retention) answers 404 like its MP4, and a partial upload's
// temp file left by a crashed API is removed by the retention sweep. PostgreSQL and files are real.
let db: TestDatabase;
let dir: string;
let mediaDir: string;
let app: FastifyInstance;
let store: LocalObjectStorage;

/** Publishes what the media worker writes for a video: the MP4 and an HLS ladder, on its disk and in the store (where the API reads them). */
async function publish(id: string): Promise<string> {
  const rendition = path.join(mediaDir, id, 'rendition.mp4');
  await mkdir(path.join(mediaDir, id, 'hls', '360p'), { recursive: true });
  await writeFile(rendition, 'mp4 bytes');
  await writeFile(path.join(mediaDir, id, 'hls', 'master.m3u8'), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n360p/index.m3u8\n');
  await writeFile(path.join(mediaDir, id, 'hls', '360p', 'seg_00001.m4s'), 'segment bytes');
  await store.putFile(`media/${id}/rendition.mp4`, rendition, 'video/mp4');
  for (const f of ['master.m3u8', '360p/seg_00001.m4s'])
    await store.putFile(`media/${id}/hls/${f}`, path.join(mediaDir, id, 'hls', f), 'video/mp4');
  return rendition;
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'biblio-media-faults-'));
  mediaDir = path.join(dir, 'media');
  store = new LocalObjectStorage({ root: path.join(dir, 'objects'), secret: Buffer.alloc(32, 1), publicBaseUrl: 'http://127.0.0.1:1' });
  const videos = new VideosRepo(db.pool);
  const file = { kind: 'file' as const, path: path.join(dir, 'ingest', 'clip.mp4') };
  for (const id of ['mf-ready', 'mf-failed', 'mf-deleted']) await videos.claim(id, file, workflowIdFor(id));
  // Ready: the index step wrote the rendition path.
  await db.pool.query(`UPDATE videos SET status = 'ready', rendition_path = $2 WHERE id = $1`, ['mf-ready', await publish('mf-ready')]);
  // Failed after its media step published (e.g. in analyze): the row names no rendition, the files are still there.
  await publish('mf-failed');
  await videos.markFailed({ id: 'mf-failed', source: file, workflowId: workflowIdFor('mf-failed') }, 'analyze', 'AiRejected', 'refused');
  // Deleted while its deletion saga has not removed the files yet.
  await db.pool.query(`UPDATE videos SET status = 'ready', rendition_path = $2, deleted_at = now() WHERE id = $1`, [
    'mf-deleted',
    await publish('mf-deleted'),
  ]);

  // The two media routes as src/api/app.ts registers them, with its error shape.
  app = Fastify();
  app.setErrorHandler(answerError);
  const media = new PublishedMedia({ pool: db.pool, storage: store });
  registerVideosListRoutes(app, { list: new VideoListService({ pool: db.pool }), media });
  registerHlsRoutes(app, { media });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

test('the HLS ladder is served exactly when the MP4 is: a failed or deleted video answers 404 for both', async () => {
  const status = async (url: string) => (await app.inject({ method: 'GET', url })).statusCode;
  const hls = ['hls/master.m3u8', 'hls/360p/seg_00001.m4s'];
  expect(await status('/videos/mf-ready/rendition.mp4')).toBe(200);
  for (const f of hls) expect(await status(`/videos/mf-ready/${f}`)).toBe(200);
  for (const id of ['mf-failed', 'mf-deleted']) {
    const mp4 = await app.inject({ method: 'GET', url: `/videos/${id}/rendition.mp4` });
    expect({ id, mp4: mp4.statusCode }).toEqual({ id, mp4: 404 });
    for (const f of hls) {
      const res = await app.inject({ method: 'GET', url: `/videos/${id}/${f}` });
      expect({ id, file: f, status: res.statusCode, type: res.json().error.type }).toEqual({
        id,
        file: f,
        status: 404,
        type: id === 'mf-deleted' ? 'VideoNotFound' : 'MediaNotFound',
      });
    }
  }
});

test("the retention sweep removes a crashed upload's temp file older than RETENTION_TMP_MS and keeps a live one", async () => {
  const uploadTmpDir = path.join(dir, 'objects', '.tmp');
  await mkdir(uploadTmpDir, { recursive: true });
  const { retentionTmpMs, retentionDeadLetterInputMs } = loadConfig({}).reconcile;
  // What LocalObjectStorage.receive() leaves when the API dies mid-PUT: a random name, partial bytes.
  const abandoned = path.join(uploadTmpDir, '0badc0ffee000001');
  await writeFile(abandoned, Buffer.alloc(1024));
  const old = new Date(Date.now() - retentionTmpMs - 60_000);
  await utimes(abandoned, old, old);
  // An upload still streaming: its file's mtime is fresh.
  const live = path.join(uploadTmpDir, '0badc0ffee000002');
  await writeFile(live, Buffer.alloc(1024));

  const vectorStore = await LanceDbVectorStore.open(path.join(dir, 'lancedb'));
  try {
    const activities = createReconcileActivities({
      vectorStore,
      videos: new VideosRepo(db.pool),
      index: new VideoIndexRepo(db.pool),
      dirs: {
        mediaDir,
        artifactsDir: path.join(dir, 'artifacts'),
        tmpDir: path.join(dir, 'tmp'),
        ingestDir: path.join(dir, 'ingest'),
        uploadTmpDir,
      },
    });
    const { counts } = await activities.enforceRetention({
      tmpMs: retentionTmpMs,
      deadLetterInputMs: retentionDeadLetterInputMs,
      limit: 100,
    });
    expect(counts.tmpEntriesRemoved).toBe(1);
  } finally {
    await vectorStore.close();
  }
  expect(await readdir(uploadTmpDir)).toEqual([path.basename(live)]);
});
