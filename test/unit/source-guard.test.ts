import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { materializeSource } from '../../src/media/source';
import { SsrfPolicy } from '../../src/net/ssrf-guard';

// The test servers listen on loopback, which the SSRF guard refuses unless allowed.
const loopback = new SsrfPolicy(['127.0.0.1']);

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw new Error(`expected an ApplicationFailure, got ${String(err)}`);
  }
  throw new Error('expected a rejection, but it resolved');
}

// A FIFO needs mkfifo(1), a program: that case is in test/integration/source-fifo.test.ts.
describe('materializeSource confines file sources by the open descriptor', () => {
  let root: string;
  let ingest: string;
  const releases: (() => Promise<void>)[] = [];
  const opts = () => ({ workDir: root, maxBytes: 1_000_000, ingestDir: ingest, onRelease: (r: () => Promise<void>) => releases.push(r) });

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'biblio-confine-'));
    ingest = path.join(root, 'ingest');
    await mkdir(ingest);
    await writeFile(path.join(ingest, "clip 'one'.mp4"), 'video bytes');
    await writeFile(path.join(root, 'secret.mp4'), 'outside bytes');
    await symlink(path.join(root, 'secret.mp4'), path.join(ingest, 'swapped.mp4'));
    await mkdir(path.join(ingest, 'a-dir'));
  });

  afterAll(async () => {
    for (const r of releases) await r();
    await rm(root, { recursive: true, force: true });
  });

  it('reads a regular file through its open descriptor, whatever its name', async () => {
    const local = await materializeSource({ kind: 'file', path: path.join(ingest, "clip 'one'.mp4") }, opts());
    expect(local).toMatch(/^\/proc\/\d+\/fd\/\d+$/);
    expect(await readFile(local, 'utf8')).toBe('video bytes');
  });

  it('fails a symlink swapped in to a file outside the ingest dir with SourceOutsideIngestDir, naming no server path', async () => {
    const f = await failureOf(materializeSource({ kind: 'file', path: path.join(ingest, 'swapped.mp4') }, opts()));
    expect(f.type).toBe('SourceOutsideIngestDir');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).not.toContain(root);
  });

  it('fails a directory with SourceNotRegularFile', async () => {
    const f = await failureOf(materializeSource({ kind: 'file', path: path.join(ingest, 'a-dir') }, opts()));
    expect(f.type).toBe('SourceNotRegularFile');
    expect(f.message).not.toContain(root);
  });

  it('fails a vanished file with SourceNotFound, naming it relative to the ingest dir', async () => {
    const f = await failureOf(materializeSource({ kind: 'file', path: path.join(ingest, 'gone.mp4') }, opts()));
    expect(f.type).toBe('SourceNotFound');
    expect(f.message).toContain('gone.mp4');
    expect(f.message).not.toContain(root);
  });
});

describe('materializeSource bounds slow downloads', () => {
  let server: Server;
  let base: string;
  let workDir: string;
  const timers = new Set<NodeJS.Timeout>();

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-drip-'));
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': '100000' });
      if (req.url === '/silent') return; // headers, then nothing
      // One byte every 100 ms: alive, but far below any useful rate.
      const t = setInterval(() => res.write('x'), 100);
      timers.add(t);
      res.on('close', () => clearInterval(t));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const t of timers) clearInterval(t);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(workDir, { recursive: true, force: true });
  });

  it('gives up on a response that sends nothing for the idle timeout, retryably', async () => {
    const started = Date.now();
    const f = await failureOf(
      materializeSource({ kind: 'url', url: `${base}/silent` }, { workDir, maxBytes: 1_000_000, idleTimeoutMs: 600, ssrf: loopback }),
    );
    expect(f.type).toBe('SourceUnavailable');
    expect(f.nonRetryable).toBe(false);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('gives up on a drip-feed below the minimum rate instead of holding the slot', async () => {
    const started = Date.now();
    const f = await failureOf(
      materializeSource(
        { kind: 'url', url: `${base}/drip` },
        { workDir, maxBytes: 1_000_000, idleTimeoutMs: 800, minBytesPerSec: 1000, ssrf: loopback },
      ),
    );
    expect(f.type).toBe('SourceUnavailable');
    expect(f.message).toMatch(/too slow/);
    expect(Date.now() - started).toBeLessThan(4_000);
  });
});
