import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { alive } from './work-area';

/**
 * A video's segment work area, `<tmpDir>/segments/<videoId>/`: this host's scratch cache of the
 * intermediates work-store.ts keeps in object storage under `work/<videoId>/` (the plan, the
 * source copy, segments, audio), and the scratch of one attempt (`fetch.attempt-…`,
 * `join.attempt-…`, encoder outputs, see work-area.ts). Nothing in it is read by another
 * activity that cannot fetch it again from the store; it goes when this process's last activity
 * of the video ends.
 */
export function segmentAreaOf(tmpDir: string, videoId: string): string {
  return path.join(tmpDir, 'segments', videoId);
}

/**
 * The caches in the video's area of processes that are gone (killed, restarted), then the area
 * and the `segments` folder once empty. A live process's cache is its own to remove (its last
 * activity of the video ends, work-store.ts): it may be working in it now.
 */
export async function removeDeadOwnersAreas(tmpDir: string, videoId: string): Promise<void> {
  const area = segmentAreaOf(tmpDir, videoId);
  for (const name of await readdir(area).catch(() => [])) {
    const owner = /^pid-(\d+)$/.exec(name)?.[1];
    if (owner !== undefined && (Number(owner) === process.pid || alive(Number(owner)))) continue;
    await rm(path.join(area, name), { recursive: true, force: true });
  }
  await removeIfEmpty(area);
}

/**
 * Removes per-video segment work areas nothing has written to for `maxAgeMs`. A run that ends
 * normally or fails removes its own area; this catches the runs that cannot (terminated from the
 * Web UI, reset, a workflow timed out). Age, not pid: a live run writes to its area (which touches
 * the directory) far more often than this.
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
