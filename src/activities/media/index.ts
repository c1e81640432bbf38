import { Context } from '@temporalio/activity';
import type { ApplicationFailure } from '@temporalio/common';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStorage } from '../../adapters/storage/port';
import type { FfmpegConfig } from '../../config';
import type { SsrfPolicy } from '../../net/ssrf-guard';
import { ErrorType, failure } from '../../errors';
import { idetArgs, parseProgressLine, probeArgs, renditionArgs, thumbnailArgs, thumbnailTime } from '../../media/ffmpeg-args';
import { checkLimits, declaredInterlaced, idetSaysInterlaced, interpretProbe, type MediaLimits, type StreamPlan } from '../../media/probe';
import { lastErrorLine, ProcessStalledError, runProcess, type RunOptions } from '../../media/run-process';
import { materializeSource } from '../../media/source';
import { isFaststart, renditionProblems } from '../../media/verify';
import { attemptDirName, sweepStaleAttemptDirs } from '../../media/work-dirs';
import type { HeartbeatProgress, MediaFacts, TranscodeInput, TranscodeOutput, VideoSource } from '../../workflows/contracts';

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
}

export const DEFAULT_LIMITS: MediaLimits = {
  maxWidth: 8192,
  maxHeight: 8192,
  maxPixels: 8192 * 4320,
  maxDurationSec: 4 * 3600,
  minDurationSec: 0.5,
  minFrames: 2,
};

/** A rendition shorter than this share of the source means ffmpeg stopped early (truncated input). */
const MIN_DURATION_RATIO = 0.9;
/** Below this much free space after a failed write, the failure is the disk's, not the media's. */
const DISK_FULL_BYTES = 1024 * 1024;
/** Bumped when encoding choices change, so a published output of older settings is not reused. */
const OUTPUT_VERSION = 2;
/** ffprobe and the interlace check report no progress: a plain time limit, far above their normal second or two. */
const PROBE_LIMIT: RunOptions['stall'] = { timeoutMs: 60_000, firstProgressMs: 60_000, progressOf: () => undefined };
/** How often the attempt tells Temporal it is alive (the heartbeat timeout catches a dead worker, the watchdog a stuck ffmpeg). */
const HEARTBEAT_EVERY_MS = 1_000;
/** After a full disk, wait longer than the default backoff: space is freed by people, not in 2 s. */
const DISK_FULL_RETRY_MS = 5_000;

interface Manifest {
  key: string;
  output: TranscodeOutput;
}

export function createMediaActivities(deps: MediaDeps) {
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

  return {
    /** validate (ffprobe) → H.264/AAC MP4 rendition → JPEG thumbnail, with progress heartbeats. */
    async transcode(input: TranscodeInput): Promise<TranscodeOutput> {
      const ctx = Context.current();
      const signal = ctx.cancellationSignal;
      const attempt = ctx.info.attempt;
      // The latest progress, re-sent every second by a ticker: a long phase without progress
      // lines (download start, encoder look-ahead) must not look like a dead worker.
      let current: HeartbeatProgress = { phase: 'fetch', percent: 0, attempt };
      const beat = (p: Omit<HeartbeatProgress, 'attempt'>) => {
        current = { ...p, attempt };
        ctx.heartbeat(current);
      };
      const ticker = setInterval(() => ctx.heartbeat(current), HEARTBEAT_EVERY_MS);
      // The last attempt's heartbeat: where it got to before it died, stalled or timed out.
      const previous = ctx.info.heartbeatDetails as HeartbeatProgress | undefined;
      if (previous) ctx.log.info('retrying after an earlier attempt', { videoId: input.videoId, attempt, previous });

      // One work dir per attempt, removed on every path; leftovers of dead attempts of this
      // video (a SIGKILLed worker cannot clean up) are swept first.
      const dirName = attemptDirName(input.videoId, attempt);
      const workDir = path.join(deps.tmpDir, dirName);
      await mkdir(deps.tmpDir, { recursive: true });
      const swept = await sweepStaleAttemptDirs(deps.tmpDir, { videoId: input.videoId, keep: dirName });
      if (swept.length) ctx.log.info('swept work dirs of dead attempts', { videoId: input.videoId, swept });
      await rm(workDir, { recursive: true, force: true });
      const releases: (() => Promise<void>)[] = [];
      const outDir = path.join(deps.mediaDir, input.videoId);
      try {
        await mkdir(workDir, { recursive: true }).catch((err: unknown) => rethrowDiskFull(err, 'creating the work directory'));
        const key = await outputKey(input.source, maxHeight);
        // Finished during an outage, or by an attempt whose completion was lost: verify, reuse.
        const done = await reusable(outDir, key, signal);
        if (done) {
          ctx.log.info('reusing the verified output of an earlier attempt', { videoId: input.videoId, attempt });
          beat({ phase: 'done', percent: 100 });
          return await toObjectStorage(input.videoId, done);
        }

        beat({ phase: 'fetch', percent: 0 });
        const local = await materializeSource(input.source, {
          workDir,
          maxBytes: deps.maxSourceBytes,
          signal,
          ingestDir: deps.ingestDir,
          onRelease: (release) => releases.push(release),
          idleTimeoutMs: deps.sourceIdleTimeoutMs,
          minBytesPerSec: deps.sourceMinBytesPerSec,
          ssrf: deps.ssrf,
          storage: deps.storage,
          // A long download must keep heartbeating or the server times the attempt out.
          onProgress: (_bytes, percent) => beat({ phase: 'fetch', percent: percent ?? 0 }),
        });
        beat({ phase: 'probe', percent: 0 });
        const source = await probe(local, signal, 'the source');
        const limit = checkLimits(source.facts, source.plan, limits);
        if (limit) throw failure(limit.type, `video ${input.videoId}: ${limit.reason}`);
        const deinterlace = await interlaced(local, source.plan, signal);
        const sourceFacts = source.facts;

        const renditionTmp = path.join(workDir, 'rendition.mp4');
        beat({ phase: 'transcode', percent: 0, encodedSec: 0 });
        let maxGapMs = 0;
        let lastLineAt = Date.now();
        const encoded = await runTool(
          ffmpegPath,
          renditionArgs({
            input: local,
            output: renditionTmp,
            preset: deps.ffmpeg.preset,
            threads: deps.ffmpeg.threads,
            maxHeight,
            videoIndex: source.plan.videoIndex,
            audioIndex: source.plan.audioIndex,
            deinterlace,
          }),
          {
            signal,
            stall: stallOf(deps),
            onStdoutLine: (line) => {
              const doneSec = parseProgressLine(line);
              if (doneSec === undefined) return;
              const now = Date.now();
              maxGapMs = Math.max(maxGapMs, now - lastLineAt);
              lastLineAt = now;
              const percent = Math.min(99, Math.floor((doneSec / sourceFacts.durationSec) * 100));
              beat({ phase: 'transcode', percent, encodedSec: Math.round(doneSec * 10) / 10 });
            },
          },
          `video ${input.videoId}`,
        );
        if (encoded.code !== 0) {
          await throwIfDiskFull(workDir, 'encoding');
          throw failure(
            ErrorType.TranscodeFailed,
            `ffmpeg exited with ${encoded.code ?? encoded.signal}: ${scrub(lastErrorLine(encoded.stderrTail), local, workDir)}`,
          );
        }
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
        beat({ phase: 'done', percent: 100 });
        // The activity logger adds workflow id, run id, activity type and attempt to every line.
        ctx.log.info('transcoded', {
          videoId: input.videoId,
          source: sourceFacts,
          rendition: renditionFacts,
          deinterlaced: deinterlace,
          maxProgressGapMs: maxGapMs,
        });
        return await toObjectStorage(input.videoId, output);
      } finally {
        clearInterval(ticker);
        for (const release of releases) await release().catch(() => undefined);
        await rm(workDir, { recursive: true, force: true });
      }
    },
  };
}

function stallOf(deps: MediaDeps): RunOptions['stall'] {
  return { timeoutMs: deps.stallTimeoutMs ?? 10_000, progressOf: parseProgressLine };
}

/** Runs a tool under the stall watchdog; a stall becomes a typed, retryable TranscodeStalled. */
async function runTool(cmd: string, args: string[], opts: RunOptions, what: string) {
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
async function publish(from: string, to: string, attempt: number): Promise<void> {
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

function rethrowDiskFull(err: unknown, during: string): never {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    throw failure(ErrorType.DiskFull, `the disk filled up while ${during}; what this attempt wrote was removed and it will be retried`, {
      nextRetryDelayMs: DISK_FULL_RETRY_MS,
    });
  }
  throw err;
}

/** A tool failed (or wrote short): if the work disk is full, that is the reason, typed and retryable. */
async function throwIfDiskFull(dir: string, during: string): Promise<void> {
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
async function outputKey(source: VideoSource, maxHeight: number): Promise<string> {
  const parts: unknown[] = [OUTPUT_VERSION, maxHeight, source];
  if (source.kind === 'file') {
    const info = await stat(source.path).catch(() => undefined);
    parts.push(info ? [info.dev, info.ino, info.size, info.mtimeMs] : null);
  }
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** Tool messages quote their input path: never show a server path to people. */
function scrub(message: string, ...paths: string[]): string {
  let out = message;
  for (const p of paths) if (p) out = out.split(p).join('<source>');
  // Any other absolute path (starting a word) is cut to its file name; "1/2" is left alone.
  return out.replace(/(^|[\s'"(])(\/[^\s:'"]+)/g, (_m, lead: string, p: string) => `${lead}${path.basename(p)}`);
}

export type MediaActivities = ReturnType<typeof createMediaActivities>;
