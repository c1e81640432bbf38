/**
 * Failures of the media activities that are not the media's fault, typed so the workflow's
 * retry policy treats them right: a full disk (retryable, after a longer pause), and tool
 * messages scrubbed of server paths before anyone reads them.
 */
import path from 'node:path';
import { stat, statfs } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import type { ApplicationFailure } from '@temporalio/common';
import { DISK_FULL_RETRY_MS, ErrorType, failure } from '../../errors';

/** Below this much free space after a failed write, the failure is the disk's, not the media's. */
export const DISK_FULL_BYTES = 1024 * 1024;

/**
 * The pause before the next attempt after a full disk, doubled each attempt (30 s, then 60 s), so
 * a disk full for a minute and a half does not dead-letter a valid upload within the media step's
 * three attempts.
 */
export function diskFullRetryDelayMs(): number {
  let attempt = 1;
  try {
    attempt = Context.current().info.attempt;
  } catch {
    // Outside an activity (a unit test): the first pause.
  }
  return DISK_FULL_RETRY_MS * 2 ** Math.max(0, attempt - 1);
}

export function rethrowDiskFull(err: unknown, during: string): never {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    throw failure(ErrorType.DiskFull, `the disk filled up while ${during}; what this attempt wrote was removed and it will be retried`, {
      nextRetryDelayMs: diskFullRetryDelayMs(),
    });
  }
  throw err;
}

/** A tool failed (or wrote short): if the work disk is full, that is the reason, typed and retryable. */
export async function throwIfDiskFull(dir: string, during: string): Promise<void> {
  const fs = await statfs(dir).catch(() => undefined);
  if (fs && fs.bavail * fs.bsize < DISK_FULL_BYTES) {
    const err: ApplicationFailure = failure(
      ErrorType.DiskFull,
      `the work disk filled up while ${during}; what this attempt wrote was removed and it will be retried`,
      { details: { freeBytes: fs.bavail * fs.bsize }, nextRetryDelayMs: diskFullRetryDelayMs() },
    );
    throw err;
  }
}

/** Tool messages quote their input path: never show a server path to people. */
export function scrub(message: string, ...paths: string[]): string {
  let out = message;
  for (const p of paths) if (p) out = out.split(p).join('<source>');
  // Any other absolute path (starting a word) is cut to its file name; "1/2" is left alone.
  return out.replace(/(^|[\s'"(])(\/[^\s:'"]+)/g, (_m, lead: string, p: string) => `${lead}${path.basename(p)}`);
}

/**
 * ffprobe could not read `file`: InvalidMedia (never retried), unless the file is not there at
 * all. Then it was our own copy and vanished under this attempt (a concurrent attempt's clean-up:
 * the long soak dead-lettered two valid uploads as unreadable), which a retry fixes.
 */
export async function unreadableMedia(file: string, what: string, toolMessage: string): Promise<ApplicationFailure> {
  const gone = await stat(file).then(
    () => false,
    (err: NodeJS.ErrnoException) => err.code === 'ENOENT',
  );
  if (gone) return failure(ErrorType.TranscodeFailed, `${what} vanished from this worker's disk before it could be read; retrying`);
  return failure(ErrorType.InvalidMedia, `${what} is not readable media: ${scrub(toolMessage, file)}`);
}
