import { createWriteStream } from 'node:fs';
import { createReadStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ErrorType, failure } from '../../errors';
import { storageRetryDelayMs } from './typed-failures';
import {
  validateKey,
  type DownloadOptions,
  partPlan,
  splitPin,
  type ObjectInfo,
  type ObjectPin,
  type ObjectRead,
  type ObjectStorage,
  type PresignedPart,
  type PresignedRequest,
  type ReceivedPart,
} from './port';

export interface S3StorageOptions {
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
  /** Multipart part size for putFile (S3's minimum is 5 MiB). */
  partSize?: number;
}

/**
 * S3-compatible storage (AWS S3, MinIO). Presigned PUTs sign content-type and content-length,
 * so a larger body or another type is refused by the server itself. `putFile` uploads in
 * parts above the part size: a single PUT stops at 5 GB.
 */
export class S3ObjectStorage implements ObjectStorage {
  readonly backend = 's3' as const;
  private readonly s3: S3Client;

  constructor(private readonly settings: S3StorageOptions) {
    this.s3 = new S3Client({
      endpoint: settings.endpoint,
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      credentials:
        settings.accessKeyId && settings.secretAccessKey
          ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey }
          : undefined,
      // Temporal owns retries of the steps; the SDK's own retries stay small.
      maxAttempts: 2,
    });
  }

  /** Creates the bucket when missing (embedded MinIO, tests). */
  async ensureBucket(): Promise<void> {
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: this.settings.bucket }));
    } catch {
      await this.s3.send(new CreateBucketCommand({ Bucket: this.settings.bucket })).catch((err: { name?: string }) => {
        if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err;
      });
    }
  }

  async presignPut(key: string, options: { contentType: string; sizeBytes: number; expiresInSec: number }): Promise<PresignedRequest> {
    validateKey(key);
    // If-None-Match: * is signed: a replayed PUT cannot replace the object (S3 answers 412).
    const cmd = new PutObjectCommand({
      Bucket: this.settings.bucket,
      Key: key,
      ContentType: options.contentType,
      ContentLength: options.sizeBytes,
      IfNoneMatch: '*',
    });
    const url = await getSignedUrl(this.s3, cmd, {
      expiresIn: options.expiresInSec,
      signableHeaders: new Set(['content-type', 'content-length', 'if-none-match']),
    });
    return {
      method: 'PUT',
      url,
      headers: { 'content-type': options.contentType, 'content-length': String(options.sizeBytes), 'if-none-match': '*' },
      expiresAt: new Date(Date.now() + options.expiresInSec * 1000).toISOString(),
    };
  }

  async createMultipart(key: string, options: { contentType: string }): Promise<string> {
    validateKey(key);
    const created = await this.s3.send(
      new CreateMultipartUploadCommand({ Bucket: this.settings.bucket, Key: key, ContentType: options.contentType }),
    );
    return created.UploadId as string;
  }

  async presignParts(
    key: string,
    uploadId: string,
    options: { sizeBytes: number; partSize: number; expiresInSec: number },
  ): Promise<PresignedPart[]> {
    validateKey(key);
    const plan = partPlan(options.sizeBytes, options.partSize);
    return Promise.all(
      plan.sizes.map(async (sizeBytes, i) => {
        const cmd = new UploadPartCommand({
          Bucket: this.settings.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: i + 1,
          ContentLength: sizeBytes,
        });
        // content-length signed: a part of another size is refused by S3 itself.
        const url = await getSignedUrl(this.s3, cmd, { expiresIn: options.expiresInSec, signableHeaders: new Set(['content-length']) });
        return { partNumber: i + 1, url, sizeBytes };
      }),
    );
  }

  async listParts(key: string, uploadId: string): Promise<ReceivedPart[]> {
    const out: ReceivedPart[] = [];
    let marker: string | undefined;
    do {
      const page = await this.s3.send(
        new ListPartsCommand({ Bucket: this.settings.bucket, Key: validateKey(key), UploadId: uploadId, PartNumberMarker: marker }),
      );
      for (const p of page.Parts ?? []) out.push({ partNumber: p.PartNumber ?? 0, etag: p.ETag ?? '', sizeBytes: p.Size ?? 0 });
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker);
    return out.sort((a, b) => a.partNumber - b.partNumber);
  }

  async completeMultipart(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void> {
    await this.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.settings.bucket,
        Key: validateKey(key),
        UploadId: uploadId,
        MultipartUpload: {
          Parts: [...parts].sort((a, b) => a.partNumber - b.partNumber).map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })),
        },
      }),
    );
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.settings.bucket, Key: validateKey(key), UploadId: uploadId }));
  }

  async presignGet(key: string, options: { expiresInSec: number }): Promise<PresignedRequest> {
    validateKey(key);
    const url = await getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }), {
      expiresIn: options.expiresInSec,
    });
    return { method: 'GET', url, headers: {}, expiresAt: new Date(Date.now() + options.expiresInSec * 1000).toISOString() };
  }

  async download(pinnedUrl: string, file: string, options: DownloadOptions): Promise<void> {
    const { url, etag: pinned } = splitPin(pinnedUrl);
    // Only URLs of our own endpoint: this path skips the SSRF guard because the host is ours.
    if (this.settings.endpoint && new URL(url).origin !== new URL(this.settings.endpoint).origin) {
      throw failure(ErrorType.SourceUrlExpired, 'the source URL was not signed by this store');
    }
    let res: Response;
    try {
      // If-Match is not part of the signature: S3 answers 412 when the object is not the pinned one.
      res = await fetch(url, { signal: options.signal, redirect: 'error', headers: pinned ? { 'if-match': pinned } : {} });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      // Our own store, not the source's host: retried after a pause long enough for a restart.
      throw failure(ErrorType.StorageUnavailable, 'the object store could not be reached', { nextRetryDelayMs: storageRetryDelayMs() });
    }
    if (res.status === 403 || res.status === 401 || res.status === 400) {
      await res.body?.cancel().catch(() => undefined);
      throw failure(ErrorType.SourceUrlExpired, `the object store refused the signed URL (${res.status}): expired or rejected`);
    }
    if (res.status === 404) throw failure(ErrorType.SourceNotFound, 'the uploaded object does not exist');
    if (res.status === 412 || (pinned && res.ok && res.headers.get('etag') !== pinned)) {
      await res.body?.cancel().catch(() => undefined);
      throw failure(ErrorType.SourceChanged, 'the uploaded object is not the one completed for this video (its ETag changed)');
    }
    if (res.status >= 500)
      throw failure(ErrorType.StorageUnavailable, `the object store answered ${res.status}`, { nextRetryDelayMs: storageRetryDelayMs() });
    if (!res.ok || !res.body) throw failure(ErrorType.SourceUnavailable, `the object store answered ${res.status}`);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > options.maxBytes) {
      await res.body.cancel().catch(() => undefined);
      throw failure(ErrorType.SourceTooLarge, `object is ${declared} bytes, over the ${options.maxBytes}-byte cap`);
    }
    let seen = 0;
    const cap = new Transform({
      transform(chunk: Buffer, _e, done) {
        seen += chunk.length;
        options.onProgress?.(seen, declared > 0 ? Math.min(100, Math.floor((seen / declared) * 100)) : null);
        if (seen > options.maxBytes) return done(failure(ErrorType.SourceTooLarge, `object exceeded the ${options.maxBytes}-byte cap`));
        done(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(res.body as WebReadableStream), cap, createWriteStream(file));
  }

  async putFile(key: string, file: string, contentType: string): Promise<{ location: string }> {
    validateKey(key);
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.settings.bucket, Key: key, Body: createReadStream(file), ContentType: contentType },
      partSize: this.settings.partSize ?? 8 * 1024 * 1024,
      queueSize: 2,
      leavePartsOnError: false,
    });
    await upload.done();
    return { location: `s3://${this.settings.bucket}/${key}` };
  }

  async getFile(key: string, file: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    validateKey(key);
    let body: Readable;
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }), { abortSignal: options.signal });
      if (!res.Body) return false;
      body = res.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
    await pipeline(body, createWriteStream(file), { signal: options.signal });
    return true;
  }

  async putBytes(key: string, data: string | Uint8Array, contentType: string): Promise<void> {
    validateKey(key);
    await this.s3.send(new PutObjectCommand({ Bucket: this.settings.bucket, Key: key, Body: data, ContentType: contentType }));
  }

  async getBytes(key: string): Promise<Buffer | undefined> {
    validateKey(key);
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      return res.Body ? Buffer.from(await res.Body.transformToByteArray()) : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async readObject(key: string, range?: { start: number; end: number }): Promise<ObjectRead | undefined> {
    validateKey(key);
    try {
      const res = await this.s3.send(
        new GetObjectCommand({ Bucket: this.settings.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
      );
      if (!res.Body) return undefined;
      // A ranged answer names the whole size after the slash: `bytes 0-99/1234`.
      const total = /\/(\d+)$/.exec(res.ContentRange ?? '')?.[1];
      return { body: res.Body as Readable, size: total ? Number(total) : (res.ContentLength ?? 0), contentType: res.ContentType };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    validateKey(key);
    try {
      const h = await this.s3.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      return { size: h.ContentLength ?? 0, contentType: h.ContentType };
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) return undefined;
      throw err;
    }
  }

  /** ETag of an object (a multipart upload's ends in `-<parts>`). */
  async etag(key: string): Promise<string | undefined> {
    return (await this.pin(key))?.etag;
  }

  async pin(key: string): Promise<ObjectPin | undefined> {
    validateKey(key);
    try {
      const h = await this.s3.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      return h.ETag ? { etag: h.ETag, ...(h.VersionId && h.VersionId !== 'null' ? { versionId: h.VersionId } : {}) } : undefined;
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const c of page.Contents ?? []) if (c.Key) out.push(c.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: validateKey(key) }));
  }

  async close(): Promise<void> {
    this.s3.destroy();
  }
}

/** NoSuchKey / NotFound / a bare 404: the object is not there. */
function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}
