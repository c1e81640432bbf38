import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { LocalObjectStorage } from '../../src/adapters/storage/local-storage';
import { HttpError } from '../../src/api/http-error';
import { sendObject } from '../../src/api/routes/media-files';

describe('media streaming from the local store with Range', () => {
  let dir: string;
  let app: FastifyInstance;
  const bytes = Buffer.from('0123456789abcdefghij');

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'biblio-range-'));
    await writeFile(path.join(dir, 'f.mp4'), bytes);
    const store = new LocalObjectStorage({
      root: path.join(dir, 'objects'),
      secret: Buffer.alloc(32, 1),
      publicBaseUrl: 'http://127.0.0.1:1',
    });
    await store.putFile('media/v1/rendition.mp4', path.join(dir, 'f.mp4'), 'video/mp4');
    app = Fastify();
    // As in buildApp: typed errors become their status and body.
    app.setErrorHandler((err, _req, reply) =>
      err instanceof HttpError ? reply.status(err.status).send(err.toBody()) : reply.status(500).send(),
    );
    app.get('/f', (req, reply) => sendObject(req, reply, store, { key: 'media/v1/rendition.mp4', contentType: 'video/mp4' }, 'v1'));
    app.get('/missing', (req, reply) => sendObject(req, reply, store, { key: 'media/v1/nope.mp4', contentType: 'video/mp4' }, 'v1'));
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers the whole file with accept-ranges', async () => {
    const res = await app.inject({ url: '/f' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers['content-type']).toBe('video/mp4');
    expect(res.rawPayload).toEqual(bytes);
  });
  it('answers 206 with the asked bytes, open-ended and suffix ranges too', async () => {
    const mid = await app.inject({ url: '/f', headers: { range: 'bytes=2-5' } });
    expect(mid.statusCode).toBe(206);
    expect(mid.headers['content-range']).toBe('bytes 2-5/20');
    expect(mid.body).toBe('2345');
    expect((await app.inject({ url: '/f', headers: { range: 'bytes=18-' } })).body).toBe('ij');
    expect((await app.inject({ url: '/f', headers: { range: 'bytes=-3' } })).body).toBe('hij');
  });
  it('answers 416 for a range past the end', async () => {
    const res = await app.inject({ url: '/f', headers: { range: 'bytes=50-60' } });
    expect(res.statusCode).toBe(416);
    expect(res.headers['content-range']).toBe('bytes */20');
  });
  it('answers a typed 404 naming no server path for a missing file', async () => {
    const res = await app.inject({ url: '/missing' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { type: 'MediaNotFound', videoId: 'v1' } });
    expect(res.body).not.toContain(dir);
  });
});
