import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ErrorType, failure } from '../errors';
import type { ObjectStorage } from '../adapters/storage/port';
import { guardedFetch, SsrfBlockedError, SsrfPolicy } from '../net/ssrf-guard';
import type { VideoSource } from '../workflows/contracts';

export interface MaterializeOptions {
  workDir: string;
  maxBytes: number;
  signal?: AbortSignal;
  /** Called as bytes arrive, so a long download keeps heartbeating (percent is null without a content-length). */
  onProgress?: (bytes: number, percent: number | null) => void;
  /** What URL sources may reach; without it, no private or loopback address at all. */
  ssrf?: SsrfPolicy;
  /** Where `kind: 'upload'` sources live. */
  storage?: Pick<ObjectStorage, 'download'>;
}

/**
 * Gives the media step a local file for any source kind. Files are read in place; URLs are
 * streamed to the attempt's work dir with a size cap, so a huge or endless response cannot
 * fill the disk.
 */
export async function materializeSource(source: VideoSource, opts: MaterializeOptions): Promise<string> {
  switch (source.kind) {
    case 'file':
      return checkFile(source.path, opts.maxBytes);
    case 'url':
      return download(source.url, opts);
    case 'upload': {
      // Our own object: fetched through the storage port with a URL the workflow had signed.
      if (!opts.storage || !source.url) throw failure(ErrorType.SourceNotFound, `upload ${source.key} has no signed URL or storage`);
      const target = path.join(opts.workDir, 'source');
      await opts.storage.download(source.url, target, { maxBytes: opts.maxBytes, signal: opts.signal, onProgress: opts.onProgress });
      return target;
    }
  }
}

async function checkFile(file: string, maxBytes: number): Promise<string> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw failure(ErrorType.SourceNotFound, `source file ${file} does not exist or is not a file`);
  if (info.size > maxBytes) {
    throw failure(ErrorType.SourceTooLarge, `source file is ${info.size} bytes, over the ${maxBytes}-byte cap`);
  }
  return file;
}

async function download(url: string, opts: MaterializeOptions): Promise<string> {
  let res: Response;
  try {
    // Guarded: the connected address of every hop is checked (SSRF); messages name no address or port.
    res = await guardedFetch(url, { signal: opts.signal, policy: opts.ssrf ?? new SsrfPolicy() });
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    if (err instanceof SsrfBlockedError) throw failure(ErrorType.SourceForbidden, err.message);
    throw failure(ErrorType.SourceUnavailable, `could not reach ${redact(url)}: ${(err as Error).message}`);
  }
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel().catch(() => undefined);
    // Host only: this message travels through history while the run waits for a new URL.
    throw failure(
      ErrorType.SourceUrlExpired,
      `the source host ${new URL(url).hostname} answered ${res.status}: the URL expired or was rejected`,
    );
  }
  if (res.status === 404 || res.status === 410) {
    throw failure(ErrorType.SourceNotFound, `${redact(url)} answered ${res.status}`);
  }
  if (!res.ok || !res.body) {
    throw failure(ErrorType.SourceUnavailable, `${redact(url)} answered ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > opts.maxBytes) {
    await res.body.cancel().catch(() => undefined); // free the connection now, not at GC
    throw failure(ErrorType.SourceTooLarge, `source is ${declared} bytes, over the ${opts.maxBytes}-byte cap`);
  }
  const target = path.join(opts.workDir, 'source');
  let seen = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      opts.onProgress?.(seen, declared > 0 ? Math.min(100, Math.floor((seen / declared) * 100)) : null);
      if (seen > opts.maxBytes) {
        done(failure(ErrorType.SourceTooLarge, `source exceeded the ${opts.maxBytes}-byte cap while downloading`));
        return;
      }
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream), cap, createWriteStream(target));
  } catch (err) {
    if (opts.signal?.aborted || (err as { type?: string }).type === ErrorType.SourceTooLarge) throw err;
    throw failure(ErrorType.SourceUnavailable, `download of ${redact(url)} broke off: ${(err as Error).message}`);
  }
  return target;
}

/** Presigned URLs carry credentials in the query string: never log or store them. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    return u.search ? `${u.origin}${u.pathname}?…` : `${u.origin}${u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}
