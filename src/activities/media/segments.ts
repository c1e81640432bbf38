/**
 * Segmented, checkpointed transcode. A long video is cut on keyframes into segments that are
 * encoded one activity each (on the `<media>-segments` queue, so several media workers share one
 * video), its audio once, then joined without re-encoding. What is done is durable twice over:
 * the workflow history records each finished segment, and each segment's file + sidecar in the
 * video's segment work area (segment-area.ts) lets a redelivered activity return without encoding.
 * The plan they follow is made by planTranscode (plan-transcode.ts).
 */
import { Context } from '@temporalio/activity';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorType, failure } from '../../errors';
import type { Sidecar, StoredPlan } from '../../media/documents';
import { audioArgs, concatList, joinArgs, parseProgressLine, segmentArgs } from '../../media/ffmpeg-args';
import { lastErrorLine } from '../../media/run-process';
import {
  areaAudioOf,
  areaSegmentOf,
  areaSourceOf,
  commitOutput,
  finishedOutput,
  readPlan,
  removeSegmentArea,
  segmentAreaOf,
} from '../../media/segment-area';
import { scratchName } from '../../media/work-area';
import type { EncodedSegment, EncodeSegmentInput, JoinSegmentsInput, SegmentSpan, TranscodeOutput } from '../../workflows/contracts';
import { rethrowDiskFull, scrub, throwIfDiskFull } from './media-failures';
import { createPlanTranscodeActivity } from './plan-transcode';
import { createRenditionSteps, readManifest, type MediaDeps } from './rendition';
import { runTool, stallOf, startHeartbeats } from './run-tool';

export interface SegmentDeps extends MediaDeps {
  /** Target segment length (config MEDIA_SEGMENT_SEC, default 10 s). */
  segmentSec?: number;
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
  const areaOf = (videoId: string) => segmentAreaOf(deps.tmpDir, videoId);
  const sourceOf = (videoId: string) => areaSourceOf(areaOf(videoId));
  const removeArea = (videoId: string) => removeSegmentArea(deps.tmpDir, videoId);

  /** The stored plan; with `digest`, only the very plan the workflow was handed. */
  async function loadPlan(videoId: string, digest?: string): Promise<StoredPlan> {
    const plan = await readPlan(areaOf(videoId));
    // Gone: the work area was removed (a finished or failed run) or lives on another host's disk;
    // or damaged (a crash, a full disk): either way nothing in the area can be trusted to it.
    if (!plan)
      throw failure(
        ErrorType.TranscodeFailed,
        `video ${videoId}: the segment plan is missing from the work area; the transcode must be planned again`,
      );
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

  /** The encoder's output renamed into place, then its sidecar; a full disk is typed. */
  async function commit(tmp: string, file: string, side: Sidecar): Promise<void> {
    await commitOutput(tmp, file, side).catch((err: unknown) => rethrowDiskFull(err, 'writing a segment'));
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
      const file = areaSegmentOf(areaOf(input.videoId), input.index);
      const expect = { key: plan.key, startSec, endSec };
      const earlier = await finishedOutput(file, expect);
      if (earlier) {
        ctx.log.info('segment already encoded: reused', { videoId: input.videoId, index: input.index });
        return { index: input.index, durationSec: earlier.durationSec, reused: true };
      }
      const lengthSec = endSec - startSec;
      const { beat, stop } = startHeartbeats(ctx, { phase: 'segment', percent: 0, encodedSec: 0 });
      const tmp = scratchName(file, ctx.info.attempt);
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
      const file = areaAudioOf(areaOf(input.videoId));
      const expect = { key: plan.key, startSec: 0, endSec: plan.facts.durationSec };
      const earlier = await finishedOutput(file, expect);
      if (earlier) return { durationSec: earlier.durationSec, reused: true };
      const { beat, stop } = startHeartbeats(ctx, { phase: 'audio', percent: 0 });
      const tmp = scratchName(file, ctx.info.attempt);
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
      const joinDir = path.join(area, scratchName('join', attempt));
      try {
        const plan = await loadPlan(input.videoId, input.planDigest).catch(async (err: unknown) => {
          // Published and cleaned up by an attempt whose completion was lost: find the manifest.
          const key = (await readManifest(outDir))?.key;
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
          const file = areaSegmentOf(area, seg.index);
          if (!(await finishedOutput(file, { key: plan.key, startSec: seg.startSec, endSec: seg.endSec }))) {
            throw failure(
              ErrorType.TranscodeFailed,
              `video ${input.videoId}: segment ${seg.index + 1} of ${plan.segments.length} is missing or incomplete`,
            );
          }
          files.push(file);
        }
        const audio = input.hasAudio ? areaAudioOf(area) : undefined;
        if (audio && !(await finishedOutput(audio, { key: plan.key, startSec: 0, endSec: plan.facts.durationSec }))) {
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
