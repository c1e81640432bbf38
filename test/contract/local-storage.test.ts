import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { LocalObjectStorage } from '../../src/adapters/storage/local-storage';
import { registerStorageRoutes } from '../../src/api/routes/storage';
import { HttpError } from '../../src/api/http-error';
import { describeStorageContract } from './storage.contract';

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

// Local disk behind the API's signed routes, over real HTTP.
describeStorageContract('local', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'biblio-local-store-'));
  const port = await freePort();
  const storage = new LocalObjectStorage({ root, secret: randomBytes(32), publicBaseUrl: `http://127.0.0.1:${port}` });
  const app = Fastify();
  app.setErrorHandler((err, _req, reply) =>
    err instanceof HttpError ? reply.status(err.status).send(err.toBody()) : reply.status(500).send({ error: String(err) }),
  );
  registerStorageRoutes(app, { storage });
  await app.listen({ host: '127.0.0.1', port });
  return {
    storage,
    leftovers: () => storage.staged(),
    close: async () => {
      await app.close();
      await rm(root, { recursive: true, force: true });
    },
  };
});

describe('local store staging after a crash', () => {
  it('sweeps staged files no write touched for the given age and keeps fresh ones', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'biblio-local-sweep-'));
    try {
      const storage = new LocalObjectStorage({ root, secret: randomBytes(32), publicBaseUrl: 'http://127.0.0.1:1' });
      await mkdir(path.join(root, '.tmp'), { recursive: true });
      await writeFile(path.join(root, '.tmp', 'crashed'), 'partial');
      await writeFile(path.join(root, '.tmp', 'live'), 'partial');
      const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
      await utimes(path.join(root, '.tmp', 'crashed'), twoHoursAgo, twoHoursAgo);
      expect(await storage.sweepStaged(60 * 60 * 1000)).toEqual(['crashed']);
      expect(await storage.staged()).toEqual(['live']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
