/**
 * The pieces every way of producing the MP4 rendition shares — single pass (`transcode`) and
 * segmented (issue 15): probing, the limits gate, the interlace check, the reuse check of a
 * published output, verify → thumbnail → publish → manifest, and the typed-error helpers.
 */
import type { Context } from '@temporalio/activity';
import type { ApplicationFailure } from '@temporalio/common';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStorage } from '../../adapters/storage/port';
import type { FfmpegConfig } from '../../config';
import { DEFAULT_MEDIA_LIMITS } from '../../config/media';
import type { SsrfPolicy } from '../../net/ssrf-guard';
import { ErrorType, failure } from '../../errors';
import { idetArgs, parseProgressLine, probeArgs, thumbnailArgs, thumbnailTime } from '../../media/ffmpeg-args';
import { checkLimits, declaredInterlaced, idetSaysInterlaced, interpretProbe, type MediaLimits, type StreamPlan } from '../../media/probe';
import { lastErrorLine, ProcessStalledError, runProcess, type RunOptions } from '../../media/run-process';
import { materializeSource } from '../../media/source';
import type { UrlSealer } from '../../security/sealed-url';
import { isFaststart, renditionProblems } from '../../media/verify';
import type { HeartbeatProgress, MediaFacts, TranscodeOutput, VideoSource } from '../../workflows/contracts';

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
  /** The ffprobe gate (defaults: DEFAULT_LIMITS). */
  limits?: MediaLimits;
  sourceIdleTimeoutMs?: number;
  sourceMinBytesPerSec?: number;
  /** Issue 18: where uploads are read and renditions/thumbnails published; without it, mediaDir. */
  storage?: ObjectStorage;
  ssrf?: SsrfPolicy;
  /** Opens sealed URL sources (issue 26); the API seals them with the same key. */
  sealer?: UrlSealer;
}

/** The MEDIA_MAX_* / MEDIA_MIN_* defaults, declared once in the config's media area. */
export const DEFAULT_LIMITS: MediaLimits = DEFAULT_MEDIA_LIMITS;

/** A rendition shorter than this share of the source means ffmpeg stopped early (truncated input). */
export const MIN_DURATION_RATIO = 0.9;
/** Below this much free space after a failed write, the failure is the disk's, not the media's. */
export const DISK_FULL_BYTES = 1024 * 1024;
/** Bumped when encoding choices change, so a published output of older settings is not reused. */
export const OUTPUT_VERSION = 3;
/** ffprobe and the interlace check report no progress: a plain time limit, far above their normal second or two. */
export const PROBE_LIMIT: RunOptions['stall'] = { timeoutMs: 60_000, firstProgressMs: 60_000, progressOf: () => undefined };
/** How often the attempt tells Temporal it is alive (the heartbeat timeout catches a dead worker, the watchdog a stuck ffmpeg). */
export const HEARTBEAT_EVERY_MS = 1_000;
/** After a full disk, wait longer than the default backoff: space is freed by people, not in 2 s. */
export const DISK_FULL_RETRY_MS = 5_000;

interface Manifest {
  key: string;
  output: TranscodeOutput;
}

/** Probing, verification and publishing, bound to the worker's tools and directories. */
export function createMediaSteps(deps: MediaDeps) {
  const { ffmpegPath, ffprobePath } = deps.ffmpeg;
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const maxHeight = deps.maxHeight ?? 720;

  async function probe(file: string, signal: AbortSignal, what: string): Promise<{ facts: MediaFacts; plan: StreamPlan }> {
    const res = await runTool(ffprobePath, probeArgs(file), { signal, stall: PROBE_LIMIT }, what);
    if (res.code !== 0) {
      throw failure(ErrorType.InvalidMedia, `${what} is not readable media: ${scrub(lastErrorLine(res.stderrTail), file)}`);
    }
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
    const res = await runTool(ffmpegPath, idetArgs(file, plan.videoIndex), { signal, stall: PROBE_LIMIT }, 'the source');
    return idetSaysInterlaced(res.stderrTail) ?? false;
  }

  /** A published output of this video from an earlier attempt (or run), if it is intact. */
  async function reusable(outDir: string, key: string, signal: AbortSignal): Promise<TranscodeOutput | undefined> {
    const raw = await readFile(path.join(outDir, 'manifest.json'), 'utf8').catch(() => undefined);
    if (!raw) return undefined;
    let manifest: Manifest;
    try {
      manifest = JSON.parse(raw) as Manifest;
    } catch {
      return undefined;
    }
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
   * Issue 18: with remote object storage (S3) the published files are stored there too and the
   * output names their locations; the local copies stay as the media queue's work area (the
   * reuse check above, keyframe/audio extraction).
   */
  async function toObjectStorage(videoId: string, local: TranscodeOutput): Promise<TranscodeOutput> {
    if (!deps.storage || deps.storage.backend === 'local') return local;
    const rendition = await deps.storage.putFile(`media/${videoId}/rendition.mp4`, local.renditionPath, 'video/mp4');
    const thumbnail = await deps.storage.putFile(`media/${videoId}/thumbnail.jpg`, local.thumbnailPath, 'image/jpeg');
    return { ...local, renditionPath: rendition.location, thumbnailPath: thumbnail.location };
  }

  /**
   * The encoded rendition in `workDir` → verified (duration vs source, browser-playable,
   * faststart) → thumbnail → published to a path that depends only on the video, manifest last.
   */
  async function finishRendition(o: {
    videoId: string;
    renditionTmp: string;
    workDir: string;
    sourceFacts: MediaFacts;
    key: string;
    attempt: number;
    signal: AbortSignal;
    beat: (p: Omit<HeartbeatProgress, 'attempt'>) => void;
  }): Promise<TranscodeOutput> {
    const { renditionTmp, workDir, sourceFacts, key, attempt, signal, beat } = o;
    const outDir = path.join(deps.mediaDir, o.videoId);
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
    const thumb = await runProcess(ffmpegPath, thumbnailArgs(renditionTmp, thumbTmp, thumbnailTime(renditionFacts.durationSec)), {
      signal,
    });
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
    await rm(path.join(outDir, 'manifest.json'), { force: true });
    await publish(renditionTmp, output.renditionPath, attempt);
    await publish(thumbTmp, output.thumbnailPath, attempt);
    const manifestTmp = path.join(outDir, `.manifest.json.attempt-${attempt}`);
    await writeFile(manifestTmp, JSON.stringify({ key, output } satisfies Manifest)).catch(async (err: unknown) => {
      await rm(manifestTmp, { force: true });
      rethrowDiskFull(err, 'publishing');
    });
    await rename(manifestTmp, path.join(outDir, 'manifest.json'));
    return output;
  }

  /** Fetch (or open) the source into `workDir`, probe it, gate it on the limits, check interlacing. */
  async function prepareSource(o: {
    videoId: string;
    source: VideoSource;
    workDir: string;
    signal: AbortSignal;
    releases: (() => Promise<void>)[];
    beat: (p: Omit<HeartbeatProgress, 'attempt'>) => void;
    /** A copy of this source already fetched by planTranscode (URL and upload sources): not fetched again. */
    prefetched?: string;
  }): Promise<{ local: string; source: { facts: MediaFacts; plan: StreamPlan }; deinterlace: boolean }> {
    const { signal, beat } = o;
    beat({ phase: 'fetch', percent: 0 });
    const local =
      o.prefetched ??
      (await materializeSource(o.source, {
        workDir: o.workDir,
        maxBytes: deps.maxSourceBytes,
        signal,
        ingestDir: deps.ingestDir,
        onRelease: (release) => o.releases.push(release),
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
    if (limit) throw failure(limit.type, `video ${o.videoId}: ${limit.reason}`);
    const deinterlace = await interlaced(local, source.plan, signal);
    return { local, source, deinterlace };
  }

  return {
    prepareSource,
    probe,
    interlaced,
    reusable,
    toObjectStorage,
    finishRendition,
    outputKey: (source: VideoSource) => outputKey(source, maxHeight),
    maxHeight,
    limits,
  };
}

/**
 * Progress heartbeats for one attempt: `beat` records and sends the latest progress, and a
 * ticker re-sends it every second — a long phase without progress lines (download start,
 * encoder look-ahead) must not look like a dead worker. Call `stop` in `finally`.
 */
export function startHeartbeats(ctx: Context, first: Omit<HeartbeatProgress, 'attempt'>) {
  const attempt = ctx.info.attempt;
  let current: HeartbeatProgress = { ...first, attempt };
  const beat = (p: Omit<HeartbeatProgress, 'attempt'>) => {
    current = { ...p, attempt };
    ctx.heartbeat(current);
  };
  const ticker = setInterval(() => ctx.heartbeat(current), HEARTBEAT_EVERY_MS);
  return { beat, stop: () => clearInterval(ticker) };
}

export function stallOf(deps: Pick<MediaDeps, 'stallTimeoutMs'>): RunOptions['stall'] {
  return { timeoutMs: deps.stallTimeoutMs ?? 10_000, progressOf: parseProgressLine };
}

/** Runs a tool under the stall watchdog; a stall becomes a typed, retryable TranscodeStalled. */
export async function runTool(cmd: string, args: string[], opts: RunOptions, what: string) {
  try {
    return await runProcess(cmd, args, opts);
  } catch (err) {
    if (err instanceof ProcessStalledError) {
      throw failure(ErrorType.TranscodeStalled, `${what}: ${err.message}; it was killed and the attempt will be retried`, {
        details: { stalledForMs: err.stalledForMs, lastPositionSec: err.lastPosition ?? null },
      });
    }
    throw err;
  }
}

/** Cross-device safe: the work dir may sit on another file system (tmpfs) than the media dir. */
export async function publish(from: string, to: string, attempt: number): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') rethrowDiskFull(err, 'publishing');
    const staging = `${path.join(path.dirname(to), `.${path.basename(to)}`)}.attempt-${attempt}`;
    try {
      await copyFile(from, staging);
      await rename(staging, to);
    } catch (copyErr) {
      await rm(staging, { force: true });
      rethrowDiskFull(copyErr, 'publishing');
    }
  }
}

export function rethrowDiskFull(err: unknown, during: string): never {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    throw failure(ErrorType.DiskFull, `the disk filled up while ${during}; what this attempt wrote was removed and it will be retried`, {
      nextRetryDelayMs: DISK_FULL_RETRY_MS,
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
      { details: { freeBytes: fs.bavail * fs.bsize }, nextRetryDelayMs: DISK_FULL_RETRY_MS },
    );
    throw err;
  }
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

/** Tool messages quote their input path: never show a server path to people. */
export function scrub(message: string, ...paths: string[]): string {
  let out = message;
  for (const p of paths) if (p) out = out.split(p).join('<source>');
  // Any other absolute path (starting a word) is cut to its file name; "1/2" is left alone.
  return out.replace(/(^|[\s'"(])(\/[^\s:'"]+)/g, (_m, lead: string, p: string) => `${lead}${path.basename(p)}`);
}
