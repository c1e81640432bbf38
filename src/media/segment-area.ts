import { mkdir, readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { handOverSchema, readDocument, sidecarSchema, storedPlanSchema, type Sidecar, type StoredPlan } from './documents';
import { moveFileAtomic, writeFileAtomic } from './work-area';

/**
 * A video's segment work area, `<tmpDir>/segments/<videoId>/`, shared by the activities of a
 * segmented transcode (on any media worker: with several hosts it must be a shared file system,
 * like the media dir). Keyed by the video only, so a retry or a replay overwrites, never
 * duplicates. What it holds:
 *
 * - `plan.json` (`StoredPlan`) and `source`, the copy every segment is cut from;
 * - `seg-<i>.mp4` and `audio.m4a`, each with a sidecar `<file>.json` written after the file;
 * - `single-source` + `single-source.json`: a fetched source too short to segment, handed over
 *   from planTranscode to the single-pass transcode so a URL or upload is fetched once;
 * - scratch of one attempt (`fetch.attempt-…`, `join.attempt-…`, encoder outputs), see work-area.ts.
 */
export function segmentAreaOf(tmpDir: string, videoId: string): string {
  return path.join(tmpDir, 'segments', videoId);
}

const PLAN = 'plan.json';
const HAND_OVER_SOURCE = 'single-source';
const HAND_OVER = 'single-source.json';

export const areaSourceOf = (area: string) => path.join(area, 'source');
export const areaSegmentOf = (area: string, index: number) => path.join(area, `seg-${index}.mp4`);
export const areaAudioOf = (area: string) => path.join(area, 'audio.m4a');

/** The stored plan, or undefined when it is missing or damaged (the transcode is then planned again). */
export function readPlan(area: string): Promise<StoredPlan | undefined> {
  return readDocument(path.join(area, PLAN), storedPlanSchema);
}

export function writePlan(area: string, plan: StoredPlan): Promise<void> {
  return writeFileAtomic(path.join(area, PLAN), JSON.stringify(plan));
}

/** A finished output of an earlier delivery, if its sidecar says so and its size still matches. */
export async function finishedOutput(file: string, expect: Omit<Sidecar, 'bytes' | 'durationSec'>): Promise<Sidecar | undefined> {
  const side = await readDocument(`${file}.json`, sidecarSchema);
  if (!side || side.key !== expect.key || side.startSec !== expect.startSec || side.endSec !== expect.endSec) return undefined;
  const size = (await stat(file).catch(() => undefined))?.size;
  return size === side.bytes ? side : undefined;
}

/** The encoder's scratch output renamed into place, then its sidecar: a reader sees a whole file or none. */
export async function commitOutput(scratch: string, file: string, side: Sidecar): Promise<void> {
  await moveFileAtomic(scratch, file);
  await writeFileAtomic(`${file}.json`, JSON.stringify(side));
}

/** The video's area, and the `segments` folder too once no video has one (a done video leaves nothing). */
export async function removeSegmentArea(tmpDir: string, videoId: string): Promise<void> {
  const area = segmentAreaOf(tmpDir, videoId);
  await rm(area, { recursive: true, force: true });
  await rmdir(path.dirname(area)).catch(() => undefined);
}

/** planTranscode → transcode hand-over of a fetched source too short to segment. */
export async function handOverToSinglePass(tmpDir: string, videoId: string, local: string, key: string): Promise<void> {
  const area = segmentAreaOf(tmpDir, videoId);
  await mkdir(area, { recursive: true });
  await moveFileAtomic(local, path.join(area, HAND_OVER_SOURCE));
  await writeFileAtomic(path.join(area, HAND_OVER), JSON.stringify({ key }));
}

/** The source planTranscode fetched for this very source and settings, if it is there. */
export async function handedOverSource(tmpDir: string, videoId: string, key: string): Promise<string | undefined> {
  const area = segmentAreaOf(tmpDir, videoId);
  const handOver = await readDocument(path.join(area, HAND_OVER), handOverSchema);
  if (handOver?.key !== key) return undefined;
  const file = path.join(area, HAND_OVER_SOURCE);
  return (await stat(file).catch(() => undefined))?.isFile() ? file : undefined;
}

/** Done with the hand-over (published, or failed for good): the area goes, and `segments` once empty. */
export function dropHandOver(tmpDir: string, videoId: string): Promise<void> {
  return removeSegmentArea(tmpDir, videoId);
}

/**
 * Removes per-video segment work areas nothing has written to for `maxAgeMs`. A run that ends
 * normally or fails removes its own area; this catches the runs that cannot (terminated from the
 * Web UI, reset, a workflow timed out). Age, not pid: the area is shared by media workers on
 * several hosts, and any live run writes a segment (which touches the directory) far more often
 * than this.
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
