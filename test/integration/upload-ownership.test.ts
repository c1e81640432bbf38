import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { LocalObjectStorage } from '../../src/adapters/storage/local-storage';
import type { UploadTicket } from '../../src/app/upload-service';
import { ApiClient } from '../../src/cli/api-client';
import { sendUpload } from '../../src/cli/resumable-upload';
import { abortAbandonedUploads } from '../../src/activities/indexer/abandoned-uploads';
import { UploadsRepo } from '../../src/db/uploads-repo';
import { loadSecret } from '../../src/security/dev-secrets';
import { startApi, type TestApi } from '../support/api';
import { startStack, type Stack } from '../support/stack';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

// Issue 26, on a real API (PostgreSQL, Temporal dev server, the local store behind the API's
// signed routes) with two uploader keys. No workers: these tests are about who may send and
// start what; the worker's check of the pinned ETag is in the storage contract suite.

let stack: Stack;
let api: TestApi;
let alice: string;
let bob: string;

beforeAll(async () => {
  stack = await startStack({ name: 'upload-own' });
  api = await stack.startApi();
  [alice, bob] = [await api.createKey('uploader'), await api.createKey('uploader')];
});

afterAll(async () => {
  await stack?.stop();
});

const as = (key: string) => (method: 'GET' | 'POST', url: string, payload?: object) =>
  api.raw.inject({ method, url, payload, headers: { authorization: `Bearer ${key}` } });

/** PUTs through the app (the local store's signed route), exactly as issued. */
async function put(ticket: UploadTicket, body: Buffer): Promise<number> {
  if (ticket.upload?.method !== 'PUT') throw new Error('expected a single-PUT upload');
  const u = new URL(ticket.upload.url);
  return (await api.raw.inject({ method: 'PUT', url: `${u.pathname}${u.search}`, headers: ticket.upload.headers, payload: body }))
    .statusCode;
}

const open_ = async (key: string, body: object) => {
  const res = await as(key)('POST', '/uploads', { contentType: 'video/mp4', sizeBytes: 1000, ...body });
  return { status: res.statusCode, json: res.json() as UploadTicket & { error?: { type: string } } };
};

async function videoRows(id: string): Promise<number> {
  return (await stack.db.pool.query('SELECT 1 FROM videos WHERE id = $1', [id])).rowCount ?? 0;
}

describe('uploads bound to their video and their caller', () => {
  it('refuses a second uploader a video id that has an open upload or exists; the owner resumes its own', async () => {
    const first = await open_(alice, { videoId: 'victim-1', filename: 'clip.mp4' });
    expect(first.status).toBe(201);
    // The key is random per upload, never the filename.
    expect(first.json.key).toMatch(/^uploads\/victim-1\/up_[A-Za-z0-9_-]{24}$/);
    expect(first.json.key).not.toContain('clip');

    const hijack = await open_(bob, { videoId: 'victim-1', filename: 'clip.mp4' });
    expect([hijack.status, hijack.json.error?.type]).toEqual([409, 'VideoIdConflict']);

    const resumed = await open_(alice, { videoId: 'victim-1', filename: 'clip.mp4' });
    expect([resumed.status, resumed.json.uploadId, resumed.json.key]).toEqual([200, first.json.uploadId, first.json.key]);

    expect(await put(first.json, randomBytes(1000))).toBe(200);
    const started = await as(alice)('POST', '/videos', first.json.next.body);
    expect(started.statusCode).toBe(202);
    // A started (pending) video's id stays refused to everyone else.
    const late = await open_(bob, { videoId: 'victim-1' });
    expect([late.status, late.json.error?.type]).toEqual([409, 'VideoIdConflict']);
    // A video made another way (no upload row) too.
    await api.app.inject({
      method: 'POST',
      url: '/videos',
      payload: { videoId: 'url-video', source: { kind: 'url', url: 'http://127.0.0.1:9/v.mp4' } },
    });
    expect(await videoRows('url-video')).toBe(1);
    expect((await open_(bob, { videoId: 'url-video' })).status).toBe(409);
  });

  it("lets no caller read, complete, or start a video from another caller's upload", async () => {
    const mine = await open_(alice, {});
    expect(mine.status).toBe(201);
    expect(await put(mine.json, randomBytes(1000))).toBe(200);
    const bobCalls = as(bob);
    for (const res of [
      await bobCalls('GET', `/uploads/${mine.json.uploadId}`),
      await bobCalls('POST', `/uploads/${mine.json.uploadId}/complete`, {}),
      await bobCalls('POST', '/videos', mine.json.next.body),
      await bobCalls('POST', '/videos', { source: { kind: 'upload', key: mine.json.key } }),
      await bobCalls('POST', '/videos', { videoId: 'bobs-own', source: { kind: 'upload', key: mine.json.key } }),
    ]) {
      expect([res.statusCode, res.json().error.type]).toEqual([403, 'UploadNotOwned']);
    }
    expect(await videoRows(mine.json.videoId)).toBe(0);
    expect(await videoRows('bobs-own')).toBe(0);

    // Bob's own upload, pointed at Alice's video id, is refused too: an upload makes only its own video.
    const his = await open_(bob, {});
    expect(await put(his.json, randomBytes(1000))).toBe(200);
    const pointed = await bobCalls('POST', '/videos', { videoId: mine.json.videoId, source: { kind: 'upload', key: his.json.key } });
    expect([pointed.statusCode, pointed.json().error.type]).toEqual([409, 'VideoIdConflict']);

    const ok = await as(alice)('POST', '/videos', mine.json.next.body);
    expect(ok.statusCode).toBe(202);
    expect(ok.json().videoId).toBe(mine.json.videoId);
  });

  it('refuses a second PUT of the same signed URL: the object stays the first one, pinned at completion', async () => {
    const t = await open_(alice, {});
    const firstBytes = randomBytes(1000);
    expect(await put(t.json, firstBytes)).toBe(200);
    expect(await put(t.json, randomBytes(1000))).toBe(409);
    const done = await as(alice)('POST', `/uploads/${t.json.uploadId}/complete`, {});
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({ state: 'completed', uploadId: t.json.uploadId });
    expect(done.json().upload).toBeUndefined(); // no URL to send more bytes with
    const row = await stack.db.pool.query('SELECT etag, owner_key_id FROM uploads WHERE id = $1', [t.json.uploadId]);
    expect(row.rows[0].etag).toBe(`"${createHash('md5').update(firstBytes).digest('hex')}"`);
    expect(row.rows[0].owner_key_id).toBe(alice.split('_')[1]);
  });

  it('starts a video only from a completed upload', async () => {
    const nothing = await open_(alice, {});
    const early = await as(alice)('POST', '/videos', nothing.json.next.body);
    expect([early.statusCode, early.json().error.type]).toEqual([409, 'UploadIncomplete']);
    const parts = await open_(alice, { multipart: true, sizeBytes: 6 * 1024 * 1024 });
    expect(parts.json.upload?.method).toBe('MULTIPART');
    const partial = await as(alice)('POST', '/videos', parts.json.next.body);
    expect([partial.statusCode, partial.json().error.type]).toEqual([409, 'UploadIncomplete']);
    expect(await videoRows(nothing.json.videoId)).toBe(0);
    expect(await videoRows(parts.json.videoId)).toBe(0);
  });
});

describe('abandoned uploads', () => {
  it('are aborted by the retention sweep: parts gone, row aborted, the video id free again', async () => {
    const t = await open_(alice, { videoId: 'abandoned-1', multipart: true, sizeBytes: 6 * 1024 * 1024 });
    if (t.json.upload?.method !== 'MULTIPART') throw new Error('expected a multipart upload');
    const [part] = t.json.upload.parts;
    const u = new URL((part as { url: string }).url);
    const sent = await api.raw.inject({ method: 'PUT', url: `${u.pathname}${u.search}`, payload: randomBytes(6 * 1024 * 1024) });
    expect(sent.statusCode).toBe(200);
    const { rows } = await stack.db.pool.query('SELECT multipart_id AS m FROM uploads WHERE id = $1', [t.json.uploadId]);
    expect(await api.storage.listParts(t.json.key, rows[0].m)).toHaveLength(1);

    // The client never came back: its upload is past its expiry (24 h in production).
    await stack.db.pool.query(`UPDATE uploads SET expires_at = now() - interval '1 second' WHERE id = $1`, [t.json.uploadId]);
    // The function the reconciler's retention step (enforceRetention) calls.
    expect(await abortAbandonedUploads({ uploads: new UploadsRepo(stack.db.pool), storage: api.storage })).toBeGreaterThanOrEqual(1);

    expect(await api.storage.listParts(t.json.key, rows[0].m)).toEqual([]);
    const gone = await as(alice)('GET', `/uploads/${t.json.uploadId}`);
    expect(gone.json().state).toBe('aborted');
    expect((await as(alice)('POST', `/uploads/${t.json.uploadId}/complete`, {})).statusCode).toBe(410);
    expect((await open_(bob, { videoId: 'abandoned-1' })).status).toBe(201);
  });
});

describe('resumable upload of 200 MB on a flaky link', () => {
  const SIZE = 200 * 1000 * 1000;
  let proxy: TcpProxy;
  let flaky: TestApi;
  let apiPort: number;
  let file: string;

  async function startFlakyApi(): Promise<TestApi> {
    const storage = new LocalObjectStorage({
      root: `${stack.dataDir}/objects`,
      secret: await loadSecret(undefined, stack.dataDir, 'storage-signing-key'),
      // Signed URLs name the proxy: every byte the client sends is counted there.
      publicBaseUrl: `http://127.0.0.1:${proxy.port}`,
    });
    // Direct (not stack.startApi): this test closes it mid-upload and starts another on the same port.
    const started = await startApi({
      client: stack.temporal.client,
      pool: stack.db.pool,
      dataDir: stack.dataDir,
      ingestDir: stack.ingestDir,
      queues: stack.queues,
      storage,
      maxUploadBytes: SIZE, // the harness caps uploads at 50 MiB
    });
    await started.raw.listen({ host: '127.0.0.1', port: apiPort });
    return started;
  }

  beforeAll(async () => {
    apiPort = await freePort();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: apiPort });
    flaky = await startFlakyApi();
    file = path.join(stack.dataDir, 'big.bin');
    const h = await open(file, 'w');
    for (let written = 0; written < SIZE; written += 8_000_000) await h.write(randomBytes(Math.min(8_000_000, SIZE - written)));
    await h.close();
  });

  afterAll(async () => {
    await flaky?.close();
    await proxy?.close();
  });

  it('resumes after the connection is cut at 50 % and after an API restart, re-sending at most one part each time', async () => {
    const client = new ApiClient(`http://127.0.0.1:${proxy.port}`, alice);
    const ticket = await client.post<UploadTicket>('/uploads', { contentType: 'video/mp4', sizeBytes: SIZE, filename: 'big.mp4' });
    // Production defaults: above 64 MiB a multipart upload in 16 MiB parts.
    expect(ticket.upload?.method).toBe('MULTIPART');
    const partSize = ticket.upload?.method === 'MULTIPART' ? ticket.upload.partSize : 0;
    expect(partSize).toBe(16 * 1024 * 1024);

    const events: string[] = [];
    let cutArmed = false;
    let restartArmed = false;
    let busy: Promise<void> = Promise.resolve();
    // Half a part further on the wire than where the trigger fires: each interruption lands mid-part.
    const midNextPart = () => proxy.bytesUp() + partSize / 2;
    const done = await sendUpload(client, ticket, file, {
      onRetry: (err) => events.push(`retry: ${err.message}`),
      onProgress: (sent) => {
        if (!cutArmed && sent >= SIZE / 2) {
          cutArmed = true;
          busy = proxy.cutAt(midNextPart()).then(async () => {
            events.push('cut');
            await proxy.restore();
          });
        } else if (cutArmed && !restartArmed && sent >= SIZE * 0.75) {
          restartArmed = true;
          busy = busy
            .then(() => proxy.cutAt(midNextPart()))
            .then(async () => {
              // A crash, as the client sees it: connections drop, then a new API process answers.
              await flaky.close();
              events.push('api restarted');
              flaky = await startFlakyApi();
              await proxy.restore();
            });
        }
      },
    });
    await busy;
    expect(events).toContain('cut');
    expect(events).toContain('api restarted');
    expect(events.filter((e) => e.startsWith('retry')).length).toBeGreaterThanOrEqual(2);
    expect(done.state).toBe('completed');

    // Sent once, plus at most one part per interruption (and a few KB of HTTP headers and JSON).
    // The client sends one part at a time, so one part is in flight at each cut. Whether the API
    // restart outlasts the client's first retry is the machine's load to decide; either way the
    // parts acknowledged before the cut are not sent again (test/unit/resumable-upload.test.ts
    // makes the slow restart certain).
    const resent = proxy.bytesUp() - SIZE;
    console.log(`200 MB upload, two interruptions: ${resent} bytes re-sent (part size ${partSize})`);
    expect(resent).toBeGreaterThan(0);
    expect(resent).toBeLessThanOrEqual(2 * partSize + 256 * 1024);

    // Only the final object becomes a video: one object, byte for byte; no parts, no staging left.
    const started = await client.post<{ videoId: string }>('/videos', done.next.body);
    expect(started.videoId).toBe(ticket.videoId);
    expect(await flaky.storage.list(`uploads/${ticket.videoId}/`)).toEqual([ticket.key]);
    expect(await sha256(path.join(stack.dataDir, 'objects', ticket.key))).toBe(await sha256(file));
    const { rows } = await stack.db.pool.query('SELECT multipart_id AS m FROM uploads WHERE id = $1', [ticket.uploadId]);
    expect(await readdir(path.join(stack.dataDir, 'objects', '.parts')).catch(() => [])).not.toContain(rows[0].m);
    expect(await (flaky.storage as LocalObjectStorage).staged()).toEqual([]);
    expect(await videoRows(ticket.videoId)).toBe(1);
  }, 300_000);
});

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}
