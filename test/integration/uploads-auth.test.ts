import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { LocalObjectStorage } from '../../src/adapters/storage/local-storage';
import { S3ObjectStorage } from '../../src/adapters/storage/s3-storage';
import type { VideoStatus } from '../../src/app/status';
import { runKeysCli } from '../../src/cli/keys';
import { VideosRepo } from '../../src/db/videos-repo';
import { parseMasterPlaylist, parseMediaPlaylist } from '../../src/media/hls-playlist';
import { traceSteps } from '../../src/temporal/step-trace';
import type { TestApi } from '../support/api';
import type { TestDatabase } from '../support/database';
import { makeTinyClip } from '../support/media';
import { startMinio, type MinioServer } from '../support/minio';
import { startStack, type Stack } from '../support/stack';
import type { WorkerProcesses } from '../support/workers';

// Real parts: Temporal dev server, PostgreSQL, ffmpeg, MinIO (S3 storage for the whole pipeline),
// the real worker processes. URL sources may reach `localhost` by name only: 127.0.0.1, 10.x,
// metadata and [::1] stay forbidden, so a redirect from localhost to 127.0.0.1 must be refused.

// The product waits 24 h for a new URL; the dead-letter-at-the-deadline test waits this one out.
const REFRESH_DEADLINE_MS = 8_000;

let stack: Stack;
let db: TestDatabase;
let minio: MinioServer | undefined;
let media: WorkerProcesses | undefined;
let workerEnv: NodeJS.ProcessEnv;
let api: TestApi;
let dataDir: string;
let clip: Buffer;
let server: http.Server;
let port: number;
let hits: string[];

beforeAll(async () => {
  // Both settle before a failure is thrown, so afterAll stops whichever of the two did start.
  const started = await Promise.allSettled([
    startStack({ name: 'uploads' }).then((s) => (stack = s)),
    startMinio().then((m) => (minio = m)),
  ]);
  for (const r of started) if (r.status === 'rejected') throw r.reason;
  ({ db, dataDir } = stack);
  const clipFile = path.join(dataDir, 'clip.mp4');
  await makeTinyClip(clipFile);
  clip = await readFile(clipFile);

  // The "external" source server, and the listener that must see no forbidden request.
  hits = [];
  server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/redirect') {
      res.writeHead(302, { location: `http://127.0.0.1:${port}/internal` });
      return res.end();
    }
    if (url.pathname === '/clips/river.mp4') {
      const auth = req.headers.authorization ?? '';
      const okAuth = auth === `Basic ${Buffer.from('alice:s3cret-pw').toString('base64')}`;
      if (url.searchParams.get('token') === 'fresh-TOKEN2' && okAuth) {
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': clip.length });
        return res.end(clip);
      }
      res.writeHead(403);
      return res.end('Request has expired');
    }
    res.writeHead(200);
    res.end('internal');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;

  const storageEnv: NodeJS.ProcessEnv = minio
    ? {
        STORAGE_BACKEND: 's3',
        S3_ENDPOINT: minio.endpoint,
        S3_BUCKET: 'biblio-it',
        S3_ACCESS_KEY_ID: minio.accessKeyId,
        S3_SECRET_ACCESS_KEY: minio.secretAccessKey,
      }
    : { STORAGE_BACKEND: 'local' };
  // GET URLs the workflow signs live 1 s: a media worker that is down for longer gets an expired one.
  workerEnv = { ...storageEnv, SOURCE_URL_TTL_SEC: '1', BIBLIO_SSRF_ALLOW: 'localhost' };
  const storage = minio
    ? new S3ObjectStorage({
        endpoint: minio.endpoint,
        region: 'us-east-1',
        bucket: 'biblio-it',
        accessKeyId: minio.accessKeyId,
        secretAccessKey: minio.secretAccessKey,
        forcePathStyle: true,
      })
    : undefined;
  await storage?.ensureBucket();
  [, media] = await Promise.all([
    stack.startWorkers(['pipeline', 'ai', 'index'], { extraEnv: workerEnv }),
    stack.startWorkers(['media'], { extraEnv: workerEnv }),
  ]);
  api = await stack.startApi({ ssrfAllow: ['localhost'], storage, sourceRefreshDeadlineMs: REFRESH_DEADLINE_MS });
});

afterAll(async () => {
  await stack?.stop();
  await minio?.stop();
  await new Promise((r) => server?.close(r));
});

async function waitFor(videoId: string, done: (s: VideoStatus) => boolean, timeoutMs = 90_000): Promise<VideoStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = (await api.app.inject({ method: 'GET', url: `/videos/${videoId}` })).json() as VideoStatus;
    if (done(s)) return s;
    if (Date.now() > deadline) throw new Error(`video ${videoId}: condition not met in ${timeoutMs} ms: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
const ended = (s: VideoStatus) => s.status === 'ready' || s.status === 'failed';

/** Every payload of the history, decoded from base64, plus the raw JSON: where a plaintext secret would show. */
async function historyText(workflowId: string): Promise<string> {
  const json = historyToJSON(await api.client.workflow.getHandle(workflowId).fetchHistory());
  const decoded = [...json.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1] ?? '', 'base64').toString('latin1'));
  if (decoded.length === 0) throw new Error('no payloads found in the history: the scan would prove nothing');
  return [json, ...decoded].join('\n');
}

describe('auth', () => {
  it('answers 401 without a key or with a revoked key, 403 for a viewer, and changes nothing', async () => {
    const body = { videoId: 'auth-1', source: { kind: 'url', url: `http://localhost:${port}/clips/river.mp4` } };
    const none = await api.raw.inject({ method: 'POST', url: '/videos', payload: body });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.type).toBe('Unauthorized');

    const uploader = await api.createKey('uploader');
    const id = uploader.split('_')[1] as string;
    expect(await api.keys.revoke(id)).toBe(true);
    const revoked = await api.raw.inject({
      method: 'POST',
      url: '/videos',
      payload: body,
      headers: { authorization: `Bearer ${uploader}` },
    });
    expect(revoked.statusCode).toBe(401);

    const viewer = await api.createKey('viewer');
    const forbidden = await api.raw.inject({
      method: 'POST',
      url: '/videos',
      payload: body,
      headers: { authorization: `Bearer ${viewer}` },
    });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.type).toBe('Forbidden');
    expect(await new VideosRepo(db.pool).get('auth-1')).toBeUndefined();

    // Reads are fine for a viewer; health needs no key at all.
    expect(
      (await api.raw.inject({ method: 'GET', url: '/videos/auth-1', headers: { authorization: `Bearer ${viewer}` } })).statusCode,
    ).toBe(404);
    expect((await api.raw.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });

  it('keeps operator actions (refresh-url, dead-letter changes, key admin) from non-operators', async () => {
    const uploader = await api.createKey('uploader');
    const h = { authorization: `Bearer ${uploader}` };
    for (const [method, url] of [
      ['POST', '/videos/auth-2/refresh-url'],
      ['POST', '/dead-letters/x/replay'],
      ['DELETE', '/dead-letters/x'],
      ['GET', '/keys'],
    ] as const) {
      const res = await api.raw.inject({
        method,
        url,
        headers: h,
        payload: method === 'POST' ? { url: 'https://example.com/v.mp4' } : undefined,
      });
      expect([url, res.statusCode]).toEqual([url, 403]);
    }
  });

  it('lets only operators administer keys over HTTP; a refused create creates nothing', async () => {
    const before = (await api.keys.list()).length;
    const uploader = await api.createKey('uploader');
    const refused = await api.raw.inject({
      method: 'POST',
      url: '/keys',
      payload: { role: 'operator' },
      headers: { authorization: `Bearer ${uploader}` },
    });
    expect(refused.statusCode).toBe(403);
    expect((await api.keys.list()).length).toBe(before + 1); // only the uploader key made above

    const created = await api.app.inject({ method: 'POST', url: '/keys', payload: { role: 'viewer', name: 'http' } });
    expect(created.statusCode).toBe(201);
    const { id, key } = created.json() as { id: string; key: string };
    expect((await api.raw.inject({ method: 'GET', url: '/videos/none', headers: { authorization: `Bearer ${key}` } })).statusCode).toBe(
      404,
    );
    const listed = (await api.app.inject({ method: 'GET', url: '/keys' })).json() as { keys: { id: string }[] };
    expect(listed.keys.map((k) => k.id)).toContain(id);
    expect(JSON.stringify(listed)).not.toContain(key); // only the hash is stored
    expect((await api.app.inject({ method: 'DELETE', url: `/keys/${id}` })).statusCode).toBe(204);
    expect((await api.raw.inject({ method: 'GET', url: '/videos/none', headers: { authorization: `Bearer ${key}` } })).statusCode).toBe(
      401,
    );
  });

  it('creates, lists and revokes keys with the CLI', async () => {
    const lines: string[] = [];
    const before = process.env.DATABASE_URL;
    process.env.DATABASE_URL = db.url;
    try {
      expect(await runKeysCli(['create', '--role', 'viewer', '--name', 'cli', '--json'], (l) => lines.push(l))).toBe(0);
      const created = JSON.parse(lines[0] ?? '{}') as { id: string; key: string };
      const auth = { authorization: `Bearer ${created.key}` };
      expect((await api.raw.inject({ method: 'GET', url: '/videos/none', headers: auth })).statusCode).toBe(404);
      expect(await runKeysCli(['revoke', created.id], (l) => lines.push(l))).toBe(0);
      expect((await api.raw.inject({ method: 'GET', url: '/videos/none', headers: auth })).statusCode).toBe(401);
      expect(await runKeysCli(['create', '--role', 'admin'], (l) => lines.push(l))).toBe(2);
    } finally {
      process.env.DATABASE_URL = before;
    }
  });
});

describe('SSRF guard', () => {
  it.each([
    ['127.0.0.1', () => `http://127.0.0.1:${port}/health`],
    ['10.x', () => 'http://10.0.0.1/v.mp4'],
    ['the metadata service', () => 'http://169.254.169.254/latest/meta-data/'],
    ['[::1]', () => `http://[::1]:${port}/health`],
  ])('refuses a URL source on %s with 400, no run and no request', async (_name, url) => {
    hits = [];
    const videoId = `ssrf-${Math.random().toString(36).slice(2, 8)}`;
    const res = await api.app.inject({ method: 'POST', url: '/videos', payload: { videoId, source: { kind: 'url', url: url() } } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.type).toBe('SourceForbidden');
    expect(res.body).not.toContain(String(port));
    expect(await new VideosRepo(db.pool).get(videoId)).toBeUndefined();
    expect(hits).toEqual([]);
  });

  it('fails a run whose source redirects to loopback with SourceForbidden; the target sees nothing', async () => {
    hits = [];
    const res = await api.app.inject({
      method: 'POST',
      url: '/videos',
      payload: { videoId: 'ssrf-redirect', source: { kind: 'url', url: `http://localhost:${port}/redirect` } },
    });
    expect(res.statusCode).toBe(202);
    const final = await waitFor('ssrf-redirect', ended);
    expect(final.lastError).toMatchObject({ type: 'SourceForbidden', step: 'transcode' });
    expect(final.lastError?.message).not.toContain(String(port));
    expect(hits).toEqual(['/redirect']);
  });

  it('answers 400 (not 500) for a NUL byte in a URL', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/videos',
      payload: { source: { kind: 'url', url: 'http://example.com/a\u0000b.mp4' } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.type).toBe('ValidationError');
  });
});

describe('uploads', () => {
  it('refuses a non-video content type, an oversized upload and bad keys with clear 4xx', async () => {
    const html = await api.app.inject({ method: 'POST', url: '/uploads', payload: { contentType: 'text/html', sizeBytes: 10 } });
    expect([html.statusCode, html.json().error.type]).toEqual([415, 'UnsupportedContentType']);
    const big = await api.app.inject({ method: 'POST', url: '/uploads', payload: { contentType: 'video/mp4', sizeBytes: 10 * 1024 ** 3 } });
    expect([big.statusCode, big.json().error.type]).toEqual([413, 'UploadTooLarge']);
    for (const key of ['../../etc/passwd', '/etc/passwd', 'uploads/../secrets/payload-key']) {
      const res = await api.app.inject({
        method: 'POST',
        url: '/videos',
        payload: { videoId: 'bad-key', source: { kind: 'upload', key } },
      });
      expect([key, res.statusCode, res.json().error.type]).toEqual([key, 400, 'InvalidKey']);
    }
    const missing = await api.app.inject({
      method: 'POST',
      url: '/videos',
      payload: { videoId: 'bad-key', source: { kind: 'upload', key: 'uploads/nothing/here.mp4' } },
    });
    expect(missing.statusCode).toBe(422);
    expect(await new VideosRepo(db.pool).get('bad-key')).toBeUndefined();
    expect(await api.storage.list('uploads/')).toEqual([]);
  });

  it(`uploads through a presigned PUT and runs the whole pipeline on ${'S3'} storage; an expired GET URL self-refreshes`, async () => {
    if (!minio) console.warn('*** MinIO unavailable: this run uses local storage instead of S3 ***');
    const created = await api.app.inject({
      method: 'POST',
      url: '/uploads',
      payload: { videoId: 'up-1', contentType: 'video/mp4', sizeBytes: clip.length, filename: 'harbour walk.mp4' },
    });
    expect(created.statusCode).toBe(201);
    const { key, upload, next } = created.json() as {
      key: string;
      upload: { url: string; headers: Record<string, string> };
      next: { body: object };
    };
    if (api.storage instanceof LocalObjectStorage) {
      const u = new URL(upload.url);
      const put = await api.raw.inject({ method: 'PUT', url: `${u.pathname}${u.search}`, headers: upload.headers, payload: clip });
      expect(put.statusCode).toBe(200);
    } else {
      const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: clip });
      expect(put.status).toBe(200);
    }
    expect(await api.storage.head(key)).toMatchObject({ size: clip.length });

    // The media worker is down longer than the signed GET URL lives (1 s).
    await media?.stop();
    const started = await api.app.inject({ method: 'POST', url: '/videos', payload: next.body });
    expect(started.statusCode).toBe(202);
    await new Promise((r) => setTimeout(r, 3_000));
    media = await stack.startWorkers(['media'], { extraEnv: workerEnv });

    const final = await waitFor('up-1', ended);
    expect(final).toMatchObject({ status: 'ready', lastError: null });
    // The source is fetched by the media task's plan, so that is the task that met the expired URL.
    const fetches = (await traceSteps(api.client, 'video-up-1')).filter((t) => t.activity === 'prepareMedia');
    expect(fetches.length).toBeGreaterThanOrEqual(2); // the expired attempt, then the one with a fresh URL
    // Status answers carry URLs (issue 26); where the file lives is the row's.
    const renditionPath = (await new VideosRepo(db.pool).get('up-1'))?.renditionPath;
    if (minio) {
      expect(renditionPath).toBe('s3://biblio-it/media/up-1/rendition.mp4');
      expect(await api.storage.head('media/up-1/rendition.mp4')).toMatchObject({ contentType: 'video/mp4' });
      expect(await api.storage.head('media/up-1/thumbnail.jpg')).toMatchObject({ contentType: 'image/jpeg' });
    } else {
      expect((await stat(renditionPath ?? '')).size).toBeGreaterThan(0);
    }
    // The history carries the key, never a readable signed URL.
    const text = await historyText('video-up-1');
    expect(text).not.toMatch(/X-Amz-Signature|[?&]s=[A-Za-z0-9_-]{20}/);
  });

  it('serves the MP4 (with Range), thumbnail and every HLS file of the ready video from the store, with no media on the API host', async () => {
    // Workers and the API share this data dir here: on S3 no host keeps a copy, so nothing of the
    // video is on disk and every answer below comes from the store.
    if (minio) expect(existsSync(path.join(dataDir, 'media', 'up-1'))).toBe(false);
    /** GET through the API, following its redirect to the store as a browser does. */
    const get = async (url: string, headers: Record<string, string> = {}) => {
      const res = await api.app.inject({ method: 'GET', url, headers });
      if (res.statusCode !== 302)
        return { status: res.statusCode, type: res.headers['content-type'], body: res.rawPayload, redirected: false };
      expect(res.headers['cache-control']).toBe('private, no-store');
      const location = String(res.headers.location);
      // A presigned GET that expires soon (X-Amz-Expires is the TTL in seconds).
      expect(Number(new URL(location).searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(300);
      const followed = await fetch(location, { headers });
      return {
        status: followed.status,
        type: followed.headers.get('content-type'),
        body: Buffer.from(await followed.arrayBuffer()),
        redirected: true,
      };
    };
    const whole = await get('/videos/up-1/rendition.mp4');
    expect([whole.status, whole.type, whole.redirected]).toEqual([200, 'video/mp4', !!minio]);
    expect(whole.body.equals((await api.storage.getBytes('media/up-1/rendition.mp4'))!)).toBe(true);
    const ranged = await get('/videos/up-1/rendition.mp4', { range: 'bytes=100-199' });
    expect([ranged.status, ranged.body.length]).toEqual([206, 100]);
    expect(ranged.body.equals(whole.body.subarray(100, 200))).toBe(true);
    const thumb = await get('/videos/up-1/thumbnail.jpg');
    expect([thumb.status, thumb.type]).toEqual([200, 'image/jpeg']);

    const master = await get('/videos/up-1/hls/master.m3u8');
    // Playlists are sent by the API (never redirected): their URIs stay relative to its route.
    expect([master.status, master.redirected]).toEqual([200, false]);
    const files: string[] = [];
    for (const v of parseMasterPlaylist(master.body.toString('utf8')).variants) {
      const playlist = await get(`/videos/up-1/hls/${v.uri}`);
      expect([playlist.status, playlist.redirected]).toEqual([200, false]);
      const parsed = parseMediaPlaylist(playlist.body.toString('utf8'));
      const dir = path.posix.dirname(v.uri);
      files.push(...[parsed.map ?? '', ...parsed.segments.map((x) => x.uri)].map((u) => `${dir}/${u}`));
    }
    expect(files.length).toBeGreaterThanOrEqual(2); // an init segment and at least one media segment per rung
    for (const f of files) {
      const res = await get(`/videos/up-1/hls/${f}`);
      expect({ f, status: res.status, size: res.body.length > 0 }).toEqual({ f, status: 200, size: true });
    }
    if (minio) {
      // hls.js fetches segments with XHR: after the cross-origin redirect the browser sends
      // `Origin: null` and needs Access-Control-Allow-Origin on MinIO's answer.
      const seg = await api.app.inject({ method: 'GET', url: `/videos/up-1/hls/${files[1]}` });
      const cors = await fetch(String(seg.headers.location), { headers: { origin: 'null' } });
      expect([cors.status, cors.headers.get('access-control-allow-origin')]).toEqual([200, expect.stringMatching(/^(\*|null)$/)]);
    }
  });

  it('fails SourceChanged, not retried, when the object is replaced after its upload completed', async () => {
    const created = await api.app.inject({
      method: 'POST',
      url: '/uploads',
      payload: { contentType: 'video/mp4', sizeBytes: clip.length },
    });
    const t = created.json() as {
      uploadId: string;
      videoId: string;
      key: string;
      upload: { url: string; headers: Record<string, string> };
    };
    if (api.storage instanceof LocalObjectStorage) {
      const u = new URL(t.upload.url);
      await api.raw.inject({ method: 'PUT', url: `${u.pathname}${u.search}`, headers: t.upload.headers, payload: clip });
    } else {
      expect((await fetch(t.upload.url, { method: 'PUT', headers: t.upload.headers, body: clip })).status).toBe(200);
    }
    expect((await api.app.inject({ method: 'POST', url: `/uploads/${t.uploadId}/complete`, payload: {} })).statusCode).toBe(200);
    // Someone with the store's own credentials swaps the bytes after completion pinned the ETag.
    const other = path.join(dataDir, 'other.mp4');
    await makeTinyClip(other, 3); // other bytes than the clip: another ETag
    await api.storage.putFile(t.key, other, 'video/mp4');
    const started = await api.app.inject({ method: 'POST', url: '/videos', payload: { source: { kind: 'upload', key: t.key } } });
    expect(started.statusCode).toBe(202);
    const final = await waitFor(t.videoId, ended);
    expect(final.status).toBe('failed');
    expect(final.lastError).toMatchObject({ type: 'SourceChanged', step: 'transcode' });
    // A failed video's media is not served.
    for (const url of ['rendition.mp4', 'thumbnail.jpg', 'hls/master.m3u8'])
      expect((await api.app.inject({ method: 'GET', url: `/videos/${t.videoId}/${url}` })).statusCode).toBe(404);
    const fetches = (await traceSteps(api.client, `video-${t.videoId}`)).filter((x) => x.activity === 'prepareMedia');
    expect(fetches.map((x) => x.attempt)).toEqual([1]); // non-retryable: one fetch, no retry, no re-sign
  });

  it('DELETE removes the uploaded original and the published copies from the object store', async () => {
    expect((await api.storage.list('uploads/up-1/')).length).toBe(1);
    const res = await api.app.inject({ method: 'DELETE', url: '/videos/up-1' });
    expect(res.statusCode).toBe(200);
    expect(await api.storage.list('uploads/up-1/')).toEqual([]);
    expect(await api.storage.list('media/up-1/')).toEqual([]);
  });
});

describe('expired external URL', () => {
  const expiredUrl = () => `http://alice:s3cret-pw@localhost:${port}/clips/river.mp4?token=expired-TOKEN1`;
  const freshUrl = () => `http://alice:s3cret-pw@localhost:${port}/clips/river.mp4?token=fresh-TOKEN2`;

  it('waits for refreshSourceUrl, completes after POST /refresh-url, and keeps every secret out of history and the DB', async () => {
    const started = await api.app.inject({
      method: 'POST',
      url: '/videos',
      payload: { videoId: 'ext-1', source: { kind: 'url', url: expiredUrl() } },
    });
    expect(started.statusCode).toBe(202);
    const waiting = await waitFor('ext-1', (s) => s.status === 'waiting_for_source');
    expect(waiting.waitingFor).toMatch(/refresh-url/);
    expect(JSON.stringify(waiting)).not.toMatch(/s3cret-pw|TOKEN1/);
    const described = await api.client.workflow.getHandle('video-ext-1').describe();
    expect(described.memo).toMatchObject({ sourceStatus: 'waiting_for_source' });

    // Refused: no key, a non-operator key, a forbidden target, a NUL byte — the run keeps waiting.
    const uploader = await api.createKey('uploader');
    const send = (url: string, headers?: Record<string, string>) =>
      (headers ? api.raw : api.app).inject({ method: 'POST', url: '/videos/ext-1/refresh-url', payload: { url }, headers });
    expect((await send(freshUrl(), {})).statusCode).toBe(401);
    expect((await send(freshUrl(), { authorization: `Bearer ${uploader}` })).statusCode).toBe(403);
    expect((await send(`http://127.0.0.1:${port}/clips/river.mp4`)).statusCode).toBe(400);
    expect((await send('http://localhost/a\u0000b')).statusCode).toBe(400);
    expect((await waitFor('ext-1', () => true)).status).toBe('waiting_for_source');

    const refreshed = await send(freshUrl());
    expect(refreshed.statusCode).toBe(202);
    const final = await waitFor('ext-1', ended);
    expect(final).toMatchObject({ status: 'ready', lastError: null });

    const text = await historyText('video-ext-1');
    for (const secret of ['s3cret-pw', 'expired-TOKEN1', 'fresh-TOKEN2', `localhost:${port}/clips`]) expect(text).not.toContain(secret);
    const row = await db.pool.query('SELECT source::text AS s, error_message FROM videos WHERE id = $1', ['ext-1']);
    expect(row.rows[0].s).not.toMatch(/s3cret-pw|TOKEN/);
  });

  it('dead-letters with SourceUrlExpired at the deadline when no new URL arrives', async () => {
    const started = await api.app.inject({
      method: 'POST',
      url: '/videos',
      payload: { videoId: 'ext-2', source: { kind: 'url', url: expiredUrl() } },
    });
    expect(started.statusCode).toBe(202);
    await waitFor('ext-2', (s) => s.status === 'waiting_for_source');
    const final = await waitFor('ext-2', ended, REFRESH_DEADLINE_MS + 30_000);
    expect(final).toMatchObject({ status: 'failed', workflowStatus: 'FAILED' });
    expect(final.lastError).toMatchObject({ type: 'SourceUrlExpired', step: 'transcode' });
    expect(final.lastError?.message).not.toMatch(/s3cret-pw|TOKEN1/);
    const row = await new VideosRepo(db.pool).get('ext-2');
    expect(row).toMatchObject({ status: 'failed', errorType: 'SourceUrlExpired' });
    expect(JSON.stringify(row)).not.toMatch(/s3cret-pw|TOKEN1/);
  });
});
