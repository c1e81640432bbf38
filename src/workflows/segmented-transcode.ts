/**
 * The media step of a video as a segmented, checkpointed, fanned-out transcode.
 *
 * planTranscode (media) → encodeSegment × N (`<media>-segments`, at most `maxParallel` in flight
 * for this video) with encodeAudio (media) alongside → joinSegments (media) → packageHls (media,
 * unless `hls: false`). Short videos take the single-pass `transcode` and then the same HLS step.
 *
 * Checkpoint = the history: each finished segment is an ActivityTaskCompleted event, so a worker
 * killed mid-video costs only its one in-flight segment (retried on any worker from its start);
 * a redelivered segment whose file is already complete returns without encoding. History stays
 * small whatever the video's length: the plan's spans stay in the work area and the
 * workflow holds only their count and digest, and a plan has at most MAX_SEGMENTS segments
 * (src/media/segment-plan.ts), ≤ 6 events each (docs/media.md has the arithmetic).
 *
 * Deterministic: no I/O, clock or config; activities are imported as types only.
 */
import { CancellationScope } from '@temporalio/workflow';
import type { MediaActivities } from '../activities/media';
import type { HlsActivities } from '../activities/media/hls';
import type { SegmentActivities } from '../activities/media/segments';
import type { TaskQueues } from '../pipeline/catalogue';
import { activity, type ActivityTuning } from './activity-options';
import type { PipelineState, TranscodeOutput, TranscodePlan, VideoSource } from './contracts';
import { publishState } from './status-feed';

export const DEFAULT_MAX_PARALLEL_SEGMENTS = 4;

export interface SegmentedTranscodeOptions {
  videoId: string;
  source: VideoSource;
  queues: TaskQueues;
  /** The media heartbeat timeout from the starter's config. */
  tuning: ActivityTuning;
  maxParallel?: number;
  /** False skips the HLS ladder (default on). */
  hls?: boolean;
  /** Progress shown by the status query: segments finished of the planned count. */
  state: PipelineState;
}

export async function segmentedTranscode(opts: SegmentedTranscodeOptions): Promise<TranscodeOutput> {
  const { videoId, queues, tuning } = opts;
  type Media = MediaActivities & SegmentActivities & HlsActivities;
  const planTranscode = activity<Media, 'planTranscode'>('planTranscode', queues, tuning);
  const transcode = activity<Media, 'transcode'>('transcode', queues, tuning);
  const packageHls = activity<Media, 'packageHls'>('packageHls', queues, tuning);

  const plan = await planTranscode({ videoId, source: opts.source });
  let out: TranscodeOutput = plan.segmented ? await encodeSegments(plan, opts) : await transcode({ videoId, source: opts.source });
  if (opts.hls !== false) {
    out = { ...out, hls: await packageHls({ videoId, renditionPath: out.renditionPath, segmentSec: plan.segmentSec }) };
  }
  return out;
}

/**
 * The segments of a planned video: at most `maxParallel` in flight for this video, its audio
 * alongside, then the join (which verifies every segment of the stored plan). Any failure, an
 * operator's cancel included, removes the work area once every encode has stopped.
 */
export async function encodeSegments(
  plan: TranscodePlan,
  opts: Pick<SegmentedTranscodeOptions, 'videoId' | 'queues' | 'tuning' | 'maxParallel' | 'state'>,
): Promise<TranscodeOutput> {
  const { videoId, queues, tuning, state } = opts;
  type Media = SegmentActivities;
  const encodeSegment = activity<Media, 'encodeSegment'>('encodeSegment', queues, tuning);
  const encodeAudio = activity<Media, 'encodeAudio'>('encodeAudio', queues, tuning);
  const joinSegments = activity<Media, 'joinSegments'>('joinSegments', queues, tuning);
  const discardSegments = activity<Media, 'discardSegments'>('discardSegments', queues, tuning);
  try {
    // Only the count and the plan's digest are here: the spans stay in the work area.
    const { count, planDigest } = plan;
    state.segments = { done: 0, count };
    publishState(state);
    let next = 0;
    // A small pool of lanes pulling the next segment: at most maxParallel in flight for this
    // video, so one long upload cannot fill every worker's segment slot.
    const lane = async () => {
      while (next < count) {
        const index = next++;
        await encodeSegment({ videoId, index, count, planDigest });
        state.segments = { done: (state.segments?.done ?? 0) + 1, count };
        publishState(state);
      }
    };
    const lanes = Math.max(1, Math.min(opts.maxParallel ?? DEFAULT_MAX_PARALLEL_SEGMENTS, count));
    // One scope for the video's encodes: the first failure (or an operator's cancel) cancels the
    // others, and the step goes on only once every one of them has stopped its ffmpeg — the
    // work area is discarded and the run closes after them, never under a still-writing encode.
    const encodes = new CancellationScope();
    const running: Promise<unknown>[] = [];
    try {
      await encodes.run(() => {
        running.push(...Array.from({ length: lanes }, lane));
        if (plan.hasAudio) running.push(encodeAudio({ videoId }));
        return Promise.all(running);
      });
    } catch (err) {
      encodes.cancel();
      await CancellationScope.nonCancellable(() => Promise.allSettled(running));
      throw err;
    }
    // The join finds and verifies every segment of the stored plan itself.
    return await joinSegments({ videoId, count, planDigest, hasAudio: plan.hasAudio });
  } catch (err) {
    // Every failure path removes the work area (a run cancelled by an operator included).
    await CancellationScope.nonCancellable(() => discardSegments({ videoId })).catch(() => undefined);
    throw err;
  }
}
