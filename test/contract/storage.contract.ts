import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { InvalidKeyError, withPin, type ObjectStorage, type PresignedPart } from '../../src/adapters/storage/port';

export interface StorageUnderTest {
  storage: ObjectStorage;
  /** Things only this adapter can tell: staged temp files left behind (local), multipart parts (S3). */
  leftovers?: () => Promise<string[]>;
  partsOf?: (key: string) => Promise<number>;
  close(): Promise<void>;
}

/**
 * The storage port's contract: every adapter passes the same cases against a real back end
 * (disk behind the API's signed routes; a real MinIO for S3). Refusals are 4xx from the
 * server that holds the bytes, and leave nothing behind.
 */
export function describeStorageContract(name: string, setup: () => Promise<StorageUnderTest | undefined>): void {
  describe(`${name} storage contract`, () => {
    let sut: StorageUnderTest | undefined;
    let dir: string;
    const key = (what: string) => `uploads/contract-${randomBytes(4).toString('hex')}/${what}`;

    beforeAll(async () => {
      sut = await setup();
      dir = await mkdtemp(path.join(os.tmpdir(), 'biblio-storage-contract-'));
    });
    afterAll(async () => {
      await sut?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    // Skipped (loudly, by setup) when the back end cannot be had.
    const it_ = (title: string, fn: (s: StorageUnderTest) => Promise<void>, timeout?: number) =>
      it(title, async () => (sut ? fn(sut) : console.warn(`SKIPPED (no ${name} back end): ${title}`)), timeout);

    async function expectNothingAt(s: StorageUnderTest, k: string) {
      expect(await s.storage.head(k)).toBeUndefined();
      expect(await s.storage.list(k.split('/').slice(0, 2).join('/'))).toEqual([]);
      if (s.leftovers) expect(await s.leftovers()).toEqual([]);
    }

    it_('round-trips a presigned PUT and GET byte for byte, with size and content type', async (s) => {
      const k = key('clip.mp4');
      const body = randomBytes(64 * 1024);
      const put = await s.storage.presignPut(k, { contentType: 'video/mp4', sizeBytes: body.length, expiresInSec: 60 });
      const res = await fetch(put.url, { method: 'PUT', headers: put.headers, body });
      expect(res.status).toBe(200);
      expect(await s.storage.head(k)).toEqual({ size: body.length, contentType: 'video/mp4' });
      const get = await s.storage.presignGet(k, { expiresInSec: 60 });
      const back = Buffer.from(await (await fetch(get.url)).arrayBuffer());
      expect(back.equals(body)).toBe(true);
      expect(await s.storage.list(k.split('/').slice(0, 2).join('/'))).toEqual([k]);
    });

    it_('refuses a PUT with a tampered signature and keeps nothing', async (s) => {
      const k = key('clip.mp4');
      const put = await s.storage.presignPut(k, { contentType: 'video/mp4', sizeBytes: 10, expiresInSec: 60 });
      const u = new URL(put.url);
      const sigParam = u.searchParams.has('X-Amz-Signature') ? 'X-Amz-Signature' : 's';
      const sig = u.searchParams.get(sigParam) ?? '';
      u.searchParams.set(sigParam, (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1));
      const res = await fetch(u, { method: 'PUT', headers: put.headers, body: Buffer.alloc(10) });
      expect(res.status).toBe(403);
      await expectNothingAt(s, k);
    });

    it_('refuses an expired PUT and keeps nothing', async (s) => {
      const k = key('clip.mp4');
      const put = await s.storage.presignPut(k, { contentType: 'video/mp4', sizeBytes: 10, expiresInSec: 1 });
      await new Promise((r) => setTimeout(r, 2_500));
      const res = await fetch(put.url, { method: 'PUT', headers: put.headers, body: Buffer.alloc(10) });
      expect(res.status).toBe(403);
      await expectNothingAt(s, k);
    });

    it_('refuses a body larger than the signed size and keeps nothing', async (s) => {
      const k = key('clip.mp4');
      const put = await s.storage.presignPut(k, { contentType: 'video/mp4', sizeBytes: 1000, expiresInSec: 60 });
      const res = await fetch(put.url, { method: 'PUT', headers: { 'content-type': 'video/mp4' }, body: Buffer.alloc(5000) });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      await expectNothingAt(s, k);
    });

    it_('refuses another content type than the signed one and keeps nothing', async (s) => {
      const k = key('clip.mp4');
      const put = await s.storage.presignPut(k, { contentType: 'video/mp4', sizeBytes: 10, expiresInSec: 60 });
      const res = await fetch(put.url, { method: 'PUT', headers: { ...put.headers, 'content-type': 'text/html' }, body: Buffer.alloc(10) });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      await expectNothingAt(s, k);
    });

    it_('refuses keys with "..", absolute paths, backslashes and NUL', async (s) => {
      for (const bad of ['../etc/passwd', 'uploads/../../x', '/etc/passwd', 'uploads\\x', 'uploads/a\u0000b', '', 'uploads//x']) {
        await expect(s.storage.presignPut(bad, { contentType: 'video/mp4', sizeBytes: 1, expiresInSec: 60 })).rejects.toBeInstanceOf(
          InvalidKeyError,
        );
        await expect(s.storage.presignGet(bad, { expiresInSec: 60 })).rejects.toBeInstanceOf(InvalidKeyError);
      }
    });

    it_('downloads through a signed GET; an expired one fails SourceUrlExpired', async (s) => {
      const file = path.join(dir, 'src.bin');
      const body = randomBytes(10_000);
      await writeFile(file, body);
      const k = key('source.mp4');
      await s.storage.putFile(k, file, 'video/mp4');
      const fresh = await s.storage.presignGet(k, { expiresInSec: 60 });
      const target = path.join(dir, 'got.bin');
      await s.storage.download(fresh.url, target, { maxBytes: 1_000_000 });
      expect((await readFile(target)).equals(body)).toBe(true);

      const short = await s.storage.presignGet(k, { expiresInSec: 1 });
      await new Promise((r) => setTimeout(r, 2_500));
      const err = await s.storage.download(short.url, path.join(dir, 'late.bin'), { maxBytes: 1_000_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect((err as ApplicationFailure).type).toBe('SourceUrlExpired');
    });

    it_('refuses a second PUT of the same key: a replayed signed URL cannot replace the object', async (s) => {
      const k = key('once.mp4');
      const first = randomBytes(1000);
      const put = await s.storage.presignPut(k, { contentType: 'video/mp4', sizeBytes: first.length, expiresInSec: 60 });
      expect((await fetch(put.url, { method: 'PUT', headers: put.headers, body: first })).status).toBe(200);
      const pin = await s.storage.pin(k);
      expect(pin?.etag).toMatch(/^"[0-9a-f]{32}"$/);
      const again = await fetch(put.url, { method: 'PUT', headers: put.headers, body: randomBytes(1000) });
      expect([409, 412]).toContain(again.status);
      expect(await s.storage.pin(k)).toEqual(pin);
      const get = await s.storage.presignGet(k, { expiresInSec: 60 });
      expect(Buffer.from(await (await fetch(get.url)).arrayBuffer()).equals(first)).toBe(true);
      if (s.leftovers) expect(await s.leftovers()).toEqual([]);
    });

    it_('downloads a pinned URL only while the object is the pinned one (else SourceChanged)', async (s) => {
      const file = path.join(dir, 'pinned.bin');
      await writeFile(file, randomBytes(2000));
      const k = key('pinned.mp4');
      const put = await s.storage.presignPut(k, { contentType: 'video/mp4', sizeBytes: 2000, expiresInSec: 60 });
      expect((await fetch(put.url, { method: 'PUT', headers: put.headers, body: await readFile(file) })).status).toBe(200);
      const pin = (await s.storage.pin(k))?.etag;
      const url = withPin((await s.storage.presignGet(k, { expiresInSec: 60 })).url, pin);
      await s.storage.download(url, path.join(dir, 'ok.bin'), { maxBytes: 1_000_000 });
      // The object is replaced behind the pin's back (with the store's own credentials).
      await writeFile(file, randomBytes(2000));
      await s.storage.putFile(k, file, 'video/mp4');
      const err = await s.storage.download(url, path.join(dir, 'changed.bin'), { maxBytes: 1_000_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect((err as ApplicationFailure).type).toBe('SourceChanged');
      expect((err as ApplicationFailure).nonRetryable).toBe(true);
    });

    it_(
      'takes a client upload in parts, each signed for its exact size, resumable from the parts the store lists',
      async (s) => {
        const st = s.storage;
        const k = key('big.mp4');
        const body = randomBytes(11 * 1024 * 1024);
        const uploadId = await st.createMultipart(k, { contentType: 'video/mp4' });
        const parts = await st.presignParts(k, uploadId, { sizeBytes: body.length, partSize: 5 * 1024 * 1024, expiresInSec: 60 });
        expect(parts.map((p) => p.sizeBytes)).toEqual([5 * 1024 * 1024, 5 * 1024 * 1024, 1024 * 1024]);
        // A part bigger than signed is refused by the store.
        const first = parts[0] as { url: string };
        expect((await fetch(first.url, { method: 'PUT', body: randomBytes(6 * 1024 * 1024) })).status).toBeGreaterThanOrEqual(400);
        const slice = (p: { partNumber: number; sizeBytes: number }) =>
          body.subarray((p.partNumber - 1) * 5 * 1024 * 1024, (p.partNumber - 1) * 5 * 1024 * 1024 + p.sizeBytes);
        const md5 = (b: Buffer) => createHash('md5').update(b).digest();
        // A part damaged on the way (Content-MD5 of other bytes) is refused.
        const damaged = await fetch(first.url, {
          method: 'PUT',
          headers: { 'content-md5': md5(Buffer.alloc(5)).toString('base64') },
          body: slice(parts[0] as PresignedPart),
        });
        expect(damaged.status).toBe(400);
        // Two parts arrive, then the client "restarts": the store lists what it holds.
        for (const p of parts.slice(0, 2)) {
          const res = await fetch(p.url, { method: 'PUT', headers: { 'content-md5': md5(slice(p)).toString('base64') }, body: slice(p) });
          expect(res.status).toBe(200);
          expect(res.headers.get('etag')).toBe(`"${md5(slice(p)).toString('hex')}"`);
        }
        const held = await st.listParts(k, uploadId);
        expect(held.map((p) => [p.partNumber, p.sizeBytes, p.etag])).toEqual(
          parts.slice(0, 2).map((p) => [p.partNumber, p.sizeBytes, `"${md5(slice(p)).toString('hex')}"`]),
        );
        const fresh = await st.presignParts(k, uploadId, { sizeBytes: body.length, partSize: 5 * 1024 * 1024, expiresInSec: 60 });
        const last = fresh[2] as PresignedPart;
        expect((await fetch(last.url, { method: 'PUT', body: slice(last) })).status).toBe(200);
        expect(await st.head(k)).toBeUndefined(); // nothing visible before completion
        await st.completeMultipart(
          k,
          uploadId,
          (await st.listParts(k, uploadId)).map((p) => ({ partNumber: p.partNumber, etag: p.etag })),
        );
        expect(await st.head(k)).toEqual({ size: body.length, contentType: 'video/mp4' });
        const get = await st.presignGet(k, { expiresInSec: 60 });
        expect(Buffer.from(await (await fetch(get.url)).arrayBuffer()).equals(body)).toBe(true);
        if (s.partsOf) expect(await s.partsOf(k)).toBe(3);
        if (s.leftovers) expect(await s.leftovers()).toEqual([]);
      },
      60_000,
    );

    it_('aborts a multipart upload: its parts are gone and nothing is published', async (s) => {
      const k = key('abandoned.mp4');
      const uploadId = await s.storage.createMultipart(k, { contentType: 'video/mp4' });
      const [p] = await s.storage.presignParts(k, uploadId, { sizeBytes: 6 * 1024 * 1024, partSize: 5 * 1024 * 1024, expiresInSec: 60 });
      expect((await fetch((p as PresignedPart).url, { method: 'PUT', body: randomBytes(5 * 1024 * 1024) })).status).toBe(200);
      await s.storage.abortMultipart(k, uploadId);
      await expect(s.storage.listParts(k, uploadId).catch(() => [])).resolves.toEqual([]);
      await expectNothingAt(s, k);
    });

    it_(
      'stores a large file (multipart where the back end has parts) and deletes it',
      async (s) => {
        const file = path.join(dir, 'big.bin');
        const body = randomBytes(11 * 1024 * 1024);
        await writeFile(file, body);
        const k = `media/contract-${randomBytes(4).toString('hex')}/rendition.mp4`;
        await s.storage.putFile(k, file, 'video/mp4');
        expect(await s.storage.head(k)).toEqual({ size: body.length, contentType: 'video/mp4' });
        if (s.partsOf) expect(await s.partsOf(k)).toBeGreaterThan(1);
        await s.storage.delete(k);
        expect(await s.storage.head(k)).toBeUndefined();
      },
      60_000,
    );

    it_('keeps the file it stores, and reads objects back whole (getFile, getBytes); a missing one is false/undefined', async (s) => {
      const file = path.join(dir, 'artifact.bin');
      const body = randomBytes(300 * 1024);
      await writeFile(file, body);
      const base = `work/contract-${randomBytes(4).toString('hex')}`;
      await s.storage.putFile(`${base}/seg-0.mp4`, file, 'video/mp4');
      // The data plane publishes a worker's file and keeps it as the worker's cache.
      expect((await readFile(file)).equals(body)).toBe(true);
      const back = path.join(dir, 'back.bin');
      expect(await s.storage.getFile(`${base}/seg-0.mp4`, back)).toBe(true);
      expect((await readFile(back)).equals(body)).toBe(true);
      expect(await s.storage.getFile(`${base}/missing.mp4`, path.join(dir, 'none.bin'))).toBe(false);

      await s.storage.putBytes(`${base}/plan.json`, '{"a":1}', 'application/json');
      expect((await s.storage.getBytes(`${base}/plan.json`))?.toString('utf8')).toBe('{"a":1}');
      expect(await s.storage.head(`${base}/plan.json`)).toEqual({ size: 7, contentType: 'application/json' });
      await s.storage.putBytes(`${base}/plan.json`, '{"a":2}', 'application/json');
      expect((await s.storage.getBytes(`${base}/plan.json`))?.toString('utf8')).toBe('{"a":2}');
      expect(await s.storage.getBytes(`${base}/nothing.json`)).toBeUndefined();
      expect(await s.storage.list(`${base}/`)).toEqual([`${base}/plan.json`, `${base}/seg-0.mp4`]);
      for (const k of await s.storage.list(`${base}/`)) await s.storage.delete(k);
      expect(await s.storage.list(`${base}/`)).toEqual([]);
      if (s.leftovers) expect(await s.leftovers()).toEqual([]);
    });

    it_('streams an object whole or by byte range with its total size and type (readObject); a missing one is undefined', async (s) => {
      const file = path.join(dir, 'ranged.bin');
      const body = randomBytes(200 * 1024);
      await writeFile(file, body);
      const k = `media/contract-${randomBytes(4).toString('hex')}/rendition.mp4`;
      await s.storage.putFile(k, file, 'video/mp4');
      const drain = async (r: { body: AsyncIterable<unknown> }) => {
        const chunks: Buffer[] = [];
        for await (const c of r.body) chunks.push(c as Buffer);
        return Buffer.concat(chunks);
      };
      const whole = await s.storage.readObject(k);
      expect([whole?.size, whole?.contentType]).toEqual([body.length, 'video/mp4']);
      expect((await drain(whole!)).equals(body)).toBe(true);
      // A player's seek: bytes 1000–5999 of the object, and the last byte alone.
      const part = await s.storage.readObject(k, { start: 1000, end: 5999 });
      expect(part?.size).toBe(body.length);
      expect((await drain(part!)).equals(body.subarray(1000, 6000))).toBe(true);
      const last = await s.storage.readObject(k, { start: body.length - 1, end: body.length - 1 });
      expect((await drain(last!)).equals(body.subarray(body.length - 1))).toBe(true);
      expect(await s.storage.readObject(`${k}.missing`)).toBeUndefined();
      await s.storage.delete(k);
    });
  });
}
