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

export interface DownloadOptions {
  maxBytes: number;
  signal?: AbortSignal;
  onProgress?: (bytes: number, percent: number | null) => void;
}

export interface ObjectStorage {
  readonly backend: 'local' | 's3';
  presignPut(key: string, o: { contentType: string; sizeBytes: number; expiresInSec: number }): Promise<PresignedRequest>;
  presignGet(key: string, o: { expiresInSec: number }): Promise<PresignedRequest>;
  /**
   * Fetches an object through a URL this store signed (what activities do with the URL the
   * workflow carries). Expired or rejected → `SourceUrlExpired`; missing → `SourceNotFound`.
   */
  download(url: string, file: string, o: DownloadOptions): Promise<void>;
  /** Stores a local file (multipart on S3 above the part size: one S3 PUT stops at 5 GB). Returns where it lives. */
  putFile(key: string, file: string, contentType: string): Promise<{ location: string }>;
  head(key: string): Promise<ObjectInfo | undefined>;
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
  /**
   * Client uploads above one PUT's limit (S3: 5 GB) go in parts, each URL signed for its exact
   * size. Stores without that limit (local disk) leave these out and take one PUT.
   */
  presignMultipart?(
    key: string,
    o: { contentType: string; sizeBytes: number; partSize: number; expiresInSec: number },
  ): Promise<MultipartUpload>;
  completeMultipart?(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void>;
  abortMultipart?(key: string, uploadId: string): Promise<void>;
}

export interface MultipartUpload {
  uploadId: string;
  partSize: number;
  parts: { partNumber: number; url: string; sizeBytes: number }[];
  expiresAt: string;
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
