/**
 * Segmented, checkpointed transcode. A long video is cut on keyframes into segments that are
 * encoded one activity each (on the `<media>-segments` queue, so several media workers share one
 * video), its audio once, then joined without re-encoding. What is done is durable twice over:
 * the workflow history records each finished segment, and each segment's object + sidecar in
 * object storage (work-store.ts) lets a redelivered activity, on any media host, return without
 * encoding. The plan they follow is made by planTranscode (plan-transcode.ts).
 */
import { Context } from '@temporalio/activity';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStorage } from '../../adapters/storage/port';
import { ErrorType, failure } from '../../errors';
import type { Sidecar, StoredPlan } from '../../media/documents';
import { audioArgs, concatList, joinArgs, parseProgressLine, segmentArgs } from '../../media/ffmpeg-args';
import { lastErrorLine } from '../../media/run-process';
import { scratchName } from '../../media/work-area';
import { createWorkStore } from '../../media/work-store';
import type { EncodedSegment, EncodeSegmentInput, JoinSegmentsInput, SegmentSpan, TranscodeOutput } from '../../workflows/contracts';
import { rethrowDiskFull, scrub, throwIfDiskFull } from './media-failures';
import { createPlanTranscodeActivity } from './plan-transcode';
import { createRenditionSteps, type MediaDeps } from './rendition';
import { runTool, stallOf, startHeartbeats } from './run-tool';

export interface SegmentDeps extends MediaDeps {
  /** Target segment length (config MEDIA_SEGMENT_SEC, default 10 s). */
  segmentSec?: number;
  /** Where the plan, the source copy, segments and audio cross from one activity (and host) to the next. */
  storage: ObjectStorage;
}

/** An encoded segment shorter or longer than planned by more than this is not trusted. */
const SEGMENT_TOLERANCE_SEC = 0.25;

/** One ffmpeg encode of the segmented path: what it is for, and where its progress goes. */
interface EncodeJob {
  videoId: string;
  lengthSec: number;
  what: string;
  /** Its output, removed when the encode fails. */
  tmp: string;
  signal: AbortSignal;
  onPercent: (percent: number, sec: number) => void;
}

export function createSegmentActivities(deps: SegmentDeps) {
  const { ffmpegPath } = deps.ffmpeg;
  const steps = createRenditionSteps(deps);
  const work = createWorkStore(deps);
  const areaOf = work.areaOf;

  /** The stored plan; with `digest`, only the very plan the workflow was handed. */
  async function loadPlan(videoId: string, digest?: string): Promise<StoredPlan> {
    const plan = await work.readPlan(videoId, digest);
    // Gone: the run's intermediates were removed (a finished or failed run); or damaged: either
    // way nothing stored can be trusted to it.
    if (!plan)
      throw failure(
        ErrorType.TranscodeFailed,
        `video ${videoId}: the segment plan is missing from the work store; the transcode must be planned again`,
      );
    // Re-planned since (another run of the same video): its segments are not the ones counted here.
    if (digest !== undefined && plan.digest !== digest)
      throw failure(
        ErrorType.TranscodeFailed,
        `video ${videoId}: the stored segment plan is not the one this run made; the transcode must be planned again`,
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

  /** The plan's source copy, from this host's cache or fetched from the store. */
  async function sourceOf(videoId: string, plan: StoredPlan, signal: AbortSignal): Promise<string> {
    const file = await work.sourceFile(videoId, plan, signal).catch((err: unknown) => rethrowDiskFull(err, 'fetching the source copy'));
    if (!file)
      throw failure(
        ErrorType.TranscodeFailed,
        `video ${videoId}: the source copy is missing from the work store; the transcode must be planned again`,
      );
    return file;
  }

  /** A published segment or audio track as a local file in `dir`; gone from the store is typed. */
  async function outputOf(videoId: string, side: Sidecar, dir: string, what: string, signal: AbortSignal): Promise<string> {
    const file = await work.outputFile(side, dir, signal).catch((err: unknown) => rethrowDiskFull(err, 'fetching the segments'));
    if (!file) throw failure(ErrorType.TranscodeFailed, `video ${videoId}: ${what} is missing or incomplete`);
    return file;
  }

  /** Runs one encode with progress heartbeats; a failure is typed (disk full, or TranscodeFailed). */
  async function encode(args: string[], job: EncodeJob) {
    const res = await runTool(
      ffmpegPath,
      args,
      {
        signal: job.signal,
        stall: stallOf(deps),
        onStdoutLine: (line) => {
          const sec = parseProgressLine(line);
          if (sec !== undefined) job.onPercent(Math.min(99, Math.floor((sec / Math.max(job.lengthSec, 0.001)) * 100)), sec);
        },
      },
      `video ${job.videoId}`,
    );
    if (res.code !== 0) {
      await rm(job.tmp, { force: true });
      await throwIfDiskFull(path.dirname(job.tmp), job.what);
      throw failure(
        ErrorType.TranscodeFailed,
        `${job.what}: ffmpeg exited with ${res.code ?? res.signal}: ${scrub(lastErrorLine(res.stderrTail), areaOf(job.videoId))}`,
      );
    }
  }

  return {
    ...createPlanTranscodeActivity(deps),

    /**
     * One segment of the stored plan, video only, keyframe on its first frame; a verified earlier
     * output is returned as is.
     */
    async encodeSegment(input: EncodeSegmentInput): Promise<EncodedSegment> {
      const ctx = Context.current();
      const plan = await loadPlan(input.videoId, input.planDigest);
      const { startSec, endSec } = spanOf(plan, input);
      const name = `seg-${input.index}`;
      const expect = { key: plan.key, startSec, endSec };
      const earlier = await work.finishedOutput(input.videoId, name, expect);
      if (earlier) {
        ctx.log.info('segment already encoded: reused', { videoId: input.videoId, index: input.index });
        return { index: input.index, durationSec: earlier.durationSec, reused: true };
      }
      const lengthSec = endSec - startSec;
      const { beat, stop } = startHeartbeats(ctx, { phase: 'segment', percent: 0, encodedSec: 0 });
      const unlease = await work.lease(input.videoId);
      const tmp = scratchName(path.join(work.cacheOf(input.videoId), `${name}.mp4`), ctx.info.attempt);
      try {
        const source = await sourceOf(input.videoId, plan, ctx.cancellationSignal);
        await encode(
          segmentArgs({
            input: source,
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
        await work.publishOutput(input.videoId, name, '.mp4', tmp, { ...expect, durationSec: decodedSec });
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
        await unlease();
      }
    },

    /** The whole file's audio, once (per-segment AAC would put priming gaps at every join). */
    async encodeAudio(input: { videoId: string }): Promise<{ durationSec: number; reused: boolean }> {
      const ctx = Context.current();
      const plan = await loadPlan(input.videoId);
      if (plan.audioIndex === null) throw failure(ErrorType.TranscodeFailed, `video ${input.videoId} has no audio to encode`);
      const expect = { key: plan.key, startSec: 0, endSec: plan.facts.durationSec };
      const earlier = await work.finishedOutput(input.videoId, 'audio', expect);
      if (earlier) return { durationSec: earlier.durationSec, reused: true };
      const { beat, stop } = startHeartbeats(ctx, { phase: 'audio', percent: 0 });
      const unlease = await work.lease(input.videoId);
      const tmp = scratchName(path.join(work.cacheOf(input.videoId), 'audio.m4a'), ctx.info.attempt);
      try {
        const source = await sourceOf(input.videoId, plan, ctx.cancellationSignal);
        await encode(audioArgs({ input: source, output: tmp, audioIndex: plan.audioIndex, threads: deps.ffmpeg.threads }), {
          videoId: input.videoId,
          lengthSec: plan.facts.durationSec,
          what: 'the audio',
          tmp,
          signal: ctx.cancellationSignal,
          onPercent: (percent) => beat({ phase: 'audio', percent }),
        });
        const durationSec =
          (await steps.probe(tmp, ctx.cancellationSignal, 'the audio').catch(() => undefined))?.facts.durationSec ?? plan.facts.durationSec;
        await work.publishOutput(input.videoId, 'audio', '.m4a', tmp, { ...expect, durationSec });
        return { durationSec, reused: false };
      } finally {
        stop();
        await rm(tmp, { force: true });
        await unlease();
      }
    },

    /**
     * Concatenates the segments without re-encoding, muxes the audio in (faststart), then the
     * same verify → thumbnail → publish → manifest path as `transcode`. The segments and audio
     * are fetched from the store into this attempt's scratch; the video's work objects and area
     * are removed once the output is published.
     */
    async joinSegments(input: JoinSegmentsInput): Promise<TranscodeOutput> {
      const ctx = Context.current();
      const signal = ctx.cancellationSignal;
      const attempt = ctx.info.attempt;
      const area = areaOf(input.videoId);
      const outDir = path.join(deps.mediaDir, input.videoId);
      const { beat, stop } = startHeartbeats(ctx, { phase: 'join', percent: 0 });
      const joinDir = path.join(area, scratchName('join', attempt));
      const unlease = await work.lease(input.videoId);
      try {
        const plan = await loadPlan(input.videoId, input.planDigest).catch(async (err: unknown) => {
          // Published and cleaned up by an attempt whose completion was lost: find the manifest.
          const key = (await steps.publishedManifest(input.videoId))?.key;
          const done = key ? await steps.reusable(outDir, key, signal) : undefined;
          if (done) return { done };
          throw err;
        });
        if ('done' in plan) return await steps.toObjectStorage(input.videoId, plan.done);
        const published = await steps.reusable(outDir, plan.key, signal);
        if (published) {
          // Published by an attempt that stopped before removing the work: finish its clean-up.
          const stored = await steps.toObjectStorage(input.videoId, published);
          await work.remove(input.videoId);
          return stored;
        }
        if (plan.segments.length !== input.count)
          throw failure(
            ErrorType.TranscodeFailed,
            `video ${input.videoId}: the stored plan has ${plan.segments.length} segments, this run encoded ${input.count}`,
          );

        const sides: Sidecar[] = [];
        for (const seg of plan.segments) {
          const side = await work.finishedOutput(input.videoId, `seg-${seg.index}`, {
            key: plan.key,
            startSec: seg.startSec,
            endSec: seg.endSec,
          });
          if (!side) {
            throw failure(
              ErrorType.TranscodeFailed,
              `video ${input.videoId}: segment ${seg.index + 1} of ${plan.segments.length} is missing or incomplete`,
            );
          }
          sides.push(side);
        }
        const audioSide = input.hasAudio
          ? await work.finishedOutput(input.videoId, 'audio', { key: plan.key, startSec: 0, endSec: plan.facts.durationSec })
          : undefined;
        if (input.hasAudio && !audioSide) {
          throw failure(ErrorType.TranscodeFailed, `video ${input.videoId}: the encoded audio is missing or incomplete`);
        }
        await mkdir(joinDir, { recursive: true }).catch((err: unknown) => rethrowDiskFull(err, 'joining'));
        const files: string[] = [];
        for (const [i, side] of sides.entries())
          files.push(await outputOf(input.videoId, side, joinDir, `segment ${i + 1} of ${sides.length}`, signal));
        const audio = audioSide && (await outputOf(input.videoId, audioSide, joinDir, 'the encoded audio', signal));
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
        // Stored before the work goes: on S3 the output waits in the join dir, inside the work area.
        const stored = await steps.toObjectStorage(input.videoId, output);
        await work.remove(input.videoId);
        return stored;
      } finally {
        stop();
        await rm(joinDir, { recursive: true, force: true });
        await unlease();
      }
    },

    /** The failure path: a run that ends without joining leaves no work objects and no local area behind. */
    async discardSegments(input: { videoId: string }): Promise<void> {
      await work.remove(input.videoId);
    },
  };
}

export type SegmentActivities = ReturnType<typeof createSegmentActivities>;
