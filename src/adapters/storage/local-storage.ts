import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, readdir, rename, rm, rmdir, stat, copyFile, writeFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ErrorType, failure } from '../../errors';
import {
  partPlan,
  splitPin,
  validateKey,
  type DownloadOptions,
  type ObjectInfo,
  type ObjectPin,
  type ObjectRead,
  type ObjectStorage,
  type PresignedPart,
  type PresignedRequest,
  type ReceivedPart,
} from './port';

export type Verdict = 'ok' | 'expired' | 'bad-signature';
export type SignedMethod = 'PUT' | 'GET' | 'PART';

/** Why a signed PUT stored nothing. */
export type ReceiveResult = 'ok' | 'incomplete' | 'exists' | 'checksum' | 'no-upload';

interface ObjectMeta {
  contentType?: string;
  /** MD5 of the bytes (hex, quoted like S3's): what completion pins. */
  etag?: string;
}

/** The local store's signed-URL route prefix (served by the API, src/api/routes/storage.ts). */
export const LOCAL_STORAGE_PREFIX = '/storage/o/';

/**
 * Local disk behind HMAC-signed, expiring URLs. The signature binds method, key, expiry and,
 * for PUT, the exact size and content type: change any of them and the URL is refused.
 * Writes land in `.tmp/` and are linked into place only when complete, so a refused or
 * broken upload leaves nothing behind, and an object is written once: a second PUT of the
 * same key (a replayed signed URL) is refused. Multipart parts live in `.parts/<uploadId>/`
 * until completion assembles them.
 */
export class LocalObjectStorage implements ObjectStorage {
  readonly backend = 'local' as const;

  constructor(private readonly settings: { root: string; secret: Buffer; publicBaseUrl: string; now?: () => number }) {}

  private now(): number {
    return Math.floor((this.settings.now ?? Date.now)() / 1000);
  }

  private sign(parts: string[]): string {
    return createHmac('sha256', this.settings.secret).update(parts.join('\n')).digest('base64url');
  }

  private fileOf(key: string): string {
    return path.join(this.settings.root, validateKey(key));
  }

  private url(method: SignedMethod, key: string, expires: number, extra: Record<string, string>): string {
    const q = new URLSearchParams({ m: method, e: String(expires), ...extra });
    q.set('s', this.sign(signedFields(method, key, String(expires), extra)));
    return `${this.settings.publicBaseUrl}${LOCAL_STORAGE_PREFIX}${key}?${q.toString()}`;
  }

  async presignPut(key: string, options: { contentType: string; sizeBytes: number; expiresInSec: number }): Promise<PresignedRequest> {
    validateKey(key);
    const expires = this.now() + options.expiresInSec;
    return {
      method: 'PUT',
      url: this.url('PUT', key, expires, { l: String(options.sizeBytes), t: options.contentType }),
      headers: { 'content-type': options.contentType, 'content-length': String(options.sizeBytes) },
      expiresAt: new Date(expires * 1000).toISOString(),
    };
  }

  async presignGet(key: string, options: { expiresInSec: number }): Promise<PresignedRequest> {
    validateKey(key);
    const expires = this.now() + options.expiresInSec;
    return { method: 'GET', url: this.url('GET', key, expires, {}), headers: {}, expiresAt: new Date(expires * 1000).toISOString() };
  }

  /** Checks a signed request's query for this method and key. */
  verify(method: SignedMethod, key: string, q: Record<string, string | undefined>): Verdict {
    const expires = Number(q.e);
    const expected = Buffer.from(this.sign(signedFields(method, key, q.e ?? '', q)));
    const given = Buffer.from(q.s ?? '');
    if (q.m !== method || !Number.isInteger(expires) || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return 'bad-signature';
    }
    return expires < this.now() ? 'expired' : 'ok';
  }

  /**
   * Receives a signed PUT: streams into `.tmp/`, stops at the signed size, links into place
   * only if nothing is there yet. Keeps nothing unless the result is 'ok'.
   */
  async receive(key: string, body: Readable, signedSize: number, contentType: string): Promise<ReceiveResult> {
    const target = this.fileOf(key);
    if (await exists(target)) return 'exists';
    const staged = await this.stage(body, signedSize);
    if (!staged) return 'incomplete';
    try {
      return await this.publishOnce(staged.file, target, { contentType, etag: staged.etag });
    } finally {
      await rm(staged.file, { force: true });
    }
  }

  /** Streams a body into `.tmp/` (at most `size` bytes); its MD5 (quoted hex) when it was exactly `size`. */
  private async stage(body: Readable, size: number, contentMd5?: string): Promise<{ file: string; etag: string } | undefined> {
    const tmpDir = path.join(this.settings.root, '.tmp');
    await mkdir(tmpDir, { recursive: true });
    const file = path.join(tmpDir, randomBytes(8).toString('hex'));
    const md5 = createHash('md5');
    let seen = 0;
    const cap = new Transform({
      transform(chunk: Buffer, _e, done) {
        seen += chunk.length;
        if (seen > size) return done(new Error('over the signed size'));
        md5.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, cap, createWriteStream(file));
      const digest = md5.digest();
      // Content-MD5 (base64, RFC 1864), as S3 takes it: bytes damaged on the way are refused.
      if (seen === size && (!contentMd5 || contentMd5 === digest.toString('base64'))) return { file, etag: `"${digest.toString('hex')}"` };
    } catch {
      // a broken or oversized body: nothing kept
    }
    await rm(file, { force: true });
    return undefined;
  }

  /** Links a staged file into place unless the key exists: an object is written once. */
  private async publishOnce(file: string, target: string, meta: ObjectMeta): Promise<'ok' | 'exists'> {
    await mkdir(path.dirname(target), { recursive: true });
    const metaTmp = `${file}.meta`;
    try {
      await writeFile(metaTmp, JSON.stringify(meta));
      // link() fails with EEXIST where rename() would replace: the meta file is the claim.
      try {
        await link(metaTmp, `${target}.meta.json`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
        throw err;
      }
      try {
        await link(file, target);
      } catch (err) {
        await rm(`${target}.meta.json`, { force: true });
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
        throw err;
      }
      return 'ok';
    } finally {
      await rm(metaTmp, { force: true });
    }
  }

  private partsDir(uploadId: string): string {
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(uploadId)) throw new Error('not a multipart upload id of this store');
    return path.join(this.settings.root, '.parts', uploadId);
  }

  async createMultipart(key: string, options: { contentType: string }): Promise<string> {
    validateKey(key);
    const uploadId = randomBytes(18).toString('base64url');
    await mkdir(this.partsDir(uploadId), { recursive: true });
    await writeFile(path.join(this.partsDir(uploadId), 'upload.json'), JSON.stringify({ key, contentType: options.contentType }));
    return uploadId;
  }

  async presignParts(
    key: string,
    uploadId: string,
    options: { sizeBytes: number; partSize: number; expiresInSec: number },
  ): Promise<PresignedPart[]> {
    validateKey(key);
    const expires = this.now() + options.expiresInSec;
    return partPlan(options.sizeBytes, options.partSize).sizes.map((sizeBytes, i) => ({
      partNumber: i + 1,
      sizeBytes,
      url: this.url('PART', key, expires, { l: String(sizeBytes), u: uploadId, n: String(i + 1) }),
    }));
  }

  /**
   * Receives one signed part. A part may be sent again (a retry after a dropped connection
   * replaces it); completion decides which bytes count, by the ETags the client names.
   */
  async receivePart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Readable,
    size: number,
    contentMd5?: string,
  ): Promise<ReceiveResult | { etag: string }> {
    const dir = this.partsDir(uploadId);
    const upload = await this.multipartOf(uploadId);
    if (upload?.key !== key) return 'no-upload';
    const staged = await this.stage(body, size, contentMd5);
    if (!staged) return contentMd5 ? 'checksum' : 'incomplete';
    try {
      await rename(staged.file, path.join(dir, `${partNumber}.part`));
      await writeFile(path.join(dir, `${partNumber}.etag`), staged.etag);
      return { etag: staged.etag };
    } finally {
      await rm(staged.file, { force: true });
    }
  }

  private async multipartOf(uploadId: string): Promise<{ key: string; contentType: string } | undefined> {
    return readFile(path.join(this.partsDir(uploadId), 'upload.json'), 'utf8')
      .then((t) => JSON.parse(t) as { key: string; contentType: string })
      .catch(() => undefined);
  }

  async listParts(key: string, uploadId: string): Promise<ReceivedPart[]> {
    const dir = this.partsDir(uploadId);
    if ((await this.multipartOf(uploadId))?.key !== key) return [];
    const out: ReceivedPart[] = [];
    for (const name of await readdir(dir).catch(() => [])) {
      const m = /^(\d+)\.part$/.exec(name);
      if (!m) continue;
      const partNumber = Number(m[1]);
      const [info, etag] = await Promise.all([
        stat(path.join(dir, name)).catch(() => undefined),
        readFile(path.join(dir, `${partNumber}.etag`), 'utf8').catch(() => undefined),
      ]);
      if (info && etag) out.push({ partNumber, etag, sizeBytes: info.size });
    }
    return out.sort((a, b) => a.partNumber - b.partNumber);
  }

  async completeMultipart(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void> {
    const upload = await this.multipartOf(uploadId);
    if (upload?.key !== key) throw new Error('no such multipart upload');
    const have = new Map((await this.listParts(key, uploadId)).map((p) => [p.partNumber, p]));
    const ordered = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    for (const p of ordered) {
      if (have.get(p.partNumber)?.etag !== p.etag) throw new Error(`part ${p.partNumber} is missing or its ETag differs`);
    }
    const dir = this.partsDir(uploadId);
    const tmpDir = path.join(this.settings.root, '.tmp');
    await mkdir(tmpDir, { recursive: true });
    const file = path.join(tmpDir, randomBytes(8).toString('hex'));
    const md5 = createHash('md5');
    try {
      const parts = ordered.map((p) => path.join(dir, `${p.partNumber}.part`));
      await pipeline(async function* () {
        for (const part of parts) {
          for await (const chunk of createReadStream(part)) {
            md5.update(chunk as Buffer);
            yield chunk as Buffer;
          }
        }
      }, createWriteStream(file));
      const published = await this.publishOnce(file, this.fileOf(key), {
        contentType: upload.contentType,
        etag: `"${md5.digest('hex')}-${ordered.length}"`,
      });
      if (published === 'exists') throw new Error(`object ${key} exists already`);
    } finally {
      await rm(file, { force: true });
    }
    await rm(dir, { recursive: true, force: true });
  }

  async abortMultipart(_key: string, uploadId: string): Promise<void> {
    await rm(this.partsDir(uploadId), { recursive: true, force: true });
  }

  /** Parses a URL this store signed: its key and query, or undefined if it is not ours. */
  parse(url: string): { key: string; query: Record<string, string> } | undefined {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return undefined;
    }
    const base = new URL(this.settings.publicBaseUrl);
    if (u.origin !== base.origin || !u.pathname.startsWith(LOCAL_STORAGE_PREFIX)) return undefined;
    return { key: decodeURIComponent(u.pathname.slice(LOCAL_STORAGE_PREFIX.length)), query: Object.fromEntries(u.searchParams) };
  }

  openRead(key: string): Readable {
    return createReadStream(this.fileOf(key));
  }

  async download(pinnedUrl: string, file: string, options: DownloadOptions): Promise<void> {
    const { url, etag: pinned } = splitPin(pinnedUrl);
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
    if (info.size > options.maxBytes)
      throw failure(ErrorType.SourceTooLarge, `object is ${info.size} bytes, over the ${options.maxBytes}-byte cap`);
    if (pinned && (await this.pin(parsed.key))?.etag !== pinned) {
      throw failure(ErrorType.SourceChanged, `object ${parsed.key} is not the one completed for this video (its ETag changed)`);
    }
    await copyFile(this.fileOf(parsed.key), file);
    options.onProgress?.(info.size, 100);
  }

  async putFile(key: string, file: string, contentType: string): Promise<{ location: string }> {
    const target = this.fileOf(key);
    await this.place(target, contentType, async (tmp) => {
      // A hard link when the file is on the store's disk (no copy; objects are never modified in
      // place, so sharing the inode is safe); a copy otherwise. The caller keeps its file.
      await link(file, tmp).catch(() => copyFile(file, tmp));
    });
    return { location: target };
  }

  async getFile(key: string, file: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    const source = this.fileOf(key);
    if (!(await exists(source))) return false;
    options.signal?.throwIfAborted();
    await rm(file, { force: true });
    // The caller's file is its own: a copy (a link would let a caller that writes in place change the object).
    return copyFile(source, file).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return false;
        throw err;
      },
    );
  }

  async putBytes(key: string, data: string | Uint8Array, contentType: string): Promise<void> {
    await this.place(this.fileOf(key), contentType, (tmp) => writeFile(tmp, data));
  }

  async getBytes(key: string): Promise<Buffer | undefined> {
    return readFile(this.fileOf(key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'EISDIR') return undefined;
      throw err;
    });
  }

  /** Written under a temp name beside `target`, then renamed: a reader sees the old object or the new one. */
  private async place(target: string, contentType: string, write: (tmp: string) => Promise<void>): Promise<void> {
    await mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await write(tmp);
      await writeFile(`${target}.meta.json`, JSON.stringify({ contentType } satisfies ObjectMeta));
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async readObject(key: string, range?: { start: number; end: number }): Promise<ObjectRead | undefined> {
    const info = await this.head(key);
    if (!info) return undefined;
    return { body: createReadStream(this.fileOf(key), range), size: info.size, contentType: info.contentType };
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const info = await stat(this.fileOf(key)).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    const meta = await this.meta(key);
    return { size: info.size, contentType: meta.contentType };
  }

  private meta(key: string): Promise<ObjectMeta> {
    return readFile(`${this.fileOf(key)}.meta.json`, 'utf8')
      .then((t) => JSON.parse(t) as ObjectMeta)
      .catch(() => ({}));
  }

  async pin(key: string): Promise<ObjectPin | undefined> {
    if (!(await exists(this.fileOf(key)))) return undefined;
    const etag = (await this.meta(key)).etag;
    return etag ? { etag } : undefined;
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
    await walk(this.settings.root, '');
    return out.filter((k) => !k.startsWith('.tmp/') && !k.startsWith('.parts/')).sort();
  }

  /** Files in the upload staging area (the contract suite asserts a refused PUT leaves none). */
  async staged(): Promise<string[]> {
    return readdir(path.join(this.settings.root, '.tmp')).catch(() => []);
  }

  /**
   * Removes staging files no write has touched for `olderThanMs` (an API that crashed mid-upload
   * leaves its temp file; a live upload keeps writing, so its mtime stays fresh). Returns their names.
   */
  async sweepStaged(olderThanMs: number, now = Date.now()): Promise<string[]> {
    const dir = path.join(this.settings.root, '.tmp');
    const removed: string[] = [];
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const info = await stat(path.join(dir, name)).catch(() => undefined);
      if (info && now - info.mtimeMs > olderThanMs) {
        await rm(path.join(dir, name), { force: true, recursive: true });
        removed.push(name);
      }
    }
    return removed;
  }

  async delete(key: string): Promise<void> {
    await rm(this.fileOf(key), { force: true });
    await rm(`${this.fileOf(key)}.meta.json`, { force: true });
    // Like S3, a "folder" exists only while it holds objects: empty ones go (a deleted video's
    // id stays in no directory name). The top level (uploads/, media/…) stays.
    const segments = validateKey(key).split('/');
    for (let depth = segments.length - 1; depth >= 2; depth--) {
      const done = await rmdir(path.join(this.settings.root, ...segments.slice(0, depth))).then(
        () => false,
        () => true,
      );
      if (done) break;
    }
  }

  async close(): Promise<void> {}
}

/** What a signature covers: method, key, expiry; PUT also size and type; PART also size, upload id and part number. */
function signedFields(method: SignedMethod, key: string, expires: string, q: Record<string, string | undefined>): string[] {
  const base = [method, key, expires, q.l ?? '', q.t ?? ''];
  return method === 'PART' ? [...base, q.u ?? '', q.n ?? ''] : base;
}

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined)) !== undefined;
}
