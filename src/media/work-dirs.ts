import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Per-attempt work directories: `<videoId>.attempt-<n>.pid-<pid>`. The owner's pid is in the
 * name so a sweep can tell a dead attempt's leftovers (worker SIGKILLed, machine rebooted)
 * from a live attempt of another worker sharing the directory.
 */
export function attemptDirName(videoId: string, attempt: number, pid = process.pid): string {
  return `${videoId}.attempt-${attempt}.pid-${pid}`;
}

const ATTEMPT_DIR = /^(.+)\.attempt-(\d+)(?:\.pid-(\d+))?$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else — alive all the same.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes attempt dirs whose owner process is gone (and legacy ones without an owner).
 * `videoId` limits the sweep to one video (the next attempt of that video cleans up after
 * the last); `keep` names a dir never to touch. Returns the names removed.
 */
export async function sweepStaleAttemptDirs(tmpDir: string, opts: { videoId?: string; keep?: string } = {}): Promise<string[]> {
  const entries = await readdir(tmpDir, { withFileTypes: true }).catch(() => []);
  const removed: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name === opts.keep) continue;
    const m = ATTEMPT_DIR.exec(entry.name);
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

/**
 * Issue 15: removes per-video segment work areas (`<tmpDir>/segments/<videoId>`) nothing has
 * written to for `maxAgeMs`. A run that ends normally or fails removes its own area; this catches
 * the runs that cannot (terminated from the Web UI, reset, a workflow timed out). Age, not pid:
 * the area is shared by media workers on several hosts, and any live run writes a segment (which
 * touches the directory) far more often than this.
 */
export async function sweepStaleSegmentAreas(tmpDir: string, maxAgeMs: number, now = Date.now()): Promise<string[]> {
  const root = path.join(tmpDir, 'segments');
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const removed: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const dir = path.join(root, entry.name);
    const info = await stat(dir).catch(() => undefined);
    if (!info || now - info.mtimeMs < maxAgeMs) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(entry.name);
  }
  return removed;
}

/**
 * Removes `dir` if it is empty, then its parent if that is empty too (a video's segment work
 * area and the `segments` folder above it). rmdir refuses a non-empty directory, so nothing a
 * live attempt of this or another video wrote is ever touched. Returns whether `dir` went.
 */
export async function removeIfEmpty(dir: string): Promise<boolean> {
  const removed = await rmdir(dir).then(
    () => true,
    () => false,
  );
  if (removed) await rmdir(path.dirname(dir)).catch(() => undefined);
  return removed;
}
