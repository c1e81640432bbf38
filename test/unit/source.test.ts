import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { materializeSource } from '../../src/media/source';
import { redactUrl as redact } from '../../src/net/redact';
import { SsrfPolicy } from '../../src/net/ssrf-guard';

// The local test servers listen on loopback, which the SSRF guard refuses unless allowed.
const allowLoopback = new SsrfPolicy(['127.0.0.1']);

/** Awaits a promise that must reject with an ApplicationFailure and returns that failure. */
async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw new Error(`expected an ApplicationFailure, got ${String(err)}`);
  }
  throw new Error('expected a rejection, but it resolved');
}

describe('redactUrl (what download errors quote)', () => {
  it('drops the query string of a presigned URL', () => {
    const out = redact('https://bucket.s3.amazonaws.com/v.mp4?X-Amz-Credential=AKIA123&X-Amz-Signature=deadbeef');
    expect(out).toBe('https://bucket.s3.amazonaws.com/v.mp4?…');
    expect(out).not.toContain('AKIA123');
  });

  it('keeps a URL without a query string as origin plus path', () => {
    expect(redact('http://example.com:8080/a/b.mp4')).toBe('http://example.com:8080/a/b.mp4');
  });

  it('drops user info embedded in the URL', () => {
    expect(redact('https://user:hunter2@example.com/v.mp4')).not.toContain('hunter2');
  });

  it('returns a placeholder instead of throwing for an invalid URL', () => {
    expect(redact('not a url ?token=secret')).toBe('<invalid url>');
  });
});

describe('materializeSource with a file source', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'biblio-source-file-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns the path of an existing file within the cap unchanged', async () => {
    const file = path.join(dir, 'ok.bin');
    await writeFile(file, Buffer.alloc(100));
    await expect(materializeSource({ kind: 'file', path: file }, { ssrf: allowLoopback, workDir: dir, maxBytes: 100 })).resolves.toBe(file);
  });

  it('fails a missing file with a non-retryable SourceNotFound', async () => {
    const f = await failureOf(
      materializeSource({ kind: 'file', path: path.join(dir, 'missing.mp4') }, { ssrf: allowLoopback, workDir: dir, maxBytes: 1000 }),
    );
    expect(f.type).toBe('SourceNotFound');
    expect(f.nonRetryable).toBe(true);
  });

  it('fails a directory given as the file with SourceNotFound', async () => {
    const sub = path.join(dir, 'a-directory');
    await mkdir(sub);
    const f = await failureOf(materializeSource({ kind: 'file', path: sub }, { ssrf: allowLoopback, workDir: dir, maxBytes: 1000 }));
    expect(f.type).toBe('SourceNotFound');
  });

  it('fails a file one byte over maxBytes with a non-retryable SourceTooLarge', async () => {
    const file = path.join(dir, 'big.bin');
    await writeFile(file, Buffer.alloc(101));
    const f = await failureOf(materializeSource({ kind: 'file', path: file }, { ssrf: allowLoopback, workDir: dir, maxBytes: 100 }));
    expect(f.type).toBe('SourceTooLarge');
    expect(f.nonRetryable).toBe(true);
  });
});

describe('materializeSource with a URL source', () => {
  const payload = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
  let server: Server;
  let base: string;
  let workDir: string;

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-source-url-'));
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      switch (url.pathname) {
        case '/video.mp4':
          res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': payload.length });
          res.end(payload);
          return;
        case '/chunked.mp4':
          // No content-length: Node sends Transfer-Encoding: chunked.
          res.writeHead(200, { 'content-type': 'video/mp4' });
          res.write(payload.subarray(0, 2000));
          setTimeout(() => res.end(payload.subarray(2000)), 10);
          return;
        case '/gone':
          res.writeHead(410);
          res.end();
          return;
        case '/busy':
          res.writeHead(503, { 'retry-after': '1' });
          res.end('try later');
          return;
        default:
          res.writeHead(404);
          res.end('no such thing');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(workDir, { recursive: true, force: true });
  });

  /** A fresh work dir per download, as each activity attempt has its own. */
  async function attemptDir(): Promise<string> {
    return mkdtemp(path.join(workDir, 'attempt-'));
  }

  it('writes the served bytes unchanged to a file in the work dir', async () => {
    const dir = await attemptDir();
    const file = await materializeSource(
      { kind: 'url', url: `${base}/video.mp4` },
      { ssrf: allowLoopback, workDir: dir, maxBytes: 10_000 },
    );
    expect(path.dirname(file)).toBe(dir);
    expect((await readFile(file)).equals(payload)).toBe(true);
  });

  it('writes the bytes of a chunked response without a content-length', async () => {
    const dir = await attemptDir();
    const file = await materializeSource(
      { kind: 'url', url: `${base}/chunked.mp4` },
      { ssrf: allowLoopback, workDir: dir, maxBytes: 10_000 },
    );
    expect((await readFile(file)).equals(payload)).toBe(true);
  });

  it('reports download progress as bytes arrive, reaching 100% with a content-length', async () => {
    const seen: [number, number | null][] = [];
    await materializeSource(
      { kind: 'url', url: `${base}/video.mp4` },
      { ssrf: allowLoopback, workDir: await attemptDir(), maxBytes: 10_000, onProgress: (bytes, percent) => seen.push([bytes, percent]) },
    );
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toEqual([payload.length, 100]);
    expect(seen.map(([b]) => b)).toEqual([...seen.map(([b]) => b)].sort((a, b) => a - b));
  });

  it('reports bytes without a percent when the size is unknown', async () => {
    const seen: (number | null)[] = [];
    await materializeSource(
      { kind: 'url', url: `${base}/chunked.mp4` },
      { ssrf: allowLoopback, workDir: await attemptDir(), maxBytes: 10_000, onProgress: (_bytes, percent) => seen.push(percent) },
    );
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(new Set(seen)).toEqual(new Set([null]));
  });

  it('accepts a response of exactly maxBytes', async () => {
    const dir = await attemptDir();
    const file = await materializeSource(
      { kind: 'url', url: `${base}/video.mp4` },
      { ssrf: allowLoopback, workDir: dir, maxBytes: payload.length },
    );
    expect((await readFile(file)).length).toBe(payload.length);
  });

  it('fails a 404 with a non-retryable SourceNotFound', async () => {
    const f = await failureOf(
      materializeSource(
        { kind: 'url', url: `${base}/missing.mp4` },
        { ssrf: allowLoopback, workDir: await attemptDir(), maxBytes: 10_000 },
      ),
    );
    expect(f.type).toBe('SourceNotFound');
    expect(f.nonRetryable).toBe(true);
  });

  it('fails a 410 with SourceNotFound', async () => {
    const f = await failureOf(
      materializeSource({ kind: 'url', url: `${base}/gone` }, { ssrf: allowLoopback, workDir: await attemptDir(), maxBytes: 10_000 }),
    );
    expect(f.type).toBe('SourceNotFound');
  });

  it('keeps the query string (credentials) out of the failure message', async () => {
    const f = await failureOf(
      materializeSource(
        { kind: 'url', url: `${base}/missing.mp4?X-Amz-Signature=topsecret` },
        { ssrf: allowLoopback, workDir: await attemptDir(), maxBytes: 10_000 },
      ),
    );
    expect(f.message).not.toContain('topsecret');
  });

  it('fails a 503 with a retryable SourceUnavailable', async () => {
    const f = await failureOf(
      materializeSource({ kind: 'url', url: `${base}/busy` }, { ssrf: allowLoopback, workDir: await attemptDir(), maxBytes: 10_000 }),
    );
    expect(f.type).toBe('SourceUnavailable');
    expect(f.nonRetryable).toBe(false);
  });

  it('fails an unreachable server with a retryable SourceUnavailable', async () => {
    // Bind and release a port so nothing listens on it.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const f = await failureOf(
      materializeSource(
        { kind: 'url', url: `http://127.0.0.1:${port}/v.mp4` },
        { ssrf: allowLoopback, workDir: await attemptDir(), maxBytes: 10 },
      ),
    );
    expect(f.type).toBe('SourceUnavailable');
    expect(f.nonRetryable).toBe(false);
  });

  it('fails a response whose content-length is over maxBytes with SourceTooLarge', async () => {
    const f = await failureOf(
      materializeSource({ kind: 'url', url: `${base}/video.mp4` }, { ssrf: allowLoopback, workDir: await attemptDir(), maxBytes: 4999 }),
    );
    expect(f.type).toBe('SourceTooLarge');
    expect(f.nonRetryable).toBe(true);
  });

  it('fails a chunked response without a length that grows over maxBytes with SourceTooLarge', async () => {
    const f = await failureOf(
      materializeSource({ kind: 'url', url: `${base}/chunked.mp4` }, { ssrf: allowLoopback, workDir: await attemptDir(), maxBytes: 3000 }),
    );
    expect(f.type).toBe('SourceTooLarge');
    expect(f.nonRetryable).toBe(true);
  });
});

describe('materializeSource with an upload source', () => {
  const upload = { kind: 'upload', key: 'uploads/up_1', url: 'http://127.0.0.1:1/objects/uploads/up_1?sig=x' } as const;
  const failingStore = (err: Error) => ({ download: () => Promise.reject(err) });

  it('types a full work disk as DiskFull, retried after a pause (the copy is not the upload’s fault)', async () => {
    const enospc = Object.assign(new Error("ENOSPC: no space left on device, copyfile 'up_1' -> 'source'"), { code: 'ENOSPC' });
    const f = await failureOf(materializeSource(upload, { workDir: os.tmpdir(), maxBytes: 100, storage: failingStore(enospc) }));
    expect(f.type).toBe('DiskFull');
    expect(f.nonRetryable).toBe(false);
    expect(f.nextRetryDelay).toBeDefined();
    expect(f.message).toContain('uploads/up_1');
  });

  it('passes any other storage failure on as it was', async () => {
    const other = new Error('connection reset');
    await expect(materializeSource(upload, { workDir: os.tmpdir(), maxBytes: 100, storage: failingStore(other) })).rejects.toBe(other);
  });
});
