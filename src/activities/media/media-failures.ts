/**
 * Failures of the media activities that are not the media's fault, typed so the workflow's
 * retry policy treats them right: a full disk (retryable, after a longer pause), and tool
 * messages scrubbed of server paths before anyone reads them.
 */
import path from 'node:path';
import { statfs } from 'node:fs/promises';
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
