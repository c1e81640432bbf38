/**
 * Pure: where a long video is cut for a segmented transcode (issue 15). Each segment is
 * re-encoded with an accurate seek, so any cut point is correct; a cut on a source keyframe
 * only spares the decoder the frames between the previous keyframe and the cut.
 */
import type { SegmentSpan } from '../workflows/contracts';

export const DEFAULT_SEGMENT_SEC = 10;

export interface SegmentPlanInput {
  durationSec: number;
  /** Presentation times of the source's keyframes (any order; the one at 0 is implied). */
  keyframes: number[];
  /** Target segment length. */
  targetSec?: number;
}

/** Shorter than two segments: one ffmpeg pass is simpler and no slower. */
export function worthSegmenting(durationSec: number, targetSec = DEFAULT_SEGMENT_SEC): boolean {
  return Number.isFinite(durationSec) && durationSec >= 2 * targetSec;
}

/**
 * Segments [start, end) covering [0, duration) without gaps or overlaps. Each cut is the
 * keyframe nearest to `start + target` within half a target of it; with no keyframe there,
 * the cut falls at `start + target`. A tail shorter than half a target joins the last segment.
 */
export function planSegments(input: SegmentPlanInput): SegmentSpan[] {
  const target = input.targetSec ?? DEFAULT_SEGMENT_SEC;
  const duration = input.durationSec;
  if (!(target > 0)) throw new RangeError(`segment length must be positive, got ${target}`);
  if (!(duration > 0) || !Number.isFinite(duration)) throw new RangeError(`duration must be positive and finite, got ${duration}`);
  const keys = [...new Set(input.keyframes.filter((k) => Number.isFinite(k) && k > 0 && k < duration))].sort((a, b) => a - b);
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
