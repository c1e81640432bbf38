/**
 * Pure: where a long video is cut for a segmented transcode. Each segment is
 * re-encoded with an accurate seek, so any cut point is correct; a cut on a source keyframe
 * only spares the decoder the frames between the previous keyframe and the cut.
 */
import { createHash } from 'node:crypto';
import type { SegmentSpan } from '../workflows/contracts';

export const DEFAULT_SEGMENT_SEC = 10;

/**
 * At most this many segments per video, whatever its length. Each segment costs the
 * run's history ≤ 6 events (scheduled/started/completed + at most one workflow task per
 * completion), so the transcode stays under ~4,400 events and leaves the rest of the ~10k a run
 * should stay under to the other steps. Up to 2 h a video keeps the configured length; a 4-hour
 * one (the default MEDIA_MAX_DURATION_SEC) is cut every ~20 s, so a killed segment still loses
 * at most one segment of work, just a longer one.
 */
export const MAX_SEGMENTS = 720;

export interface SegmentPlanInput {
  durationSec: number;
  /** Presentation times of the source's keyframes (any order; the one at 0 is implied). */
  keyframes: number[];
  /** Target segment length. */
  targetSec?: number;
  /** At most this many segments: the target grows for a longer video (default MAX_SEGMENTS). */
  maxSegments?: number;
}

/** Shorter than two segments: one ffmpeg pass is simpler and no slower. */
export function worthSegmenting(durationSec: number, targetSec = DEFAULT_SEGMENT_SEC): boolean {
  return Number.isFinite(durationSec) && durationSec >= 2 * targetSec;
}

/**
 * Segments [start, end) covering [0, duration) without gaps or overlaps. Each cut is the
 * keyframe nearest to `start + target` within half a target of it; with no keyframe there,
 * the cut falls at `start + target`. A tail shorter than half a target joins the last segment.
 * A video that would need more than `maxSegments` is planned again with a longer target (the
 * keyframe snapping can shorten segments, so one division is not always enough).
 */
export function planSegments(input: SegmentPlanInput): SegmentSpan[] {
  const target = input.targetSec ?? DEFAULT_SEGMENT_SEC;
  const max = input.maxSegments ?? MAX_SEGMENTS;
  const duration = input.durationSec;
  if (!(target > 0)) throw new RangeError(`segment length must be positive, got ${target}`);
  if (!(duration > 0) || !Number.isFinite(duration)) throw new RangeError(`duration must be positive and finite, got ${duration}`);
  if (!(Number.isInteger(max) && max >= 1)) throw new RangeError(`maxSegments must be a positive integer, got ${max}`);
  let length = boundedSegmentSec(duration, target, max);
  for (;;) {
    const spans = cutAt(input.keyframes, duration, length);
    if (spans.length <= max) return spans;
    length *= (spans.length / max) * 1.01;
  }
}

/** The length segments of a bounded plan aim at (a 4-hour video at 10 s: 20 s). */
export function boundedSegmentSec(durationSec: number, targetSec = DEFAULT_SEGMENT_SEC, maxSegments = MAX_SEGMENTS): number {
  return Math.max(targetSec, durationSec / maxSegments);
}

/** Digest of a stored plan (its source key and spans): what the workflow refers to it by. */
export function planDigest(key: string, spans: readonly SegmentSpan[]): string {
  return createHash('sha256')
    .update(JSON.stringify([key, spans]))
    .digest('hex')
    .slice(0, 32);
}

function cutAt(keyframes: readonly number[], duration: number, target: number): SegmentSpan[] {
  const keys = [...new Set(keyframes.filter((k) => Number.isFinite(k) && k > 0 && k < duration))].sort((a, b) => a - b);
  const cuts: number[] = [];
  let start = 0;
  for (;;) {
    const want = start + target;
    if (duration - start <= target * 1.5) break;
    const near = keys.filter((k) => k >= start + target / 2 && k <= want + target / 2);
    let cut = near.length ? near.reduce((best, k) => (Math.abs(k - want) < Math.abs(best - want) ? k : best), near[0] as number) : want;
    // Never leave a tail shorter than half a target behind the cut.
    if (duration - cut < target / 2) break;
    cut = round6(cut);
    cuts.push(cut);
    start = cut;
  }
  const bounds = [0, ...cuts, duration];
  return bounds.slice(0, -1).map((s, index) => ({ index, startSec: s, endSec: bounds[index + 1] as number }));
}

/** Keyframe times from `ffprobe -show_entries packet=pts_time,flags -of csv=p=0` (lines `12.000000,K__`). */
export function parseKeyframePackets(csv: string): number[] {
  const out: number[] = [];
  for (const line of csv.split('\n')) {
    const [pts, flags] = line.trim().split(',');
    if (!pts || !flags?.startsWith('K')) continue;
    const t = Number(pts);
    if (Number.isFinite(t)) out.push(t);
  }
  return out;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
