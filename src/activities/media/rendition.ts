/**
 * The pieces every way of producing the MP4 rendition shares — single pass (`transcode`) and
 * segmented: probing, the limits gate, the interlace check, the reuse check of a published
 * output, and verify → thumbnail → publish → manifest.
 */
import { createHash } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStorage } from '../../adapters/storage/port';
import type { FfmpegConfig } from '../../config';
import { DEFAULT_MEDIA_LIMITS } from '../../config/media';
import type { SsrfPolicy } from '../../net/ssrf-guard';
import { ErrorType, failure } from '../../errors';
import { renditionKey, renditionManifestKey, thumbnailKey } from '../../media/artifact-keys';
import { parseDocument, readDocument, renditionManifestSchema, type RenditionManifest } from '../../media/documents';
import { idetArgs, probeArgs, thumbnailArgs, thumbnailTime } from '../../media/ffmpeg-args';
import { checkLimits, declaredInterlaced, idetSaysInterlaced, interpretProbe, type MediaLimits, type StreamPlan } from '../../media/probe';
import { lastErrorLine } from '../../media/run-process';
import { materializeSource } from '../../media/source';
import { isFaststart, renditionProblems } from '../../media/verify';
import { moveFileAtomic, writeFileAtomic } from '../../media/work-area';
import type { UrlSealer } from '../../security/sealed-url';
import type { HeartbeatProgress, MediaFacts, TranscodeOutput, VideoSource } from '../../workflows/contracts';
import { rethrowDiskFull, scrub, throwIfDiskFull, unreadableMedia } from './media-failures';
import { QUICK_TOOL_LIMIT, runTool } from './run-tool';

export interface MediaDeps {
  ffmpeg: FfmpegConfig;
  mediaDir: string;
  tmpDir: string;
  maxSourceBytes: number;
  /** Longest rendition side; 720p keeps demo and CI encodes quick. */
  maxHeight?: number;
  /** File sources are opened and confined to this directory (symlink-safe); unset = trust the path. */
  ingestDir?: string;
  /** ffmpeg's output time not advancing for this long → kill it, fail the attempt TranscodeStalled (default 10 s). */
  stallTimeoutMs?: number;
  /** How long a video's cached intermediates outlive its last activity in this process (src/media/work-store.ts). */
  cacheLingerMs?: number;
  /** The ffprobe gate (defaults: DEFAULT_LIMITS). */
  limits?: MediaLimits;
  sourceIdleTimeoutMs?: number;
  sourceMinBytesPerSec?: number;
  /** Where uploads are read and renditions/thumbnails published; without it, mediaDir. */
  storage?: ObjectStorage;
  ssrf?: SsrfPolicy;
  /** Opens sealed URL sources; the API seals them with the same key. */
  sealer?: UrlSealer;
}

/** The MEDIA_MAX_* / MEDIA_MIN_* defaults, declared once in the config's media area. */
export const DEFAULT_LIMITS: MediaLimits = DEFAULT_MEDIA_LIMITS;

/** A rendition shorter than this share of the source means ffmpeg stopped early (truncated input). */
export const MIN_DURATION_RATIO = 0.9;
/** Bumped when encoding choices change, so a published output of older settings is not reused. */
export const OUTPUT_VERSION = 3;

/** Written last beside the published files: without it nothing there is trusted. */
const MANIFEST = 'manifest.json';

/** The published output's manifest (undefined: missing or damaged — nothing there is trusted). */
export function readManifest(outDir: string): Promise<RenditionManifest | undefined> {
  return readDocument(path.join(outDir, MANIFEST), renditionManifestSchema);
}

/** Probing, verification and publishing, bound to the worker's tools and directories. */
export function createRenditionSteps(deps: MediaDeps) {
  const { ffmpegPath, ffprobePath } = deps.ffmpeg;
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const maxHeight = deps.maxHeight ?? 720;

  async function probe(file: string, signal: AbortSignal, what: string): Promise<{ facts: MediaFacts; plan: StreamPlan }> {
    const res = await runTool(ffprobePath, probeArgs(file), { signal, stall: QUICK_TOOL_LIMIT }, what);
    if (res.code !== 0) throw await unreadableMedia(file, what, lastErrorLine(res.stderrTail));
    const verdict = interpretProbe(res.stdout);
    if (!verdict.ok) {
      const prefix = verdict.type === ErrorType.InvalidMedia ? `${what} is not a video` : `${what} cannot be used`;
      throw failure(verdict.type, `${prefix}: ${verdict.reason}`);
    }
    return { facts: verdict.facts, plan: verdict.plan };
  }

  /** Interlaced or not: the container's field order when it declares one, else ffmpeg's detector. */
  async function interlaced(file: string, plan: StreamPlan, signal: AbortSignal): Promise<boolean> {
    const declared = declaredInterlaced(plan.fieldOrder);
    if (declared !== undefined) return declared;
    const res = await runTool(ffmpegPath, idetArgs(file, plan.videoIndex), { signal, stall: QUICK_TOOL_LIMIT }, 'the source');
    return idetSaysInterlaced(res.stderrTail) ?? false;
  }

  /**
   * A published output of this video from an earlier attempt (or run), if it is intact: the
   * local copy when this worker still has it, else the one in object storage (a worker that is
   * not the store keeps no copy once it is published).
   */
  async function reusable(outDir: string, key: string, signal: AbortSignal): Promise<TranscodeOutput | undefined> {
    // A host that is not the store publishes nothing locally (see publishDirOf): only the store's output counts.
    const manifest = hostIsNotTheStore() ? undefined : await readManifest(outDir);
    if (!manifest) return reusableFromStore(path.basename(outDir), key);
    if (manifest.key !== key) return undefined;
    const out = manifest.output;
    const thumb = await stat(out.thumbnailPath).catch(() => undefined);
    if (!thumb?.size) return undefined;
    const again = await probe(out.renditionPath, signal, 'the published rendition').catch(() => undefined);
    if (!again) return undefined;
    if (Math.abs(again.facts.durationSec - out.rendition.durationSec) > 0.1) return undefined;
    if (renditionProblems(again.facts, again.plan, await isFaststart(out.renditionPath)).length > 0) return undefined;
    return out;
  }

  /**
   * The store's manifest is written after the MP4 and thumbnail (each whole or absent: S3
   * publishes an object on completion, the local store renames), so when it names this key
   * and both objects are there, they are the verified output of that attempt; no re-probe
   * (it would cost a download of the whole rendition).
   */
  async function reusableFromStore(videoId: string, key: string): Promise<TranscodeOutput | undefined> {
    if (!deps.storage) return undefined;
    const manifest = await storedManifest(videoId);
    if (manifest?.key !== key) return undefined;
    const [mp4, thumb] = await Promise.all([deps.storage.head(renditionKey(videoId)), deps.storage.head(thumbnailKey(videoId))]);
    return mp4?.size && thumb?.size ? manifest.output : undefined;
  }

  async function storedManifest(videoId: string): Promise<RenditionManifest | undefined> {
    const raw = await deps.storage?.getBytes(renditionManifestKey(videoId));
    return (raw && parseDocument(raw.toString('utf8'), renditionManifestSchema)) || undefined;
  }

  /** The manifest of the video's published output where a retry looks for it: this host's media dir, or the store when this host is not the store. */
  function publishedManifest(videoId: string): Promise<RenditionManifest | undefined> {
    return hostIsNotTheStore() ? storedManifest(videoId) : readManifest(path.join(deps.mediaDir, videoId));
  }

  /**
   * Publishes the MP4 and thumbnail to object storage (both back ends: the API serves them
   * from there), then the manifest that lets a retry on any host reuse them. The output keeps
   * its shape: on the local store the paths of the local copies (that host is the store), on
   * S3 the objects' locations. On S3 this worker's copies are then removed: a host that is
   * not the store keeps nothing of a video after its step (readers of the rendition fetch
   * `renditionKey` from the store when the local copy is gone).
   */
  async function toObjectStorage(videoId: string, local: TranscodeOutput): Promise<TranscodeOutput> {
    const store = deps.storage;
    if (!store) return local;
    const outDir = path.join(deps.mediaDir, videoId);
    // Beside the files it names: the media dir's, or the attempt's own on a host that is not the store.
    const manifest = await readManifest(path.isAbsolute(local.renditionPath) ? path.dirname(local.renditionPath) : outDir);
    const located: string[] = [];
    for (const [key, file, type] of [
      [renditionKey(videoId), local.renditionPath, 'video/mp4'],
      [thumbnailKey(videoId), local.thumbnailPath, 'image/jpeg'],
    ] as const) {
      if (
        await stat(file)
          .then((i) => i.isFile())
          .catch(() => false)
      ) {
        // A new output replaces the objects: the old manifest goes first, so no retry trusts a mix.
        if (located.length === 0) await store.delete(renditionManifestKey(videoId));
        located.push((await store.putFile(key, file, type)).location);
      } else if ((await store.head(key))?.size) {
        // Reused from the store: the output (from the store's manifest) names where it lives.
        located.push(file);
      } else {
        throw failure(
          ErrorType.TranscodeFailed,
          `the published ${path.basename(file)} of video ${videoId} is neither on this worker nor in the store`,
        );
      }
    }
    const published =
      store.backend === 'local'
        ? local
        : { ...local, renditionPath: located[0] ?? local.renditionPath, thumbnailPath: located[1] ?? local.thumbnailPath };
    if (manifest) {
      const stored: RenditionManifest = { key: manifest.key, output: published };
      await store.putBytes(renditionManifestKey(videoId), JSON.stringify(stored), 'application/json');
    }
    // Left by a version that published through the media dir on S3 too.
    if (store.backend !== 'local') await rm(outDir, { recursive: true, force: true });
    return published;
  }

  /**
   * The encoded rendition in `workDir` → verified (duration vs source, browser-playable,
   * faststart) → thumbnail → published to a path that depends only on the video, manifest last.
   */
  async function finishRendition(encoded: {
    videoId: string;
    renditionTmp: string;
    workDir: string;
    sourceFacts: MediaFacts;
    key: string;
    signal: AbortSignal;
    beat: (p: Omit<HeartbeatProgress, 'attempt'>) => void;
  }): Promise<TranscodeOutput> {
    const { renditionTmp, workDir, sourceFacts, key, signal, beat } = encoded;
    const outDir = publishDirOf(encoded.videoId, workDir);
    const rendition = await probe(renditionTmp, signal, 'the rendition');
    const renditionFacts = rendition.facts;
    if (renditionFacts.durationSec < sourceFacts.durationSec * MIN_DURATION_RATIO - 0.5) {
      // ffmpeg exits 0 on a truncated file that probes with its full duration.
      throw failure(
        ErrorType.TruncatedMedia,
        `the source is truncated: it claims ${sourceFacts.durationSec}s but only ${renditionFacts.durationSec}s could be decoded — upload the complete file`,
      );
    }
    // ffmpeg's exit 0 is not proof: the rendition must be what every browser plays.
    const problems = renditionProblems(renditionFacts, rendition.plan, await isFaststart(renditionTmp));
    if (problems.length > 0) throw failure(ErrorType.TranscodeFailed, `the rendition failed verification: ${problems.join('; ')}`);

    beat({ phase: 'thumbnail', percent: 99 });
    const thumbTmp = path.join(workDir, 'thumbnail.jpg');
    const thumb = await runTool(
      ffmpegPath,
      thumbnailArgs(renditionTmp, thumbTmp, thumbnailTime(renditionFacts.durationSec)),
      { signal, stall: QUICK_TOOL_LIMIT },
      `video ${encoded.videoId}`,
    );
    const thumbSize = (await stat(thumbTmp).catch(() => undefined))?.size ?? 0;
    if (thumb.code !== 0 || thumbSize === 0) {
      await throwIfDiskFull(workDir, 'writing the thumbnail');
      throw failure(ErrorType.TranscodeFailed, `thumbnail extraction failed: ${scrub(lastErrorLine(thumb.stderrTail), workDir)}`);
    }

    // Publish to a path that depends only on the video: a retry, a replay or a completion
    // lost in an outage finds it. Manifest last: without it nothing here is trusted.
    await mkdir(outDir, { recursive: true }).catch((err: unknown) => rethrowDiskFull(err, 'publishing'));
    const output: TranscodeOutput = {
      renditionPath: path.join(outDir, 'rendition.mp4'),
      thumbnailPath: path.join(outDir, 'thumbnail.jpg'),
      source: sourceFacts,
      rendition: renditionFacts,
    };
    await rm(path.join(outDir, MANIFEST), { force: true });
    // Cross-device safe: the work dir may sit on another file system (tmpfs) than the media dir.
    await moveFileAtomic(renditionTmp, output.renditionPath).catch((err: unknown) => rethrowDiskFull(err, 'publishing'));
    await moveFileAtomic(thumbTmp, output.thumbnailPath).catch((err: unknown) => rethrowDiskFull(err, 'publishing'));
    await writeFileAtomic(path.join(outDir, MANIFEST), JSON.stringify({ key, output } satisfies RenditionManifest)).catch((err: unknown) =>
      rethrowDiskFull(err, 'publishing'),
    );
    return output;
  }

  /** Whether this host only passes outputs on to the store (S3) rather than being the store (the local disk). */
  function hostIsNotTheStore(): boolean {
    return deps.storage !== undefined && deps.storage.backend !== 'local';
  }

  /**
   * Where an attempt publishes its verified output. Where this host is the store: the media dir,
   * a path that depends only on the video, so any retry finds it. Where it is not: the attempt's
   * own work dir, from which the output goes to the store. A shared dir there would be removed
   * under a concurrent attempt's upload (a stale attempt, its worker's lease lapsed, still runs
   * beside its retry; the first to finish cleans up): the soak saw a retry fail ENOENT.
   */
  function publishDirOf(videoId: string, workDir: string): string {
    return hostIsNotTheStore() ? path.join(workDir, 'published') : path.join(deps.mediaDir, videoId);
  }

  /** Fetch (or open) the source into `workDir`, probe it, gate it on the limits, check interlacing. */
  async function prepareSource(input: {
    videoId: string;
    source: VideoSource;
    workDir: string;
    signal: AbortSignal;
    releases: (() => Promise<void>)[];
    beat: (p: Omit<HeartbeatProgress, 'attempt'>) => void;
    /** A copy of this source already fetched by planTranscode (URL and upload sources): not fetched again. */
    prefetched?: string;
  }): Promise<{ local: string; source: { facts: MediaFacts; plan: StreamPlan }; deinterlace: boolean }> {
    const { signal, beat } = input;
    beat({ phase: 'fetch', percent: 0 });
    const local =
      input.prefetched ??
      (await materializeSource(input.source, {
        workDir: input.workDir,
        maxBytes: deps.maxSourceBytes,
        signal,
        ingestDir: deps.ingestDir,
        onRelease: (release) => input.releases.push(release),
        idleTimeoutMs: deps.sourceIdleTimeoutMs,
        minBytesPerSec: deps.sourceMinBytesPerSec,
        ssrf: deps.ssrf,
        storage: deps.storage,
        sealer: deps.sealer,
        // A long download must keep heartbeating or the server times the attempt out.
        onProgress: (_bytes, percent) => beat({ phase: 'fetch', percent: percent ?? 0 }),
      }));
    beat({ phase: 'probe', percent: 0 });
    const source = await probe(local, signal, 'the source');
    const limit = checkLimits(source.facts, source.plan, limits);
    if (limit) throw failure(limit.type, `video ${input.videoId}: ${limit.reason}`);
    const deinterlace = await interlaced(local, source.plan, signal);
    return { local, source, deinterlace };
  }

  return {
    prepareSource,
    probe,
    interlaced,
    reusable,
    publishedManifest,
    toObjectStorage,
    finishRendition,
    outputKey: (source: VideoSource) => outputKey(source, maxHeight),
    maxHeight,
    limits,
  };
}

/** Same source, same settings → same key; a file source also by its identity and size on disk. */
export async function outputKey(source: VideoSource, maxHeight: number): Promise<string> {
  const parts: unknown[] = [OUTPUT_VERSION, maxHeight, source];
  if (source.kind === 'file') {
    const info = await stat(source.path).catch(() => undefined);
    parts.push(info ? [info.dev, info.ino, info.size, info.mtimeMs] : null);
  }
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}
