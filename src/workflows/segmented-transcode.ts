/**
 * Issue 15: the media step of a long video as a segmented, checkpointed, fanned-out transcode.
 *
 * planTranscode (media) → encodeSegment × N (`<media>-segments`, at most `maxParallel` in flight
 * for this video) with encodeAudio (media) alongside → joinSegments (media) → packageHls (media,
 * unless `hls: false`). Short videos take the single-pass `transcode` and then the same HLS step.
 *
 * Checkpoint = the history: each finished segment is an ActivityTaskCompleted event, so a worker
 * killed mid-video costs only its one in-flight segment (retried on any worker from its start);
 * a redelivered segment whose file is already complete returns without encoding.
 *
 * History size: per segment ActivityTaskScheduled + Started + Completed (3 events) plus at most
 * one workflow task (Scheduled/Started/Completed, 3 more) per completion — ≤ 6 events per segment,
 * fewer when completions share a workflow task. At the default 10 s segments that is 360 segments
 * and ≤ ~2,200 events per hour of video (≤ ~4,400 for a 2-hour video, far below the 50k limit),
 * each payload a few hundred bytes (ids, times — no paths of media bytes).
 *
 * Deterministic: no I/O, clock or config; activities are imported as types only.
 */
import { CancellationScope, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { MediaActivities } from '../activities/media';
import type { SegmentActivities } from '../activities/media/segments';
import { segmentQueueOf } from '../queues';
import type { EncodedSegment, HlsOutput, PackageHlsInput, PipelineState, TranscodeOutput, VideoSource } from './contracts';

/** Part B's activity (src/activities/media/hls.ts), typed here so this branch compiles without it. */
interface HlsActivities {
  packageHls(input: PackageHlsInput): Promise<HlsOutput>;
}

export const DEFAULT_MAX_PARALLEL_SEGMENTS = 4;

export interface SegmentedTranscodeOptions {
  videoId: string;
  source: VideoSource;
  mediaQueue: string;
  /** The media step's options (heartbeat timeout, retry policy): segments reuse them. */
  mediaOptions: ActivityOptions;
  maxParallel?: number;
  /** False skips the HLS ladder (default on). */
  hls?: boolean;
  /** Progress shown by the status query: segments finished of the planned count. */
  state: PipelineState;
}

export async function segmentedTranscode(o: SegmentedTranscodeOptions): Promise<TranscodeOutput> {
  const media = proxyActivities<MediaActivities & SegmentActivities & HlsActivities>(o.mediaOptions);
  const segmentWork = proxyActivities<SegmentActivities>({
    ...o.mediaOptions,
    taskQueue: segmentQueueOf(o.mediaQueue),
    startToCloseTimeout: '30m',
    // A segment is small: three attempts, then the video fails (and is dead-lettered) rather than looping.
    retry: { ...o.mediaOptions.retry, maximumAttempts: 3 },
  });

  const plan = await media.planTranscode({ videoId: o.videoId, source: o.source });
  let out: TranscodeOutput;
  if (!plan.segmented) {
    out = await media.transcode({ videoId: o.videoId, source: o.source });
  } else {
    try {
      const count = plan.segments.length;
      o.state.segments = { done: 0, count };
      const results: EncodedSegment[] = new Array<EncodedSegment>(count);
      let next = 0;
      // A small pool of lanes pulling the next segment: at most maxParallel in flight for this
      // video, so one long upload cannot fill every worker's segment slot.
      const lane = async () => {
        while (next < count) {
          const span = plan.segments[next++];
          if (!span) break;
          results[span.index] = await segmentWork.encodeSegment({ videoId: o.videoId, count, ...span });
          o.state.segments = { done: (o.state.segments?.done ?? 0) + 1, count };
        }
      };
      const lanes = Math.max(1, Math.min(o.maxParallel ?? DEFAULT_MAX_PARALLEL_SEGMENTS, count));
      // One scope for the video's encodes: the first failure cancels the others (their ffmpeg is
      // killed) instead of letting them burn CPU for a video that has already failed.
      const encodes = new CancellationScope();
      try {
        await encodes.run(() =>
          Promise.all([...Array.from({ length: lanes }, lane), plan.hasAudio ? media.encodeAudio({ videoId: o.videoId }) : undefined]),
        );
      } catch (err) {
        encodes.cancel();
        throw err;
      }
      out = await media.joinSegments({ videoId: o.videoId, segments: results, hasAudio: plan.hasAudio });
    } catch (err) {
      // Every failure path removes the work area (a run cancelled by an operator included).
      await CancellationScope.nonCancellable(() => media.discardSegments({ videoId: o.videoId })).catch(() => undefined);
      throw err;
    }
  }
  if (o.hls !== false) {
    out = { ...out, hls: await media.packageHls({ videoId: o.videoId, renditionPath: out.renditionPath, segmentSec: plan.segmentSec }) };
  }
  return out;
}
