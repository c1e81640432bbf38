import { constants, createWriteStream } from 'node:fs';
import { open, readlink, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { DISK_FULL_RETRY_MS, ErrorType, failure } from '../errors';
import type { ObjectStorage } from '../adapters/storage/port';
import { redactUrl } from '../net/redact';
import { guardedFetch, SsrfBlockedError, SsrfPolicy } from '../net/ssrf-guard';
import type { UrlSealer } from '../security/sealed-url';
import type { VideoSource } from '../workflows/contracts';

export interface MaterializeOptions {
  workDir: string;
  maxBytes: number;
  signal?: AbortSignal;
  /** Called as bytes arrive, so a long download keeps heartbeating (percent is null without a content-length). */
  onProgress?: (bytes: number, percent: number | null) => void;
  /**
   * File sources: the directory they must stay inside. When given, the file is opened first and
   * the *open descriptor's* real path is checked (a symlink swapped in after the API accepted
   * the upload is caught), and the returned path reads that very descriptor. `onRelease`
   * receives the function that closes it; call it when the tools are done with the file.
   */
  ingestDir?: string;
  onRelease?: (release: () => Promise<void>) => void;
  /** Downloads: no byte for this long → SourceUnavailable (default 30 s). */
  idleTimeoutMs?: number;
  /** Downloads: fewer bytes per second than this over an idle-timeout window → SourceUnavailable (0 = off). */
  minBytesPerSec?: number;
  /** What URL sources may reach; without it, no private or loopback address at all. */
  ssrf?: SsrfPolicy;
  /** Where `kind: 'upload'` sources live. */
  storage?: Pick<ObjectStorage, 'download'>;
  /** Opens a sealed URL source (src/security/sealed-url.ts); a sealed source without it cannot be fetched. */
  sealer?: Pick<UrlSealer, 'open'>;
}

/**
 * Gives the media step a local file for any source kind. Files are read in place; URLs are
 * streamed to the attempt's work dir with a size cap, so a huge or endless response cannot
 * fill the disk.
 */
export async function materializeSource(source: VideoSource, opts: MaterializeOptions): Promise<string> {
  switch (source.kind) {
    case 'file':
      return opts.ingestDir ? openConfined(source.path, opts.ingestDir, opts) : checkFile(source.path, opts.maxBytes);
    case 'url':
      return download(source.sealed ? openSealed(source.sealed, opts) : source.url, opts);
    case 'upload': {
      // Our own object: fetched through the storage port with a URL the workflow had signed.
      const signed = source.sealed ? openSealed(source.sealed, opts) : source.url;
      if (!opts.storage || !signed) throw failure(ErrorType.SourceNotFound, `upload ${source.key} has no signed URL or storage`);
      const target = path.join(opts.workDir, 'source');
      await opts.storage
        .download(signed, target, { maxBytes: opts.maxBytes, signal: opts.signal, onProgress: opts.onProgress })
        .catch((err: unknown) => rethrowIfDiskFullOr(err, `copying upload ${source.key} to the work disk`));
      return target;
    }
  }
}

/** A full work disk is not the source's fault: typed DiskFull, retried after a pause long enough for space to come back. */
function rethrowIfDiskFull(err: unknown, during: string): void {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    throw failure(ErrorType.DiskFull, `the work disk filled up while ${during}; the attempt will be retried`, {
      nextRetryDelayMs: DISK_FULL_RETRY_MS,
    });
  }
}

/** For a promise's catch: a full disk typed as above, anything else rethrown as it was. */
function rethrowIfDiskFullOr(err: unknown, during: string): never {
  rethrowIfDiskFull(err, during);
  throw err;
}

function openSealed(sealed: string, opts: MaterializeOptions): string {
  if (!opts.sealer) throw failure(ErrorType.SourceNotFound, 'the source URL is sealed and this worker has no source-URL key');
  try {
    return opts.sealer.open(sealed);
  } catch (err) {
    // A key mismatch is configuration (BIBLIO_SOURCE_URL_KEY differs between API and worker): say so, never retry into it.
    throw failure(ErrorType.SourceNotFound, `the sealed source URL cannot be opened: ${(err as Error).message}`);
  }
}

async function checkFile(file: string, maxBytes: number): Promise<string> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw failure(ErrorType.SourceNotFound, `source file ${path.basename(file)} does not exist or is not a file`);
  if (info.size > maxBytes) {
    throw failure(ErrorType.SourceTooLarge, `source file is ${info.size} bytes, over the ${maxBytes}-byte cap`);
  }
  return file;
}

/** How a file source is named to people: relative to the ingest dir, never an absolute server path. */
export function displayPath(file: string, ingestDir: string): string {
  const rel = path.relative(ingestDir, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.basename(file);
}

async function openConfined(file: string, ingestDir: string, opts: MaterializeOptions): Promise<string> {
  const shown = displayPath(file, ingestDir);
  const root = await realpath(ingestDir).catch(() => path.resolve(ingestDir));
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'ELOOP') return undefined;
    throw failure(ErrorType.SourceNotFound, `source file ${shown} cannot be opened (${err.code ?? 'error'})`);
  });
  if (!handle) throw failure(ErrorType.SourceNotFound, `source file ${shown} no longer exists in the ingest directory`);
  try {
    // The kernel's name for what we actually opened, whatever symlinks led there.
    const real = await readlink(`/proc/self/fd/${handle.fd}`);
    if (real !== root && !real.startsWith(root + path.sep)) {
      throw failure(ErrorType.SourceOutsideIngestDir, `source file ${shown} now leads outside the ingest directory (a symlink?)`);
    }
    const info = await handle.stat();
    if (!info.isFile()) {
      const kind = info.isDirectory()
        ? 'a directory'
        : info.isFIFO()
          ? 'a FIFO'
          : info.isSocket()
            ? 'a socket'
            : 'a device or special file';
      throw failure(ErrorType.SourceNotRegularFile, `source ${shown} is ${kind}, not a regular file`);
    }
    if (info.size > opts.maxBytes) {
      throw failure(ErrorType.SourceTooLarge, `source file ${shown} is ${info.size} bytes, over the ${opts.maxBytes}-byte cap`);
    }
  } catch (err) {
    await handle.close();
    throw err;
  }
  if (opts.onRelease) opts.onRelease(() => handle.close());
  else void handle.close();
  // Tools reopen the descriptor through /proc (same inode, not the path again).
  return `/proc/${process.pid}/fd/${handle.fd}`;
}

async function download(url: string, opts: MaterializeOptions): Promise<string> {
  // Our own controller: the attempt's cancellation and the idle/min-rate guard both abort it.
  const ctrl = new AbortController();
  const onOuterAbort = () => ctrl.abort(opts.signal?.reason);
  if (opts.signal?.aborted) throw opts.signal.reason;
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  try {
    return await downloadWith(url, opts, ctrl);
  } finally {
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
}

async function downloadWith(url: string, opts: MaterializeOptions, ctrl: AbortController): Promise<string> {
  const idleMs = opts.idleTimeoutMs ?? 30_000;
  const minRate = opts.minBytesPerSec ?? 0;
  let guardFailure: Error | undefined;
  let seen = 0;
  let lastByteAt = Date.now();
  let windowStart = Date.now();
  let windowBytes = 0;
  // Bounds the whole download, headers included: a drip-feeding server cannot hold the media slot.
  const guard = setInterval(
    () => {
      const now = Date.now();
      if (now - lastByteAt >= idleMs) {
        guardFailure = failure(
          ErrorType.SourceUnavailable,
          `download of ${redactUrl(url)} stalled: no data for ${Math.round(idleMs / 1000)} s`,
        );
      } else if (minRate > 0 && now - windowStart >= idleMs) {
        const rate = windowBytes / ((now - windowStart) / 1000);
        if (rate < minRate) {
          guardFailure = failure(
            ErrorType.SourceUnavailable,
            `download of ${redactUrl(url)} is too slow: ${Math.round(rate)} bytes/s over ${Math.round(idleMs / 1000)} s, below the ${minRate} bytes/s minimum`,
          );
        }
        windowStart = now;
        windowBytes = 0;
      }
      if (guardFailure) ctrl.abort(guardFailure);
    },
    Math.max(50, Math.min(1000, Math.floor(idleMs / 4))),
  );
  try {
    return await fetchTo(url, opts, ctrl.signal, (n) => {
      seen += n;
      windowBytes += n;
      lastByteAt = Date.now();
      return seen;
    });
  } catch (err) {
    if (guardFailure) throw guardFailure;
    throw err;
  } finally {
    clearInterval(guard);
  }
}

async function fetchTo(url: string, opts: MaterializeOptions, signal: AbortSignal, onBytes: (n: number) => number): Promise<string> {
  let res: Response;
  try {
    // Guarded: the connected address of every hop is checked (SSRF); messages name no address or port.
    res = await guardedFetch(url, { signal, policy: opts.ssrf ?? new SsrfPolicy() });
  } catch (err) {
    if (signal.aborted) throw err;
    if (err instanceof SsrfBlockedError) throw failure(ErrorType.SourceForbidden, err.message);
    throw failure(ErrorType.SourceUnavailable, `could not reach ${redactUrl(url)}: ${(err as Error).message}`);
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
    throw failure(ErrorType.SourceNotFound, `${redactUrl(url)} answered ${res.status}`);
  }
  if (!res.ok || !res.body) {
    throw failure(ErrorType.SourceUnavailable, `${redactUrl(url)} answered ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > opts.maxBytes) {
    await res.body.cancel().catch(() => undefined); // free the connection now, not at GC
    throw failure(ErrorType.SourceTooLarge, `source is ${declared} bytes, over the ${opts.maxBytes}-byte cap`);
  }
  const target = path.join(opts.workDir, 'source');
  const cap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      const seen = onBytes(chunk.length);
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
    if (signal.aborted || (err as { type?: string }).type === ErrorType.SourceTooLarge) throw err;
    rethrowIfDiskFull(err, `downloading ${redactUrl(url)}`);
    throw failure(ErrorType.SourceUnavailable, `download of ${redactUrl(url)} broke off: ${(err as Error).message}`);
  }
  return target;
}
