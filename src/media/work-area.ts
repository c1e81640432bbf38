import { copyFile, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Work areas and the two naming schemes every temporary name follows, so a sweep can tell
 * what is scratch and whose it is:
 *
 * - `<name>.attempt-<n>.pid-<pid>`: scratch of one activity attempt (a directory or an encoder's
 *   output file). The owner's pid is in the name so a sweep can tell a dead attempt's leftovers
 *   (worker SIGKILLed, machine rebooted) from a live attempt of another worker sharing the
 *   directory (`sweepStaleScratch`).
 * - `.<file>.tmp-<pid>-<n>`: a file being written beside its final name, renamed into place when
 *   whole (`writeFileAtomic`, `moveFileAtomic`, `copyFileAtomic`): a reader sees the old file or
 *   the new one, never half of one. Hidden, so a listing of the directory never shows it.
 */
export function scratchName(name: string, attempt: number, pid = process.pid): string {
  return `${name}.attempt-${attempt}.pid-${pid}`;
}

const SCRATCH_NAME = /^(.+)\.attempt-(\d+)(?:\.pid-(\d+))?$/;

let tempCounter = 0;

/** The temporary name `file` is written under; unique in this process (two writers of one file do not share it). */
function tempNameFor(file: string): string {
  tempCounter += 1;
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${tempCounter}`);
}

/** Temp + rename: `file` holds the old content or `data`, never part of it. The temp file never outlives a failure. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await placeVia(file, (tmp) => writeFile(tmp, data));
}

/** A copy of `from` at `to`, complete or absent (copied under a temp name, then renamed). */
export async function copyFileAtomic(from: string, to: string): Promise<void> {
  await placeVia(to, (tmp) => copyFile(from, tmp));
}

/**
 * `from` moved to `to`. A rename when both are on one file system; across file systems (the
 * work dir on tmpfs, the media dir on disk: EXDEV) a copy under a temp name, renamed into place.
 */
export async function moveFileAtomic(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await copyFileAtomic(from, to);
    await rm(from, { force: true });
  }
}

async function placeVia(file: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = tempNameFor(file);
  try {
    await write(tmp);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Replaces the directory `target` with `staging` by renames on one file system, then syncs
 * the parent so the swap is durable. A directory cannot be renamed over a non-empty one, so
 * an older `target` is first moved aside to `replaced` (a scratch name): between the two
 * renames (microseconds) `target` is absent, never half-written.
 */
export async function replaceDir(staging: string, target: string, replaced: string): Promise<void> {
  await rm(replaced, { recursive: true, force: true });
  const had = await rename(target, replaced).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
  await rename(staging, target);
  if (had) await rm(replaced, { recursive: true, force: true });
  const fh = await open(path.dirname(target), 'r');
  await fh.sync().finally(() => fh.close());
}

/** Whether process `pid` exists (EPERM: it does, owned by someone else). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else — alive all the same.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes scratch (`scratchName`: a directory, or a file such as a rendition fetched for one
 * attempt) whose owner process is gone, and legacy scratch without an owner. `videoId` limits
 * the sweep to one name (the next attempt of that video cleans up after the last); `keep` names
 * an entry never to touch. Returns the names removed.
 */
export async function sweepStaleScratch(tmpDir: string, opts: { videoId?: string; keep?: string } = {}): Promise<string[]> {
  const entries = await readdir(tmpDir, { withFileTypes: true }).catch(() => []);
  const removed: string[] = [];
  for (const entry of entries) {
    if (!(entry.isDirectory() || entry.isFile()) || entry.name === opts.keep) continue;
    const m = SCRATCH_NAME.exec(entry.name);
    if (!m) continue;
    if (opts.videoId !== undefined && m[1] !== opts.videoId) continue;
    const owner = m[3] === undefined ? undefined : Number(m[3]);
    if (owner !== undefined && owner !== process.pid && alive(owner)) continue;
    if (owner === process.pid && opts.videoId === undefined) continue;
    await rm(path.join(tmpDir, entry.name), { recursive: true, force: true });
    removed.push(entry.name);
  }
  return removed;
}
