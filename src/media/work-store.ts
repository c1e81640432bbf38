import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStorage } from '../adapters/storage/port';
import { ErrorType, failure } from '../errors';
import { videoPrefix, workKey } from './artifact-keys';
import { handOverSchema, parseDocument, readDocument, sidecarSchema, storedPlanSchema, type Sidecar, type StoredPlan } from './documents';
import { removeDeadOwnersAreas, removeIfEmpty, segmentAreaOf } from './segment-area';
import { writeFileAtomic } from './work-area';

/**
 * The intermediates of a video's media step, kept in object storage under `work/<videoId>/` so
 * the activities of one transcode may run on hosts that share nothing but the store:
 *
 *   work/<videoId>/plan.json                the plan (`StoredPlan`), naming the source copy
 *   work/<videoId>/source.<attempt>         the copy every segment is cut from
 *   work/<videoId>/seg-<i>.<attempt>.mp4    an encoded segment, one key per attempt …
 *   work/<videoId>/seg-<i>.json             … published by this sidecar naming it (written last)
 *   work/<videoId>/audio.<attempt>.m4a      the audio track, and `audio.json` naming it
 *   work/<videoId>/single-source.<attempt>  planTranscode → single pass hand-over of a short
 *                                           source, and `single-source.json` naming it
 *
 * An attempt writes only keys of its own, then the small document that names them, so a reader
 * (on any host) sees a whole object of one attempt or none, never another attempt's half.
 *
 * The segment work area on local disk (`<tmpDir>/segments/<videoId>/`) is only a cache of these
 * objects: each process caches in its own `pid-<pid>/` inside it, shared by the activities
 * of the video running at once in that process; each activity holds a lease (`lease`) and the
 * cache goes when the last one ends (the area too once empty), so a host keeps nothing of a video
 * after its activities. A missing cache entry is fetched again; only an object missing from the
 * store too is a failure (the caller's, typed).
 */
export interface WorkStoreDeps {
  storage: ObjectStorage;
  tmpDir: string;
  /**
   * How long this process keeps a video's cache after its last activity ended (0: removed at
   * once). The segments of one video reach a worker one after another: without a short linger
   * every segment would fetch the whole source copy again.
   */
  cacheLingerMs?: number;
}

/**
 * The media worker's linger: longer than the gap between two segments of one video on a busy
 * worker; short enough that a host soon keeps nothing (another worker process's cache of a video
 * whose run ended goes when its linger does: only its owner knows it is not in use).
 */
export const WORK_CACHE_LINGER_MS = 30_000;

const PLAN = 'plan.json';
const HAND_OVER = 'single-source.json';
const JSON_TYPE = 'application/json';

/** A key no other attempt (on any host) writes: `<stem>.<random>[.<ext>]`. */
function attemptKey(videoId: string, stem: string, ext = ''): string {
  return workKey(videoId, `${stem}.${randomBytes(6).toString('hex')}${ext}`);
}

/** Leases per local area in this process, and the removal under way once the last one ended. */
const leases = new Map<string, number>();
const removals = new Map<string, Promise<void>>();
const lingering = new Map<string, NodeJS.Timeout>();
/**
 * Areas whose video's work was removed (`remove`) while an activity of this process still held
 * them: removed when the last one ends, without lingering. That activity is a live attempt (a
 * stale attempt, its worker's lease lapsed, ending beside its retry): removing the area under it
 * failed the retry's fetched source as unreadable media (the long soak).
 */
const doomed = new Set<string>();

export function createWorkStore(deps: WorkStoreDeps) {
  const { storage } = deps;
  // Each process caches in a folder of its own: two workers sharing a data dir on one machine
  // must not remove each other's files in use when one of them ends its last activity.
  const areaOf = (videoId: string) => path.join(segmentAreaOf(deps.tmpDir, videoId), `pid-${process.pid}`);
  // Cached objects live beside this process's attempt scratch, in its own folder.
  const cacheOf = areaOf;
  const cacheFileOf = (videoId: string, object: string) => path.join(cacheOf(videoId), path.posix.basename(object));

  async function getDocument<T>(key: string, schema: Parameters<typeof parseDocument<T>>[1]): Promise<T | undefined> {
    return parseDocument(await storage.getBytes(key), schema);
  }

  /**
   * The object `object` of `bytes` bytes as a local file at `file`: the file already there if its
   * size matches, else fetched (under a temp name, renamed into place when whole). False when
   * the store has no such object, or not of that size.
   */
  async function fetchTo(object: string, bytes: number, file: string, signal?: AbortSignal): Promise<boolean> {
    if ((await stat(file).catch(() => undefined))?.size === bytes) return true;
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.fetch-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      if (!(await storage.getFile(object, tmp, { signal }))) return false;
      if ((await stat(tmp)).size !== bytes) return false;
      await rename(tmp, file);
      return true;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** This process's cache of the video, then the area and `segments` if nothing else is in them. */
  async function releaseCache(videoId: string): Promise<void> {
    await rm(areaOf(videoId), { recursive: true, force: true });
    await removeIfEmpty(segmentAreaOf(deps.tmpDir, videoId));
  }

  /**
   * Every object under `work/<videoId>/`, the plan first: a late writer (an attempt cut off from
   * the network and superseded, finishing after the run moved on) checks the plan after it
   * published, and undoes its writes when the plan is gone (`publishOutput`); whatever it wrote
   * before that check is listed here, after the plan went.
   */
  async function removeObjects(videoId: string): Promise<void> {
    await storage.delete(workKey(videoId, PLAN));
    for (const key of await storage.list(videoPrefix('work', videoId))) await storage.delete(key);
  }

  return {
    areaOf,
    cacheOf,

    /**
     * Holds the video's local cache for one activity; the returned release removes the area
     * once no activity of this process holds it (what it cached is in the store).
     */
    async lease(videoId: string): Promise<() => Promise<void>> {
      const area = areaOf(videoId);
      clearTimeout(lingering.get(area));
      lingering.delete(area);
      await removals.get(area);
      leases.set(area, (leases.get(area) ?? 0) + 1);
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        const left = (leases.get(area) ?? 1) - 1;
        if (left > 0) {
          leases.set(area, left);
          return;
        }
        leases.delete(area);
        const remove = () => {
          lingering.delete(area);
          if (leases.has(area)) return Promise.resolve();
          doomed.delete(area);
          const removal = releaseCache(videoId).finally(() => removals.delete(area));
          removals.set(area, removal);
          return removal;
        };
        if (!deps.cacheLingerMs || doomed.has(area)) return remove();
        // Unref'd: a worker shutting down does not wait for it (the next start's sweep removes the folder).
        lingering.set(area, setTimeout(() => void remove().catch(() => undefined), deps.cacheLingerMs).unref());
      };
    },

    /**
     * The stored plan, or undefined when missing or damaged. With `digest`, a cached copy of that
     * very plan is used (a digest names one plan); without, the store's is read (it is the truth).
     */
    async readPlan(videoId: string, digest?: string): Promise<StoredPlan | undefined> {
      const cacheFile = path.join(cacheOf(videoId), PLAN);
      if (digest !== undefined) {
        const cached = await readDocument(cacheFile, storedPlanSchema);
        if (cached?.digest === digest) return cached;
      }
      const plan = await getDocument(workKey(videoId, PLAN), storedPlanSchema);
      if (plan && leases.has(areaOf(videoId)))
        await mkdir(cacheOf(videoId), { recursive: true })
          .then(() => writeFileAtomic(cacheFile, JSON.stringify(plan)))
          .catch(() => undefined);
      return plan;
    },

    /** Publishes the source copy under a key of this attempt (multipart on S3); the file stays. */
    async publishSource(videoId: string, file: string): Promise<StoredPlan['source']> {
      const object = attemptKey(videoId, 'source');
      await storage.putFile(object, file, 'application/octet-stream');
      return { object, bytes: (await stat(file)).size };
    },

    /** Written after the source it names: the plan publishes the segmented transcode. */
    async publishPlan(videoId: string, plan: StoredPlan): Promise<void> {
      await storage.putBytes(workKey(videoId, PLAN), JSON.stringify(plan), JSON_TYPE);
    },

    /** The plan's source copy as a local file (cached, or fetched), or undefined when the store lost it. */
    async sourceFile(videoId: string, plan: StoredPlan, signal?: AbortSignal): Promise<string | undefined> {
      const file = cacheFileOf(videoId, plan.source.object);
      return (await fetchTo(plan.source.object, plan.source.bytes, file, signal)) ? file : undefined;
    },

    /**
     * A finished output of an earlier attempt (`name` is `seg-<i>` or `audio`), if its sidecar
     * matches the plan and span and the object it names is there at its size.
     */
    async finishedOutput(
      videoId: string,
      name: string,
      expect: Pick<Sidecar, 'key' | 'startSec' | 'endSec'>,
    ): Promise<Sidecar | undefined> {
      const side = await getDocument(workKey(videoId, `${name}.json`), sidecarSchema);
      if (!side || side.key !== expect.key || side.startSec !== expect.startSec || side.endSec !== expect.endSec) return undefined;
      return (await storage.head(side.object))?.size === side.bytes ? side : undefined;
    },

    /** The encoder's output stored under a key of this attempt, then its sidecar naming it (the publish). */
    async publishOutput(
      videoId: string,
      name: string,
      ext: string,
      file: string,
      side: Omit<Sidecar, 'object' | 'bytes'>,
    ): Promise<Sidecar> {
      const object = attemptKey(videoId, name, ext);
      await storage.putFile(object, file, 'application/octet-stream');
      const published: Sidecar = { ...side, bytes: (await stat(file)).size, object };
      const sidecar = workKey(videoId, `${name}.json`);
      await storage.putBytes(sidecar, JSON.stringify(published), JSON_TYPE);
      if (!(await storage.head(workKey(videoId, PLAN)))) {
        // The run's intermediates were removed while this attempt encoded: leave nothing behind.
        await storage.delete(sidecar);
        await storage.delete(object);
        throw failure(ErrorType.TranscodeFailed, `video ${videoId}: the run's work area was removed while ${name} was being encoded`);
      }
      return published;
    },

    /** A published output as a local file in `dir`, or undefined when the store lost it. */
    async outputFile(side: Sidecar, dir: string, signal?: AbortSignal): Promise<string | undefined> {
      const file = path.join(dir, path.posix.basename(side.object));
      return (await fetchTo(side.object, side.bytes, file, signal)) ? file : undefined;
    },

    /** planTranscode → single pass: a fetched source too short to segment, stored with its output key. */
    async handOver(videoId: string, file: string, key: string): Promise<void> {
      const object = attemptKey(videoId, 'single-source');
      await storage.putFile(object, file, 'application/octet-stream');
      const note = { key, object, bytes: (await stat(file)).size };
      await storage.putBytes(workKey(videoId, HAND_OVER), JSON.stringify(note), JSON_TYPE);
    },

    /** The handed-over source for this very output key, fetched into `dir`, if there is one. */
    async handedOver(videoId: string, key: string, dir: string, signal?: AbortSignal): Promise<string | undefined> {
      const note = await getDocument(workKey(videoId, HAND_OVER), handOverSchema);
      if (note?.key !== key) return undefined;
      const file = path.join(dir, path.posix.basename(note.object));
      return (await fetchTo(note.object, note.bytes, file, signal)) ? file : undefined;
    },

    /**
     * Everything of the video's media step: its objects under `work/<videoId>/`, this process's
     * local cache (at once, or when the last activity still holding it ends) and the caches of
     * dead processes; a live process's cache goes when its own last activity of the video does.
     */
    async remove(videoId: string): Promise<void> {
      await removeObjects(videoId);
      const area = areaOf(videoId);
      if (leases.has(area)) doomed.add(area);
      else {
        clearTimeout(lingering.get(area));
        lingering.delete(area);
        await removals.get(area);
        await releaseCache(videoId);
      }
      await removeDeadOwnersAreas(deps.tmpDir, videoId);
    },

    /** Only the objects (another run's plan of other settings is worthless). */
    removeObjects,
  };
}

export type WorkStore = ReturnType<typeof createWorkStore>;
