import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, copyFile, writeFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ErrorType, failure } from '../../errors';
import { validateKey, type DownloadOptions, type ObjectInfo, type ObjectStorage, type PresignedRequest } from './port';

export type Verdict = 'ok' | 'expired' | 'bad-signature';

/** The local store's signed-URL route prefix (served by the API, src/api/routes/storage.ts). */
export const LOCAL_STORAGE_PREFIX = '/storage/o/';

/**
 * Local disk behind HMAC-signed, expiring URLs. The signature binds method, key, expiry and,
 * for PUT, the exact size and content type: change any of them and the URL is refused.
 * Writes land in `.tmp/` and are renamed into place only when complete, so a refused or
 * broken upload leaves nothing behind.
 */
export class LocalObjectStorage implements ObjectStorage {
  readonly backend = 'local' as const;

  constructor(private readonly o: { root: string; secret: Buffer; publicBaseUrl: string; now?: () => number }) {}

  private now(): number {
    return Math.floor((this.o.now ?? Date.now)() / 1000);
  }

  private sign(parts: string[]): string {
    return createHmac('sha256', this.o.secret).update(parts.join('\n')).digest('base64url');
  }

  private fileOf(key: string): string {
    return path.join(this.o.root, validateKey(key));
  }

  private url(method: 'PUT' | 'GET', key: string, expires: number, extra: Record<string, string>): string {
    const q = new URLSearchParams({ m: method, e: String(expires), ...extra });
    q.set('s', this.sign([method, key, String(expires), extra.l ?? '', extra.t ?? '']));
    return `${this.o.publicBaseUrl}${LOCAL_STORAGE_PREFIX}${key}?${q.toString()}`;
  }

  async presignPut(key: string, o: { contentType: string; sizeBytes: number; expiresInSec: number }): Promise<PresignedRequest> {
    validateKey(key);
    const expires = this.now() + o.expiresInSec;
    return {
      method: 'PUT',
      url: this.url('PUT', key, expires, { l: String(o.sizeBytes), t: o.contentType }),
      headers: { 'content-type': o.contentType, 'content-length': String(o.sizeBytes) },
      expiresAt: new Date(expires * 1000).toISOString(),
    };
  }

  async presignGet(key: string, o: { expiresInSec: number }): Promise<PresignedRequest> {
    validateKey(key);
    const expires = this.now() + o.expiresInSec;
    return { method: 'GET', url: this.url('GET', key, expires, {}), headers: {}, expiresAt: new Date(expires * 1000).toISOString() };
  }

  /** Checks a signed request's query for this method and key. */
  verify(method: 'PUT' | 'GET', key: string, q: Record<string, string | undefined>): Verdict {
    const expires = Number(q.e);
    const expected = Buffer.from(this.sign([method, key, q.e ?? '', q.l ?? '', q.t ?? '']));
    const given = Buffer.from(q.s ?? '');
    if (q.m !== method || !Number.isInteger(expires) || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return 'bad-signature';
    }
    return expires < this.now() ? 'expired' : 'ok';
  }

  /**
   * Receives a signed PUT: streams into `.tmp/`, stops at the signed size, renames into place.
   * Returns false (and keeps nothing) when the body is not exactly the signed size.
   */
  async receive(key: string, body: Readable, signedSize: number, contentType: string): Promise<boolean> {
    const tmpDir = path.join(this.o.root, '.tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = path.join(tmpDir, randomBytes(8).toString('hex'));
    let seen = 0;
    const cap = new Transform({
      transform(chunk: Buffer, _e, done) {
        seen += chunk.length;
        if (seen > signedSize) return done(new Error('over the signed size'));
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, cap, createWriteStream(tmp));
      if (seen !== signedSize) return false;
      const target = this.fileOf(key);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(`${tmp}.meta`, JSON.stringify({ contentType }));
      await rename(`${tmp}.meta`, `${target}.meta.json`);
      await rename(tmp, target);
      return true;
    } catch {
      return false;
    } finally {
      await rm(tmp, { force: true });
      await rm(`${tmp}.meta`, { force: true });
    }
  }

  /** Parses a URL this store signed: its key and query, or undefined if it is not ours. */
  parse(url: string): { key: string; query: Record<string, string> } | undefined {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return undefined;
    }
    const base = new URL(this.o.publicBaseUrl);
    if (u.origin !== base.origin || !u.pathname.startsWith(LOCAL_STORAGE_PREFIX)) return undefined;
    return { key: decodeURIComponent(u.pathname.slice(LOCAL_STORAGE_PREFIX.length)), query: Object.fromEntries(u.searchParams) };
  }

  openRead(key: string): Readable {
    return createReadStream(this.fileOf(key));
  }

  async download(url: string, file: string, o: DownloadOptions): Promise<void> {
    const parsed = this.parse(url);
    if (!parsed) throw failure(ErrorType.SourceUrlExpired, 'the source URL was not signed by this store');
    let verdict: Verdict;
    try {
      verdict = this.verify('GET', parsed.key, parsed.query);
    } catch {
      verdict = 'bad-signature';
    }
    if (verdict !== 'ok')
      throw failure(ErrorType.SourceUrlExpired, `the signed URL for ${parsed.key} ${verdict === 'expired' ? 'expired' : 'was rejected'}`);
    const info = await this.head(parsed.key);
    if (!info) throw failure(ErrorType.SourceNotFound, `object ${parsed.key} does not exist`);
    if (info.size > o.maxBytes) throw failure(ErrorType.SourceTooLarge, `object is ${info.size} bytes, over the ${o.maxBytes}-byte cap`);
    await copyFile(this.fileOf(parsed.key), file);
    o.onProgress?.(info.size, 100);
  }

  async putFile(key: string, file: string, contentType: string): Promise<{ location: string }> {
    const target = this.fileOf(key);
    await mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    // Rename when possible (same disk); copy then rename otherwise: readers never see a partial file.
    await rename(file, tmp).catch(() => copyFile(file, tmp));
    await writeFile(`${target}.meta.json`, JSON.stringify({ contentType }));
    await rename(tmp, target);
    return { location: target };
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const info = await stat(this.fileOf(key)).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    const meta = await readFile(`${this.fileOf(key)}.meta.json`, 'utf8')
      .then((t) => JSON.parse(t) as { contentType?: string })
      .catch(() => ({ contentType: undefined }));
    return { size: info.size, contentType: meta.contentType };
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(path.join(dir, e.name), r);
        else if (!e.name.endsWith('.meta.json') && r.startsWith(prefix)) out.push(r);
      }
    };
    await walk(this.o.root, '');
    return out.filter((k) => !k.startsWith('.tmp/')).sort();
  }

  /** Files in the upload staging area (the contract suite asserts a refused PUT leaves none). */
  async staged(): Promise<string[]> {
    return readdir(path.join(this.o.root, '.tmp')).catch(() => []);
  }

  async delete(key: string): Promise<void> {
    await rm(this.fileOf(key), { force: true });
    await rm(`${this.fileOf(key)}.meta.json`, { force: true });
  }

  async close(): Promise<void> {}
}
