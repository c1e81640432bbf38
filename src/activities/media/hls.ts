import { Context } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FfmpegConfig } from '../../config';
import { ErrorType, failure } from '../../errors';
import { parseProgressLine, probeArgs } from '../../media/ffmpeg-args';
import {
  chooseLadder,
  cutPoints,
  forcedKeyframes,
  HLS_SEGMENT_SEC_RANGE,
  hlsArgs,
  keyframeProbeArgs,
  keyframesFitSegments,
  MAX_FORCED_LIST_CHARS,
  parseKeyframeLine,
  type Rung,
} from '../../media/hls-ladder';
import {
  aacCodec,
  avcCodecFromInit,
  masterProblems,
  mediaPlaylistProblems,
  parseMediaPlaylist,
  withLastSegmentDuration,
  writeMasterPlaylist,
  type MasterEntry,
} from '../../media/hls-playlist';
import {
  extendSpan,
  packetTimes,
  ptsSpan,
  renditionVideoEnd,
  variantTimingProblems,
  videoTiming,
  type PtsSpan,
} from '../../media/hls-timing';
import { interpretProbe } from '../../media/probe';
import { lastErrorLine, type RunOptions } from '../../media/run-process';
import { runTool } from './media-steps';
import { attemptDirName, sweepStaleAttemptDirs } from '../../media/work-dirs';
import type { HeartbeatProgress, HlsOutput, PackageHlsInput } from '../../workflows/contracts';

export interface HlsDeps {
  ffmpeg: FfmpegConfig;
  /** The ladder is published to `<mediaDir>/<videoId>/hls/`, beside the MP4 rendition. */
  mediaDir: string;
  /** ffmpeg's output time not advancing for this long → kill it, fail the attempt TranscodeStalled (default 10 s). */
  stallTimeoutMs?: number;
}

const HEARTBEAT_EVERY_MS = 1_000;
/** ffprobe reports no progress: a plain time limit, far above its normal second or two. */
const PROBE_LIMIT: RunOptions['stall'] = { timeoutMs: 60_000, firstProgressMs: 60_000, progressOf: () => undefined };
/** A variant's video may span, and its playlist add up to, this much more or less than the rendition's video. */
const DURATION_TOLERANCE_SEC = 0.5;
const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;
/**
 * Ladders are built in `<mediaDir>/.hls-staging/<videoId>.attempt-<n>.pid-<pid>/` (the media
 * dir's file system, so publishing is a rename) and a replaced ladder is parked there as
 * `<videoId>.old.attempt-…` (video ids have no dots). One directory for all videos: a media
 * worker sweeps what dead attempts left there when it starts (`sweepHlsStaging`).
 */
export const HLS_STAGING_DIR = '.hls-staging';
/** Written into the ladder before it is published (never served: not a name the API route allows). */
const LADDER_MANIFEST = 'ladder.json';
/** Bumped when ladder choices change, so a ladder of older settings is rebuilt, not reused. */
const LADDER_VERSION = 2;

interface LadderManifest {
  key: string;
  output: HlsOutput;
}

/** Same rendition file (identity, size, mtime), same segment length, same ladder rules → same key. */
function ladderKey(info: { dev: number; ino: number; size: number; mtimeMs: number }, segmentSec: number): string {
  return createHash('sha256')
    .update(JSON.stringify([LADDER_VERSION, segmentSec, info.dev, info.ino, info.size, info.mtimeMs]))
    .digest('hex');
}

/**
 * The published ladder, if it was built from this very rendition with these settings and is
 * intact: the master passes its checks and every file each variant playlist names is there.
 */
async function reusableLadder(dir: string, key: string): Promise<HlsOutput | undefined> {
  let manifest: LadderManifest;
  try {
    manifest = JSON.parse(await readFile(path.join(dir, LADDER_MANIFEST), 'utf8')) as LadderManifest;
  } catch {
    return undefined;
  }
  if (manifest.key !== key) return undefined;
  const master = await readFile(path.join(dir, 'master.m3u8'), 'utf8').catch(() => '');
  if (masterProblems(master).length) return undefined;
  for (const v of manifest.output.variants) {
    const playlist = parseMediaPlaylist(await readFile(path.join(dir, v.name, 'index.m3u8'), 'utf8').catch(() => ''));
    if (mediaPlaylistProblems(playlist).length) return undefined;
    for (const uri of [playlist.map ?? '', ...playlist.segments.map((s) => s.uri)]) {
      if (!((await stat(path.join(dir, v.name, uri)).catch(() => undefined))?.size ?? 0)) return undefined;
    }
  }
  return manifest.output;
}

/**
 * Packages the published MP4 rendition as an adaptive HLS ladder (fMP4/CMAF), verifies it
 * and publishes it to `<mediaDir>/<videoId>/hls/`. Idempotent: a retry reuses an intact
 * ladder built from the same rendition, else rebuilds it in its own staging dir and replaces it.
 */
export function createHlsActivities(deps: HlsDeps) {
  const { ffmpegPath, ffprobePath } = deps.ffmpeg;

  return {
    async packageHls(input: PackageHlsInput): Promise<HlsOutput> {
      const ctx = Context.current();
      const signal = ctx.cancellationSignal;
      const attempt = ctx.info.attempt;
      if (!SAFE_ID.test(input.videoId))
        throw failure(ErrorType.InvalidMedia, `video id ${JSON.stringify(input.videoId)} is not a safe name`);
      if (!(input.segmentSec >= HLS_SEGMENT_SEC_RANGE.min && input.segmentSec <= HLS_SEGMENT_SEC_RANGE.max))
        throw failure(
          ErrorType.InvalidMedia,
          `segmentSec must be ${HLS_SEGMENT_SEC_RANGE.min}–${HLS_SEGMENT_SEC_RANGE.max} s, got ${input.segmentSec}`,
        );
      let current: HeartbeatProgress = { phase: 'hls', percent: 0, attempt };
      const beat = (percent: number) => {
        current = { phase: 'hls', percent, attempt };
        ctx.heartbeat(current);
      };
      const ticker = setInterval(() => ctx.heartbeat(current), HEARTBEAT_EVERY_MS);

      const videoDir = path.join(deps.mediaDir, input.videoId);
      // With object storage the output names a remote location; the local copy stays in the media dir.
      const rendition = path.isAbsolute(input.renditionPath) ? input.renditionPath : path.join(videoDir, 'rendition.mp4');
      const stagingRoot = path.join(deps.mediaDir, HLS_STAGING_DIR);
      const stagingName = attemptDirName(input.videoId, attempt);
      const staging = path.join(stagingRoot, stagingName);
      try {
        beat(0);
        const info = await stat(rendition).catch(() => undefined);
        // Retryable: with media dirs not shared between workers, another worker may hold it.
        if (!info?.isFile())
          throw failure(ErrorType.TranscodeFailed, `the rendition of video ${input.videoId} is not in this worker's media directory`);
        const key = ladderKey(info, input.segmentSec);
        // Published by an attempt whose completion was lost (worker killed, Temporal outage): reuse it.
        const done = await reusableLadder(path.join(videoDir, 'hls'), key);
        if (done) {
          ctx.log.info('reusing the verified HLS ladder an earlier attempt published', { videoId: input.videoId, attempt });
          beat(100);
          return done;
        }
        await mkdir(videoDir, { recursive: true });
        await mkdir(stagingRoot, { recursive: true });
        for (const id of [input.videoId, `${input.videoId}.old`])
          await sweepStaleAttemptDirs(stagingRoot, { videoId: id, keep: stagingName });
        await rm(staging, { recursive: true, force: true });
        await mkdir(staging, { recursive: true });

        const probed = await runTool(ffprobePath, probeArgs(rendition), { signal, stall: PROBE_LIMIT }, `video ${input.videoId}`);
        if (probed.code !== 0) throw failure(ErrorType.InvalidMedia, `the rendition of ${input.videoId} is not readable media`);
        const verdict = interpretProbe(probed.stdout);
        if (!verdict.ok) throw failure(verdict.type, `the rendition of ${input.videoId}: ${verdict.reason}`);
        const facts = verdict.facts;
        const hasAudio = verdict.plan.audioIndex !== null;
        const timing = videoTiming(probed.stdout, verdict.plan.videoIndex);

        // Reuse the rendition's keyframes when they already fall near every segment boundary
        // (the segmented transcode puts one at each segment start): the top rung is then a copy.
        const keyframes: number[] = [];
        // The rendition's first and last video frame, read in the same pass: what every variant must span.
        let span: PtsSpan | undefined;
        const kf = await runTool(
          ffprobePath,
          keyframeProbeArgs(rendition),
          {
            signal,
            // Every packet line is progress: a long rendition takes as long as it takes, a frozen probe is killed.
            stall: { timeoutMs: deps.stallTimeoutMs ?? 10_000, progressOf: (line) => Number.parseFloat(line) || undefined },
            // Collected line by line: a 2-hour rendition has ~200k packets, more than runProcess keeps.
            onStdoutLine: (line) => {
              span = extendSpan(span, Number.parseFloat(line));
              const t = parseKeyframeLine(line);
              if (t !== undefined) keyframes.push(t);
            },
          },
          `video ${input.videoId}`,
        );
        if (kf.code !== 0 || !span)
          throw failure(ErrorType.InvalidMedia, `the rendition of ${input.videoId} has no readable video packets`);
        const renditionVideo = { span, endSec: renditionVideoEnd(timing, span, facts.frameRate) };
        const copyCuts = cutPoints(keyframes, input.segmentSec);
        const copyTop =
          facts.videoCodec === 'h264' &&
          keyframesFitSegments(keyframes, facts.durationSec, input.segmentSec) &&
          forcedKeyframes(copyCuts, input.segmentSec).length <= MAX_FORCED_LIST_CHARS;
        const rungs = chooseLadder(facts, { copyTop });
        const cuts = rungs[0]?.copy ? copyCuts : 'every-segment';

        const encoded = await runTool(
          ffmpegPath,
          hlsArgs({
            input: rendition,
            outDir: staging,
            segmentSec: input.segmentSec,
            rungs,
            cuts,
            hasAudio,
            preset: deps.ffmpeg.preset,
            threads: deps.ffmpeg.threads,
            videoTimeBase: timing.timeBase,
          }),
          {
            signal,
            stall: { timeoutMs: deps.stallTimeoutMs ?? 10_000, progressOf: parseProgressLine },
            onStdoutLine: (line) => {
              const done = parseProgressLine(line);
              if (done !== undefined) beat(Math.min(95, Math.floor((done / facts.durationSec) * 95)));
            },
          },
          `video ${input.videoId}`,
        );
        if (encoded.code !== 0)
          throw failure(
            ErrorType.TranscodeFailed,
            `packaging HLS failed: ffmpeg exited with ${encoded.code ?? encoded.signal}: ${lastErrorLine(encoded.stderrTail).split(staging).join('<hls>')}`,
          );

        beat(96);
        const entries = await verifyVariants(staging, rungs, hasAudio, renditionVideo, facts.frameRate, signal, ffprobePath);
        const aligned = entries.every((e) => e.segmentCount === entries[0]?.segmentCount);
        if (!aligned)
          ctx.log.warn('HLS variants have different segment counts: players may stall briefly when switching', {
            videoId: input.videoId,
            counts: entries.map((e) => [e.name, e.segmentCount]),
          });
        const master = writeMasterPlaylist(entries.map((e) => e.master));
        const problems = masterProblems(master);
        if (problems.length)
          throw failure(ErrorType.TranscodeFailed, `the HLS master playlist failed verification: ${problems.join('; ')}`);
        await writeFile(path.join(staging, 'master.m3u8'), master);
        const output: HlsOutput = {
          masterPath: path.posix.join(input.videoId, 'hls', 'master.m3u8'),
          variants: entries.map((e) => ({
            name: e.name,
            width: e.master.width,
            height: e.master.height,
            bandwidth: e.master.bandwidth,
            codecs: e.master.codecs,
          })),
        };
        await writeFile(path.join(staging, LADDER_MANIFEST), JSON.stringify({ key, output } satisfies LadderManifest));

        await publishDir(staging, path.join(videoDir, 'hls'), path.join(stagingRoot, attemptDirName(`${input.videoId}.old`, attempt)));
        beat(100);
        ctx.log.info('packaged HLS', {
          videoId: input.videoId,
          topRungCopied: copyTop,
          segments: entries[0]?.segmentCount,
          variants: output.variants,
        });
        return output;
      } finally {
        clearInterval(ticker);
        await rm(staging, { recursive: true, force: true });
      }
    },
  };
}

interface VerifiedVariant {
  name: string;
  segmentCount: number;
  master: MasterEntry & { bandwidth: number };
}

/**
 * Checks what ffmpeg wrote, variant by variant, and measures what the master playlist
 * declares: each playlist parses and is complete, every file it names exists and is not
 * empty, the probed size is the rung's, the codec strings come from the init segment itself,
 * and the variant's video spans the rendition's (first and last frame, measured on both sides
 * from packet times). The last segment's EXTINF is measured and rewritten (hls-timing.ts says why).
 */
async function verifyVariants(
  dir: string,
  rungs: readonly Rung[],
  hasAudio: boolean,
  renditionVideo: { span: PtsSpan; endSec: number },
  frameRate: number | null,
  signal: AbortSignal,
  ffprobePath: string,
): Promise<VerifiedVariant[]> {
  const out: VerifiedVariant[] = [];
  for (const rung of rungs) {
    const variantDir = path.join(dir, rung.name);
    const playlistFile = path.join(variantDir, 'index.m3u8');
    const text = await readFile(playlistFile, 'utf8').catch(() => undefined);
    if (text === undefined) throw failure(ErrorType.TranscodeFailed, `HLS variant ${rung.name} has no playlist`);
    const written = parseMediaPlaylist(text);
    const problems = mediaPlaylistProblems(written);
    if (problems.length) throw failure(ErrorType.TranscodeFailed, `HLS variant ${rung.name}: ${problems.join('; ')}`);
    const init = await readFile(path.join(variantDir, written.map ?? 'init.mp4'));
    const sizes: number[] = [];
    for (const seg of written.segments) {
      const size = (await stat(path.join(variantDir, seg.uri)).catch(() => undefined))?.size ?? 0;
      if (size === 0) throw failure(ErrorType.TranscodeFailed, `HLS variant ${rung.name}: segment ${seg.uri} is missing or empty`);
      sizes.push(size);
    }

    // Init + first segment (the init alone carries no profile or level), init + last segment.
    const first = await probeSegment(dir, rung.name, init, path.join(variantDir, written.segments[0]?.uri ?? ''), signal, ffprobePath);
    const lastUri = written.segments.at(-1)?.uri ?? '';
    const last =
      written.segments.length > 1 ? await probeSegment(dir, rung.name, init, path.join(variantDir, lastUri), signal, ffprobePath) : first;
    const video = first.streams.find((s) => s.codec_type === 'video');
    const audio = first.streams.find((s) => s.codec_type === 'audio');
    if (!first.ok || !video) throw failure(ErrorType.TranscodeFailed, `HLS variant ${rung.name}: its first segment has no video`);
    const firstSpan = ptsSpan(first.videoPts);
    const lastSpan = ptsSpan(last.videoPts);
    if (!firstSpan || !lastSpan) throw failure(ErrorType.TranscodeFailed, `HLS variant ${rung.name}: a segment holds no video frames`);

    // In the variant's own time line: fragments without an edit list present B-frame video a
    // frame or two late, the first segment as much as the last.
    const shift = firstSpan.first - renditionVideo.span.first;
    const lastSec = renditionVideo.endSec + shift - lastSpan.first;
    if (!(lastSec > 0))
      throw failure(ErrorType.TranscodeFailed, `HLS variant ${rung.name}: its last segment starts after the rendition's video ends`);
    const measured = withLastSegmentDuration(text, lastSec);
    const playlist = parseMediaPlaylist(measured);
    const stillWrong = mediaPlaylistProblems(playlist);
    if (stillWrong.length) throw failure(ErrorType.TranscodeFailed, `HLS variant ${rung.name}: ${stillWrong.join('; ')}`);
    if (measured !== text) await writeFile(playlistFile, measured);
    const totalSec = playlist.segments.reduce((sum, seg) => sum + seg.duration, 0);
    const timing = variantTimingProblems({
      name: rung.name,
      variantFirst: firstSpan,
      variantLast: lastSpan,
      rendition: renditionVideo.span,
      playlistSec: totalSec,
      renditionSec: renditionVideo.endSec - renditionVideo.span.first,
      toleranceSec: DURATION_TOLERANCE_SEC,
    });
    if (timing.length) throw failure(ErrorType.TranscodeFailed, timing.join('; '));

    if (video.width !== rung.width || video.height !== rung.height)
      throw failure(
        ErrorType.TranscodeFailed,
        `HLS variant ${rung.name} is ${video.width}x${video.height}, not the declared ${rung.width}x${rung.height}`,
      );
    if (hasAudio && audio?.codec_name !== 'aac')
      throw failure(ErrorType.TranscodeFailed, `HLS variant ${rung.name}: its first segment has no AAC audio`);
    const avc = avcCodecFromInit(init);
    if (!avc) throw failure(ErrorType.TranscodeFailed, `HLS variant ${rung.name}: its init segment holds no H.264 configuration`);
    const totalBytes = sizes.reduce((a, b) => a + b, 0);
    const peak = Math.max(...playlist.segments.map((seg, i) => ((sizes[i] ?? 0) * 8) / seg.duration));
    out.push({
      name: rung.name,
      segmentCount: playlist.segments.length,
      master: {
        uri: `${rung.name}/index.m3u8`,
        bandwidth: Math.ceil(peak),
        averageBandwidth: Math.ceil((totalBytes * 8) / totalSec),
        width: rung.width,
        height: rung.height,
        codecs: hasAudio ? `${avc},${aacCodec(audio?.profile)}` : avc,
        frameRate,
      },
    });
  }
  return out;
}

interface ProbedStream {
  index?: number;
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  width?: number;
  height?: number;
}

/** One segment as a player reads it (init + segment, in a scratch file): its streams and video packet times. */
async function probeSegment(
  dir: string,
  rungName: string,
  init: Buffer,
  segmentFile: string,
  signal: AbortSignal,
  ffprobePath: string,
): Promise<{ ok: boolean; streams: ProbedStream[]; videoPts: number[] }> {
  const sample = path.join(dir, `.probe-${rungName}.mp4`);
  await writeFile(sample, Buffer.concat([init, await readFile(segmentFile)]));
  try {
    const probed = await runTool(
      ffprobePath,
      [
        '-v',
        'error',
        '-show_entries',
        'stream=index,codec_type,codec_name,profile,width,height:packet=stream_index,pts_time',
        '-of',
        'json',
        sample,
      ],
      { signal, stall: PROBE_LIMIT },
      `HLS variant ${rungName}`,
    );
    const streams = probeStreams(probed.stdout);
    const video = streams.find((s) => s.codec_type === 'video');
    return { ok: probed.code === 0, streams, videoPts: video?.index === undefined ? [] : packetTimes(probed.stdout, video.index) };
  } finally {
    await rm(sample, { force: true });
  }
}

function probeStreams(json: string): ProbedStream[] {
  try {
    const parsed = JSON.parse(json) as { streams?: ProbedStream[] };
    return Array.isArray(parsed.streams) ? parsed.streams : [];
  } catch {
    return [];
  }
}

/**
 * Replaces `target` with `staging` by renames on one file system. A directory cannot be
 * renamed over a non-empty one, so an older ladder is first moved aside: between the two
 * renames (microseconds) the ladder is absent, never half-written.
 */
async function publishDir(staging: string, target: string, replaced: string): Promise<void> {
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
  // Durable before the activity reports success: the workflow will link to it.
  const fh = await open(path.dirname(target), 'r');
  await fh.sync().finally(() => fh.close());
}

/** At media worker start: removes ladders half-built or parked by attempts whose process is gone. */
export function sweepHlsStaging(mediaDir: string): Promise<string[]> {
  return sweepStaleAttemptDirs(path.join(mediaDir, HLS_STAGING_DIR));
}

export type HlsActivities = ReturnType<typeof createHlsActivities>;
