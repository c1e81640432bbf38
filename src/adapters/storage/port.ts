import type { Readable } from 'node:stream';

/**
 * Object storage port: where uploads, renditions and thumbnails live. Two adapters pass one
 * contract suite (test/contract/storage.contract.ts): local disk behind HMAC-signed expiring
 * URLs served by the API (embedded default), and S3-compatible storage (S3, MinIO).
 *
 * Clients never get credentials: they get a presigned request bound to one key, one method,
 * an expiry and (for PUT) an exact size and content type.
 */
export interface PresignedRequest {
  method: 'PUT' | 'GET';
  url: string;
  /** Headers the client must send exactly (they are part of the signature). */
  headers: Record<string, string>;
  expiresAt: string;
}

export interface ObjectInfo {
  size: number;
  contentType: string | undefined;
}

/** An object's bytes as a stream: the whole object, or the inclusive byte range asked for. */
export interface ObjectRead {
  body: Readable;
  /** The whole object's size (not the range's). */
  size: number;
  contentType: string | undefined;
}

export interface DownloadOptions {
  maxBytes: number;
  signal?: AbortSignal;
  onProgress?: (bytes: number, percent: number | null) => void;
}

export interface ObjectStorage {
  readonly backend: 'local' | 's3';
  presignPut(key: string, options: { contentType: string; sizeBytes: number; expiresInSec: number }): Promise<PresignedRequest>;
  presignGet(key: string, options: { expiresInSec: number }): Promise<PresignedRequest>;
  /**
   * Fetches an object through a URL this store signed (what activities do with the URL the
   * workflow carries). Expired or rejected → `SourceUrlExpired`; missing → `SourceNotFound`.
   */
  download(url: string, file: string, options: DownloadOptions): Promise<void>;
  /**
   * Stores a local file (multipart on S3 above the part size: one S3 PUT stops at 5 GB); the file
   * stays where it is. Readers see the whole object or none (S3 publishes on completion; the local
   * store writes a temp name, then renames). Returns where it lives.
   */
  putFile(key: string, file: string, contentType: string): Promise<{ location: string }>;
  /**
   * The object at `key` written to `file` (streamed; created or replaced), or false when there is
   * no such object. The caller names `file` (a temp name it renames into place when whole).
   */
  getFile(key: string, file: string, options?: { signal?: AbortSignal }): Promise<boolean>;
  /** A small document (a plan, a sidecar, a playlist) stored whole. */
  putBytes(key: string, data: string | Uint8Array, contentType: string): Promise<void>;
  /** A small object's bytes, or undefined when there is none. */
  getBytes(key: string): Promise<Buffer | undefined>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /**
   * Streams an object, or the inclusive byte range `start`–`end` of it (what an HTTP Range
   * request of a player needs), or undefined when there is no such object. The caller consumes
   * or destroys `body`.
   */
  readObject(key: string, range?: { start: number; end: number }): Promise<ObjectRead | undefined>;
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
  /**
   * What an object is right now: its ETag (and version id where the store keeps versions).
   * Completing an upload pins this; `download` of a URL carrying the pin refuses anything else.
   */
  pin(key: string): Promise<ObjectPin | undefined>;
  /**
   * Multipart client uploads: resumable, each part signed for its exact size and
   * PUT on its own. S3 multipart on S3; the local store does the same behind its signed routes.
   */
  createMultipart(key: string, options: { contentType: string }): Promise<string>;
  /** Signed part URLs of an open multipart upload (again after a restart: the id is in the DB). */
  presignParts(
    key: string,
    uploadId: string,
    options: { sizeBytes: number; partSize: number; expiresInSec: number },
  ): Promise<PresignedPart[]>;
  /** Parts the store holds for an open multipart upload, with their ETags (MD5 of the part). */
  listParts(key: string, uploadId: string): Promise<ReceivedPart[]>;
  completeMultipart(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void>;
  abortMultipart(key: string, uploadId: string): Promise<void>;
}

export interface ObjectPin {
  etag: string;
  versionId?: string;
}

export interface PresignedPart {
  partNumber: number;
  url: string;
  sizeBytes: number;
}

export interface ReceivedPart {
  partNumber: number;
  etag: string;
  sizeBytes: number;
}

/** S3 takes parts of 5 MiB–5 GiB, at most 10 000 of them; the local store follows the same rule. */
export function partPlan(sizeBytes: number, partSize: number): { partSize: number; sizes: number[] } {
  const size = Math.max(partSize, 5 * 1024 * 1024, Math.ceil(sizeBytes / 10_000));
  const count = Math.max(1, Math.ceil(sizeBytes / size));
  return { partSize: size, sizes: Array.from({ length: count }, (_, i) => (i === count - 1 ? sizeBytes - size * (count - 1) : size)) };
}

/**
 * A signed GET bound to a pinned object: the pin rides in the URL's fragment (never sent to a
 * server, so the store's own signature is untouched) and the adapter's `download` checks it.
 */
export function withPin(url: string, etag: string | undefined): string {
  return etag ? `${url.split('#')[0]}#pin=${encodeURIComponent(etag)}` : url;
}

export function splitPin(url: string): { url: string; etag: string | undefined } {
  const at = url.indexOf('#');
  if (at < 0) return { url, etag: undefined };
  const pin = new URLSearchParams(url.slice(at + 1)).get('pin');
  return { url: url.slice(0, at), etag: pin ?? undefined };
}

export class InvalidKeyError extends Error {
  override readonly name = 'InvalidKeyError';
}

const KEY_PATTERN = /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;

/** Keys are relative, slash-separated, no `.`/`..` segments, no NUL, backslash or leading slash. */
export function validateKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 512 || !KEY_PATTERN.test(key)) {
    throw new InvalidKeyError('an object key is 1–512 characters of letters, digits, "._-" in "/"-separated segments');
  }
  if (key.split('/').some((seg) => seg === '.' || seg === '..')) {
    throw new InvalidKeyError('an object key may not contain "." or ".." segments');
  }
  return key;
}

export function isVideoContentType(ct: string): boolean {
  return /^video\/[A-Za-z0-9.+-]+$/.test(ct);
}
