import { Context } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStorage } from '../../adapters/storage/port';
import type { FfmpegConfig } from '../../config';
import { hlsKey, renditionKey } from '../../media/artifact-keys';
import { ErrorType, failure } from '../../errors';
import { ladderManifestSchema, parseDocument, readDocument, type LadderManifest } from '../../media/documents';
import { keyframeProbeArgs, parseProgressLine, probeArgs } from '../../media/ffmpeg-args';
import {
  chooseLadder,
  cutPoints,
  forcedKeyframes,
  HLS_SEGMENT_SEC_RANGE,
  hlsArgs,
  keyframesFitSegments,
  MAX_FORCED_LIST_CHARS,
  parseKeyframeLine,
} from '../../media/hls-ladder';
import { masterProblems, mediaPlaylistProblems, parseMediaPlaylist, writeMasterPlaylist } from '../../media/hls-playlist';
import { extendSpan, renditionVideoEnd, videoTiming, type PtsSpan } from '../../media/hls-timing';
import { interpretProbe } from '../../media/probe';
import { lastErrorLine } from '../../media/run-process';
import { replaceDir, scratchName, sweepStaleScratch } from '../../media/work-area';
import { VIDEO_ID_PATTERN } from '../../workflows/ids';
import type { HlsOutput, PackageHlsInput } from '../../workflows/contracts';
import { verifyVariants } from './hls-verify';
import { unreadableMedia } from './media-failures';
import { QUICK_TOOL_LIMIT, runTool, stallOf, startHeartbeats } from './run-tool';

export interface HlsDeps {
  ffmpeg: FfmpegConfig;
  /** The ladder is published to `<mediaDir>/<videoId>/hls/`, beside the MP4 rendition. */
  mediaDir: string;
  /** ffmpeg's output time not advancing for this long → kill it, fail the attempt TranscodeStalled (default 10 s). */
  stallTimeoutMs?: number;
  /**
   * Where the ladder is published (under `hlsKey`) and the rendition fetched from when this
   * worker has no local copy. On S3 this host is not the store: the ladder is uploaded from
   * the staging dir and nothing of it stays in the media dir.
   */
  storage?: ObjectStorage;
}

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
  const manifest = await readDocument(path.join(dir, LADDER_MANIFEST), ladderManifestSchema);
  if (manifest?.key !== key) return undefined;
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

/** The rendition in the store (its ETag and size), the segment length, the ladder rules → same key. */
function storedLadderKey(etag: string | undefined, size: number, segmentSec: number): string {
  return createHash('sha256')
    .update(JSON.stringify([LADDER_VERSION, segmentSec, 'store', etag ?? null, size]))
    .digest('hex');
}

/** The ladder published in the store, if it was cut with this key and every file its playlists name is there. */
async function reusableStoredLadder(store: ObjectStorage, videoId: string, key: string): Promise<HlsOutput | undefined> {
  const text = async (name: string) => (await store.getBytes(hlsKey(videoId, name)))?.toString('utf8') ?? '';
  const manifest = parseDocument(await text(LADDER_MANIFEST), ladderManifestSchema);
  if (manifest?.key !== key) return undefined;
  if (masterProblems(await text('master.m3u8')).length) return undefined;
  const have = new Set(await store.list(hlsKey(videoId, '')));
  for (const v of manifest.output.variants) {
    const playlist = parseMediaPlaylist(await text(`${v.name}/index.m3u8`));
    if (mediaPlaylistProblems(playlist).length) return undefined;
    for (const uri of [playlist.map ?? '', ...playlist.segments.map((s) => s.uri)]) {
      if (!have.has(hlsKey(videoId, `${v.name}/${uri}`))) return undefined;
    }
  }
  return manifest.output;
}

const LADDER_CONTENT_TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mp4': 'video/mp4',
  '.m4s': 'video/iso.segment',
  '.json': 'application/json',
};
/** Parallel uploads of one ladder: enough to hide S3's per-request latency, few enough for a small host. */
const UPLOAD_PARALLELISM = 8;

/**
 * Uploads a built ladder (`dir`) under `hlsKey`: rung playlists and segments first, then
 * `ladder.json`, master.m3u8 last (it publishes the ladder: a player starts from it). The old
 * master goes first, so no player is handed a mix of two ladders; objects of an older ladder
 * that this one does not have are removed after. Idempotent: a retry uploads the same names again.
 */
async function publishLadder(store: ObjectStorage, videoId: string, dir: string): Promise<void> {
  const names = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
  const last = ['master.m3u8'];
  const before = [...names.filter((n) => n !== LADDER_MANIFEST && !last.includes(n)), ...names.filter((n) => n === LADDER_MANIFEST)];
  await store.delete(hlsKey(videoId, 'master.m3u8'));
  const put = (name: string) =>
    store.putFile(hlsKey(videoId, name), path.join(dir, name), LADDER_CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream');
  const rungs = before.filter((n) => n !== LADDER_MANIFEST);
  for (let i = 0; i < rungs.length; i += UPLOAD_PARALLELISM) await Promise.all(rungs.slice(i, i + UPLOAD_PARALLELISM).map(put));
  for (const name of [...before.filter((n) => n === LADDER_MANIFEST), ...last.filter((n) => names.includes(n))]) await put(name);
  const keep = new Set(names.map((n) => hlsKey(videoId, n)));
  for (const stale of (await store.list(hlsKey(videoId, ''))).filter((k) => !keep.has(k))) await store.delete(stale);
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
      if (!VIDEO_ID_PATTERN.test(input.videoId))
        throw failure(ErrorType.InvalidMedia, `video id ${JSON.stringify(input.videoId)} is not a safe name`);
      if (!(input.segmentSec >= HLS_SEGMENT_SEC_RANGE.min && input.segmentSec <= HLS_SEGMENT_SEC_RANGE.max))
        throw failure(
          ErrorType.InvalidMedia,
          `segmentSec must be ${HLS_SEGMENT_SEC_RANGE.min}–${HLS_SEGMENT_SEC_RANGE.max} s, got ${input.segmentSec}`,
        );
      const heartbeats = startHeartbeats(ctx, { phase: 'hls', percent: 0 });
      const beat = (percent: number) => heartbeats.beat({ phase: 'hls', percent });

      const videoDir = path.join(deps.mediaDir, input.videoId);
      // With S3 the output names a remote location: the local copy, if this worker has one, is in the media dir.
      let rendition = path.isAbsolute(input.renditionPath) ? input.renditionPath : path.join(videoDir, 'rendition.mp4');
      const store = deps.storage;
      // On S3 this host is not the store: the ladder is built in staging, uploaded, and not kept.
      const remote = store?.backend === 's3';
      const stagingRoot = path.join(deps.mediaDir, HLS_STAGING_DIR);
      const stagingName = scratchName(input.videoId, attempt);
      const staging = path.join(stagingRoot, stagingName);
      // A rendition fetched from the store lives here for this attempt only (swept like staging).
      const fetched = path.join(stagingRoot, scratchName(`${input.videoId}.src`, attempt));
      try {
        beat(0);
        const info = await stat(rendition).catch(() => undefined);
        let key: string;
        if (remote || !info?.isFile()) {
          const stored = store ? await store.head(renditionKey(input.videoId)) : undefined;
          // Retryable: the rendition may not be published yet, or be on another worker's disk.
          if (!store || !stored)
            throw failure(ErrorType.TranscodeFailed, `the rendition of video ${input.videoId} is neither on this worker nor in the store`);
          key = storedLadderKey((await store.pin(renditionKey(input.videoId)))?.etag, stored.size, input.segmentSec);
        } else {
          key = ladderKey(info, input.segmentSec);
        }
        // Published by an attempt whose completion was lost (worker killed, Temporal outage): reuse it.
        const done =
          store && remote ? await reusableStoredLadder(store, input.videoId, key) : await reusableLadder(path.join(videoDir, 'hls'), key);
        if (done) {
          ctx.log.info('reusing the verified HLS ladder an earlier attempt published', { videoId: input.videoId, attempt });
          // The local store may not have it yet (published locally by an attempt that stopped before uploading).
          if (store && !remote && !(await reusableStoredLadder(store, input.videoId, key)))
            await publishLadder(store, input.videoId, path.join(videoDir, 'hls'));
          beat(100);
          return done;
        }
        if (!remote) await mkdir(videoDir, { recursive: true });
        await mkdir(stagingRoot, { recursive: true });
        for (const id of [input.videoId, `${input.videoId}.old`, `${input.videoId}.src`])
          await sweepStaleScratch(stagingRoot, { videoId: id, keep: stagingName });
        if (!info?.isFile() && store) {
          await mkdir(fetched, { recursive: true });
          rendition = path.join(fetched, 'rendition.mp4');
          if (!(await store.getFile(renditionKey(input.videoId), rendition, { signal })))
            throw failure(ErrorType.TranscodeFailed, `the rendition of video ${input.videoId} is not in the store`);
        }
        await rm(staging, { recursive: true, force: true });
        await mkdir(staging, { recursive: true });

        const probed = await runTool(ffprobePath, probeArgs(rendition), { signal, stall: QUICK_TOOL_LIMIT }, `video ${input.videoId}`);
        if (probed.code !== 0)
          throw await unreadableMedia(rendition, `the rendition of ${input.videoId}`, lastErrorLine(probed.stderrTail));
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
            stall: stallOf(deps, (line) => Number.parseFloat(line) || undefined),
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
            stall: stallOf(deps),
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
        const entries = await verifyVariants({
          dir: staging,
          rungs,
          hasAudio,
          renditionVideo,
          frameRate: facts.frameRate,
          signal,
          ffprobePath,
        });
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

        if (store && remote) {
          await publishLadder(store, input.videoId, staging);
        } else {
          await replaceDir(staging, path.join(videoDir, 'hls'), path.join(stagingRoot, scratchName(`${input.videoId}.old`, attempt)));
          if (store) await publishLadder(store, input.videoId, path.join(videoDir, 'hls'));
        }
        beat(100);
        ctx.log.info('packaged HLS', {
          videoId: input.videoId,
          topRungCopied: copyTop,
          segments: entries[0]?.segmentCount,
          variants: output.variants,
        });
        return output;
      } finally {
        heartbeats.stop();
        await rm(staging, { recursive: true, force: true });
        await rm(fetched, { recursive: true, force: true });
      }
    },
  };
}

/** At media worker start: removes ladders half-built or parked by attempts whose process is gone. */
export function sweepHlsStaging(mediaDir: string): Promise<string[]> {
  return sweepStaleScratch(path.join(mediaDir, HLS_STAGING_DIR));
}

export type HlsActivities = ReturnType<typeof createHlsActivities>;
