/**
 * Issue 15: segmented, checkpointed transcode. A long video is cut on keyframes into segments
 * that are encoded one activity each (on the `<media>-segments` queue, so several media
 * workers share one video), its audio once, then joined without re-encoding. What is done is
 * durable twice over: the workflow history records each finished segment, and each segment's
 * file + sidecar in the per-video work area lets a redelivered activity return without encoding.
 *
 * The work area `<tmpDir>/segments/<videoId>/` is keyed by the video only, so a retry or a
 * replay overwrites, never duplicates. With media workers on several hosts it must be a
 * shared file system (NFS, EFS…), like the media dir.
 */
import { Context } from '@temporalio/activity';
import { copyFile, mkdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorType, failure } from '../../errors';
import { audioArgs, concatList, joinArgs, keyframeProbeArgs, parseProgressLine, segmentArgs } from '../../media/ffmpeg-args';
import { lastErrorLine } from '../../media/run-process';
import { DEFAULT_SEGMENT_SEC, parseKeyframePackets, planDigest, planSegments, worthSegmenting } from '../../media/segment-plan';
import type {
  EncodedSegment,
  EncodeSegmentInput,
  JoinSegmentsInput,
  MediaFacts,
  PlanTranscodeInput,
  SegmentSpan,
  TranscodeOutput,
  TranscodePlan,
} from '../../workflows/contracts';
import {
  createMediaSteps,
  PROBE_LIMIT,
  rethrowDiskFull,
  runTool,
  scrub,
  stallOf,
  startHeartbeats,
  throwIfDiskFull,
  type MediaDeps,
} from './media-steps';

export interface SegmentDeps extends MediaDeps {
  /** Target segment length (config MEDIA_SEGMENT_SEC, default 10 s). */
  segmentSec?: number;
}

/**
 * What planTranscode leaves in the work area for the other activities: paths, and (issue 25) the
 * spans, stay out of history; the workflow holds only the count and `digest`.
 */
interface StoredPlan {
  key: string;
  facts: MediaFacts;
  videoIndex: number;
  audioIndex: number | null;
  deinterlace: boolean;
  segments: SegmentSpan[];
  /** planDigest(key, segments). */
  digest: string;
}

/** Written after a segment's file is complete: its presence proves the file is whole. */
interface Sidecar {
  key: string;
  startSec: number;
  endSec: number;
  bytes: number;
  durationSec: number;
}

/** An encoded segment shorter or longer than planned by more than this is not trusted. */
const SEGMENT_TOLERANCE_SEC = 0.25;

export function workAreaOf(tmpDir: string, videoId: string): string {
  return path.join(tmpDir, 'segments', videoId);
}

const SINGLE_PASS_SOURCE = 'single-source';
const SINGLE_PASS_KEY = 'single-source.json';

/** planTranscode → transcode hand-over of a fetched source too short to segment. */
async function keepForSinglePass(tmpDir: string, videoId: string, local: string, key: string): Promise<void> {
  const area = workAreaOf(tmpDir, videoId);
  await mkdir(area, { recursive: true });
  await rename(local, path.join(area, SINGLE_PASS_SOURCE));
  await writeFile(path.join(area, SINGLE_PASS_KEY), JSON.stringify({ key }));
}

/** The source planTranscode fetched for this very source and settings, if it is there. */
export async function prefetchedSource(tmpDir: string, videoId: string, key: string): Promise<string | undefined> {
  const area = workAreaOf(tmpDir, videoId);
  const raw = await readFile(path.join(area, SINGLE_PASS_KEY), 'utf8').catch(() => undefined);
  if (!raw || (JSON.parse(raw) as { key?: string }).key !== key) return undefined;
  const file = path.join(area, SINGLE_PASS_SOURCE);
  return (await stat(file).catch(() => undefined))?.isFile() ? file : undefined;
}

/** Done with the hand-over (published, or failed for good): the area goes, and `segments` once empty. */
export async function dropPrefetched(tmpDir: string, videoId: string): Promise<void> {
  const area = workAreaOf(tmpDir, videoId);
  await rm(area, { recursive: true, force: true });
  await rmdir(path.dirname(area)).catch(() => undefined);
}

export function createSegmentActivities(deps: SegmentDeps) {
  const { ffmpegPath, ffprobePath } = deps.ffmpeg;
  const steps = createMediaSteps(deps);
  const segmentSec = deps.segmentSec ?? DEFAULT_SEGMENT_SEC;
  const areaOf = (videoId: string) => workAreaOf(deps.tmpDir, videoId);
  const sourceOf = (videoId: string) => path.join(areaOf(videoId), 'source');

  /** The video's area, and the `segments` folder too once no video has one (a done video leaves nothing). */
  async function removeArea(videoId: string): Promise<void> {
    await rm(areaOf(videoId), { recursive: true, force: true });
    await rmdir(path.dirname(areaOf(videoId))).catch(() => undefined);
  }

  /** The stored plan; with `digest`, only the very plan the workflow was handed. */
  async function loadPlan(videoId: string, digest?: string): Promise<StoredPlan> {
    const raw = await readFile(path.join(areaOf(videoId), 'plan.json'), 'utf8').catch(() => undefined);
    // Gone: the work area was removed (a finished or failed run) or lives on another host's disk.
    if (!raw)
      throw failure(
        ErrorType.TranscodeFailed,
        `video ${videoId}: the segment plan is missing from the work area; the transcode must be planned again`,
      );
    const plan = JSON.parse(raw) as StoredPlan;
    // Re-planned since (another run of the same video): its segments are not the ones counted here.
    if (digest !== undefined && plan.digest !== digest)
      throw failure(
        ErrorType.TranscodeFailed,
        `video ${videoId}: the segment plan in the work area is not the one this run made; the transcode must be planned again`,
      );
    return plan;
  }

  /** Segment `index` of the stored plan, checked against the count the workflow holds. */
  function spanOf(plan: StoredPlan, input: EncodeSegmentInput): SegmentSpan {
    const span = plan.segments[input.index];
    if (!span || plan.segments.length !== input.count)
      throw failure(
        ErrorType.TranscodeFailed,
        `video ${input.videoId}: segment ${input.index + 1} of ${input.count} is not in the stored plan of ${plan.segments.length}`,
      );
    return span;
  }

  /** A finished output of an earlier delivery, if its sidecar and size still match. */
  async function finished(file: string, expect: Omit<Sidecar, 'bytes' | 'durationSec'>): Promise<Sidecar | undefined> {
    const raw = await readFile(`${file}.json`, 'utf8').catch(() => undefined);
    if (!raw) return undefined;
    const side = JSON.parse(raw) as Sidecar;
    if (side.key !== expect.key || side.startSec !== expect.startSec || side.endSec !== expect.endSec) return undefined;
    const size = (await stat(file).catch(() => undefined))?.size;
    return size === side.bytes ? side : undefined;
  }

  /** Temp name → rename, then the sidecar (temp → rename): a reader sees a whole file or none. */
  async function commit(tmp: string, file: string, side: Sidecar): Promise<void> {
    await rename(tmp, file);
    const sideTmp = `${file}.json.tmp-${process.pid}`;
    await writeFile(sideTmp, JSON.stringify(side)).catch(async (err: unknown) => {
      await rm(sideTmp, { force: true });
      rethrowDiskFull(err, 'writing a segment');
    });
    await rename(sideTmp, `${file}.json`);
  }

  /** Runs one encode with progress heartbeats; a failure is typed (disk full, or TranscodeFailed). */
  async function encode(
    args: string[],
    o: { videoId: string; lengthSec: number; what: string; tmp: string; signal: AbortSignal; onPercent: (p: number, sec: number) => void },
  ) {
    const res = await runTool(
      ffmpegPath,
      args,
      {
        signal: o.signal,
        stall: stallOf(deps),
        onStdoutLine: (line) => {
          const sec = parseProgressLine(line);
          if (sec !== undefined) o.onPercent(Math.min(99, Math.floor((sec / Math.max(o.lengthSec, 0.001)) * 100)), sec);
        },
      },
      `video ${o.videoId}`,
    );
    if (res.code !== 0) {
      await rm(o.tmp, { force: true });
      await throwIfDiskFull(path.dirname(o.tmp), o.what);
      throw failure(
        ErrorType.TranscodeFailed,
        `${o.what}: ffmpeg exited with ${res.code ?? res.signal}: ${scrub(lastErrorLine(res.stderrTail), areaOf(o.videoId))}`,
      );
    }
  }

  return {
    /**
     * Fetches and probes the source like `transcode`, keeps a copy in the work area, and plans
     * keyframe-aligned segments. Short videos (and videos already published) are not segmented:
     * the workflow then runs the single-pass `transcode`.
     */
    async planTranscode(input: PlanTranscodeInput): Promise<TranscodePlan> {
      const ctx = Context.current();
      const signal = ctx.cancellationSignal;
      const attempt = ctx.info.attempt;
      const { beat, stop } = startHeartbeats(ctx, { phase: 'fetch', percent: 0 });
      const area = areaOf(input.videoId);
      const fetchDir = path.join(area, `fetch.attempt-${attempt}.pid-${process.pid}`);
      const releases: (() => Promise<void>)[] = [];
      const single: TranscodePlan = { segmented: false, segmentSec, count: 0, planDigest: '', hasAudio: false };
      try {
        const key = await steps.outputKey(input.source);
        if (await steps.reusable(path.join(deps.mediaDir, input.videoId), key, signal)) return single;
        // A plan of another source or settings left here is worthless: start the area afresh.
        const old = await readFile(path.join(area, 'plan.json'), 'utf8').catch(() => undefined);
        if (old && (JSON.parse(old) as StoredPlan).key !== key) await rm(area, { recursive: true, force: true });
        await mkdir(fetchDir, { recursive: true }).catch((err: unknown) => rethrowDiskFull(err, 'creating the work area'));
        const { local, source, deinterlace } = await steps.prepareSource({
          videoId: input.videoId,
          source: input.source,
          workDir: fetchDir,
          signal,
          releases,
          beat,
        });
        if (!worthSegmenting(source.facts.durationSec, segmentSec)) {
          // A downloaded source is handed to the single pass, so a URL or upload is fetched once.
          if (input.source.kind !== 'file' && local.startsWith(fetchDir + path.sep))
            await keepForSinglePass(deps.tmpDir, input.videoId, local, key);
          else await removeArea(input.videoId);
          return single;
        }
        // A stable copy every segment activity (on any worker sharing the area) can open.
        const kept = `${sourceOf(input.videoId)}.tmp-${process.pid}`;
        if (local.startsWith(fetchDir + path.sep)) await rename(local, kept);
        else await copyFile(local, kept).catch((err: unknown) => rethrowDiskFull(err, 'keeping the source'));
        await rename(kept, sourceOf(input.videoId));

        beat({ phase: 'plan', percent: 0 });
        const probed = await runTool(
          ffprobePath,
          keyframeProbeArgs(sourceOf(input.videoId), source.plan.videoIndex),
          { signal, stall: PROBE_LIMIT },
          'the source',
        );
        const keyframes = probed.code === 0 ? parseKeyframePackets(probed.stdout) : [];
        const segments = planSegments({ durationSec: source.facts.durationSec, keyframes, targetSec: segmentSec });
        const plan: StoredPlan = {
          key,
          facts: source.facts,
          videoIndex: source.plan.videoIndex,
          audioIndex: source.plan.audioIndex,
          deinterlace,
          segments,
          digest: planDigest(key, segments),
        };
        const planTmp = path.join(area, `plan.json.tmp-${process.pid}`);
        await writeFile(planTmp, JSON.stringify(plan)).catch((err: unknown) => rethrowDiskFull(err, 'writing the plan'));
        await rename(planTmp, path.join(area, 'plan.json'));
        ctx.log.info('planned a segmented transcode', {
          videoId: input.videoId,
          segments: segments.length,
          keyframes: keyframes.length,
          segmentSec,
          longestSec: Math.max(...segments.map((s) => s.endSec - s.startSec)),
        });
        return {
          segmented: true,
          segmentSec,
          count: segments.length,
          planDigest: plan.digest,
          facts: source.facts,
          hasAudio: source.plan.audioIndex !== null,
        };
      } finally {
        stop();
        for (const release of releases) await release().catch(() => undefined);
        await rm(fetchDir, { recursive: true, force: true });
      }
    },

    /**
     * One segment of the stored plan, video only, keyframe on its first frame; a verified earlier
     * output is returned as is.
     */
    async encodeSegment(input: EncodeSegmentInput): Promise<EncodedSegment> {
      const ctx = Context.current();
      const plan = await loadPlan(input.videoId, input.planDigest);
      const { startSec, endSec } = spanOf(plan, input);
      const file = path.join(areaOf(input.videoId), `seg-${input.index}.mp4`);
      const expect = { key: plan.key, startSec, endSec };
      const earlier = await finished(file, expect);
      if (earlier) {
        ctx.log.info('segment already encoded: reused', { videoId: input.videoId, index: input.index });
        return { index: input.index, durationSec: earlier.durationSec, reused: true };
      }
      const lengthSec = endSec - startSec;
      const { beat, stop } = startHeartbeats(ctx, { phase: 'segment', percent: 0, encodedSec: 0 });
      const tmp = `${file}.tmp-${ctx.info.attempt}-${process.pid}`;
      try {
        await encode(
          segmentArgs({
            input: sourceOf(input.videoId),
            output: tmp,
            startSec,
            endSec,
            preset: deps.ffmpeg.preset,
            threads: deps.ffmpeg.threads,
            maxHeight: steps.maxHeight,
            videoIndex: plan.videoIndex,
            deinterlace: plan.deinterlace,
          }),
          {
            videoId: input.videoId,
            lengthSec,
            what: `segment ${input.index + 1} of ${input.count}`,
            tmp,
            signal: ctx.cancellationSignal,
            onPercent: (percent, sec) => beat({ phase: 'segment', percent, encodedSec: Math.round((startSec + sec) * 10) / 10 }),
          },
        );
        // An empty or unreadable segment probes as nothing: zero seconds decoded.
        const probed = await steps.probe(tmp, ctx.cancellationSignal, `segment ${input.index + 1}`).catch(() => undefined);
        const decodedSec = probed?.facts.durationSec ?? 0;
        // The last segment ends at the container's duration, which a longer audio track can stretch
        // past the video: it only has to hold frames (the join's duration check covers the whole).
        const last = input.index === input.count - 1;
        if (last ? decodedSec <= 0 : decodedSec < lengthSec - SEGMENT_TOLERANCE_SEC) {
          // Like the single pass: ffmpeg exits 0 on a file cut short whose header claims the full length.
          throw failure(
            ErrorType.TruncatedMedia,
            `the source is truncated: segment ${input.index + 1} of ${input.count} (from ${startSec.toFixed(1)} s) decoded ${decodedSec} s of ${lengthSec.toFixed(1)} s — upload the complete file`,
          );
        }
        if (!probed || decodedSec > lengthSec + SEGMENT_TOLERANCE_SEC) {
          throw failure(
            ErrorType.TranscodeFailed,
            `segment ${input.index + 1} of video ${input.videoId} is ${decodedSec} s long, planned ${lengthSec.toFixed(3)} s`,
          );
        }
        const bytes = (await stat(tmp)).size;
        await commit(tmp, file, { ...expect, bytes, durationSec: decodedSec });
        beat({ phase: 'segment', percent: 100 });
        ctx.log.info('encoded segment', {
          videoId: input.videoId,
          index: input.index,
          count: input.count,
          durationSec: decodedSec,
        });
        return { index: input.index, durationSec: decodedSec, reused: false };
      } finally {
        stop();
        await rm(tmp, { force: true });
      }
    },

    /** The whole file's audio, once (per-segment AAC would put priming gaps at every join). */
    async encodeAudio(input: { videoId: string }): Promise<{ durationSec: number; reused: boolean }> {
      const ctx = Context.current();
      const plan = await loadPlan(input.videoId);
      if (plan.audioIndex === null) throw failure(ErrorType.TranscodeFailed, `video ${input.videoId} has no audio to encode`);
      const file = path.join(areaOf(input.videoId), 'audio.m4a');
      const expect = { key: plan.key, startSec: 0, endSec: plan.facts.durationSec };
      const earlier = await finished(file, expect);
      if (earlier) return { durationSec: earlier.durationSec, reused: true };
      const { beat, stop } = startHeartbeats(ctx, { phase: 'audio', percent: 0 });
      const tmp = `${file}.tmp-${ctx.info.attempt}-${process.pid}`;
      try {
        await encode(
          audioArgs({ input: sourceOf(input.videoId), output: tmp, audioIndex: plan.audioIndex, threads: deps.ffmpeg.threads }),
          {
            videoId: input.videoId,
            lengthSec: plan.facts.durationSec,
            what: 'the audio',
            tmp,
            signal: ctx.cancellationSignal,
            onPercent: (percent) => beat({ phase: 'audio', percent }),
          },
        );
        const durationSec =
          (await steps.probe(tmp, ctx.cancellationSignal, 'the audio').catch(() => undefined))?.facts.durationSec ?? plan.facts.durationSec;
        await commit(tmp, file, { ...expect, bytes: (await stat(tmp)).size, durationSec });
        return { durationSec, reused: false };
      } finally {
        stop();
        await rm(tmp, { force: true });
      }
    },

    /**
     * Concatenates the segments without re-encoding, muxes the audio in (faststart), then the
     * same verify → thumbnail → publish → manifest path as `transcode`. The work area is removed
     * once the output is published.
     */
    async joinSegments(input: JoinSegmentsInput): Promise<TranscodeOutput> {
      const ctx = Context.current();
      const signal = ctx.cancellationSignal;
      const attempt = ctx.info.attempt;
      const area = areaOf(input.videoId);
      const outDir = path.join(deps.mediaDir, input.videoId);
      const { beat, stop } = startHeartbeats(ctx, { phase: 'join', percent: 0 });
      const joinDir = path.join(area, `join.attempt-${attempt}.pid-${process.pid}`);
      try {
        const plan = await loadPlan(input.videoId, input.planDigest).catch(async (err: unknown) => {
          // Published and cleaned up by an attempt whose completion was lost: find the manifest.
          const key = await readFile(path.join(outDir, 'manifest.json'), 'utf8')
            .then((raw) => (JSON.parse(raw) as { key: string }).key)
            .catch(() => undefined);
          const done = key ? await steps.reusable(outDir, key, signal) : undefined;
          if (done) return { done };
          throw err;
        });
        if ('done' in plan) return await steps.toObjectStorage(input.videoId, plan.done);
        const published = await steps.reusable(outDir, plan.key, signal);
        if (published) return await steps.toObjectStorage(input.videoId, published);
        if (plan.segments.length !== input.count)
          throw failure(
            ErrorType.TranscodeFailed,
            `video ${input.videoId}: the stored plan has ${plan.segments.length} segments, this run encoded ${input.count}`,
          );

        const files: string[] = [];
        for (const seg of plan.segments) {
          const file = path.join(area, `seg-${seg.index}.mp4`);
          if (!(await finished(file, { key: plan.key, startSec: seg.startSec, endSec: seg.endSec }))) {
            throw failure(
              ErrorType.TranscodeFailed,
              `video ${input.videoId}: segment ${seg.index + 1} of ${plan.segments.length} is missing or incomplete`,
            );
          }
          files.push(file);
        }
        const audio = input.hasAudio ? path.join(area, 'audio.m4a') : undefined;
        if (audio && !(await finished(audio, { key: plan.key, startSec: 0, endSec: plan.facts.durationSec }))) {
          throw failure(ErrorType.TranscodeFailed, `video ${input.videoId}: the encoded audio is missing or incomplete`);
        }
        await mkdir(joinDir, { recursive: true }).catch((err: unknown) => rethrowDiskFull(err, 'joining'));
        const list = path.join(joinDir, 'segments.txt');
        await writeFile(list, concatList(files));
        const renditionTmp = path.join(joinDir, 'rendition.mp4');
        await encode(joinArgs({ list, audio, output: renditionTmp }), {
          videoId: input.videoId,
          lengthSec: plan.facts.durationSec,
          what: 'joining the segments',
          tmp: renditionTmp,
          signal,
          onPercent: (percent) => beat({ phase: 'join', percent }),
        });
        const output = await steps.finishRendition({
          videoId: input.videoId,
          renditionTmp,
          workDir: joinDir,
          sourceFacts: plan.facts,
          key: plan.key,
          attempt,
          signal,
          beat,
        });
        beat({ phase: 'done', percent: 100 });
        ctx.log.info('transcoded', {
          videoId: input.videoId,
          source: plan.facts,
          rendition: output.rendition,
          segments: plan.segments.length,
          segmented: true,
        });
        await removeArea(input.videoId);
        return await steps.toObjectStorage(input.videoId, output);
      } finally {
        stop();
        await rm(joinDir, { recursive: true, force: true });
      }
    },

    /** The failure path: a run that ends without joining leaves no segment files behind. */
    async discardSegments(input: { videoId: string }): Promise<void> {
      await removeArea(input.videoId);
    },
  };
}

export type SegmentActivities = ReturnType<typeof createSegmentActivities>;
