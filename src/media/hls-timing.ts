/**
 * The time line of an HLS variant against the rendition it was cut from, measured the same way
 * on both sides: the presentation times of video packets as ffprobe reads them. Pure; the
 * packaging activity feeds it ffprobe's output.
 *
 * Why not the playlist's EXTINF sum against the MP4's duration: ffmpeg's hls muxer gives every
 * segment but the last a duration from time stamps, and the last one the sum of its packets'
 * durations — which ffmpeg sets to 1/frame-rate, a guess that is wrong for a variable-frame-rate
 * video (a phone clip with a "120 fps" guess and 22 real frames a second looked 5 times shorter).
 * The MP4's duration also counts the audio's tail. So the last EXTINF is measured and rewritten,
 * and the check compares video with video.
 */

/** The video stream's clock as ffprobe reports it in `-show_streams` JSON. */
export interface VideoTiming {
  /** e.g. `1/15360`; undefined when ffprobe did not say. */
  timeBase: string | undefined;
  startSec: number;
  /** The stream's own duration (its last frame's end), undefined when not declared. */
  durationSec: number | undefined;
}

interface ProbedStream {
  index?: number;
  codec_type?: string;
  time_base?: string;
  start_time?: string;
  duration?: string;
}

const TIME_BASE = /^1\/\d+$/;

/** The timing of stream `index` (the video) from ffprobe's `-show_streams` JSON. */
export function videoTiming(probeJson: string, index: number): VideoTiming {
  let streams: ProbedStream[] = [];
  try {
    const parsed = JSON.parse(probeJson) as { streams?: ProbedStream[] };
    streams = Array.isArray(parsed.streams) ? parsed.streams : [];
  } catch {
    // Unreadable: nothing declared.
  }
  const s = streams.find((x) => x.index === index) ?? streams.find((x) => x.codec_type === 'video');
  const num = (v: string | undefined) => (v !== undefined && Number.isFinite(Number(v)) ? Number(v) : undefined);
  return {
    timeBase: s?.time_base && TIME_BASE.test(s.time_base) ? s.time_base : undefined,
    startSec: num(s?.start_time) ?? 0,
    durationSec: num(s?.duration),
  };
}

/** First and last presentation time of a set of packets (B-frames: not in order); undefined if none. */
export interface PtsSpan {
  first: number;
  last: number;
}

export function ptsSpan(pts: Iterable<number>): PtsSpan | undefined {
  let first = Infinity;
  let last = -Infinity;
  for (const t of pts) {
    if (!Number.isFinite(t)) continue;
    first = Math.min(first, t);
    last = Math.max(last, t);
  }
  return first <= last ? { first, last } : undefined;
}

/** Grows a span by one packet time (for a pass that reads packets line by line). */
export function extendSpan(span: PtsSpan | undefined, t: number): PtsSpan | undefined {
  if (!Number.isFinite(t)) return span;
  return span ? { first: Math.min(span.first, t), last: Math.max(span.last, t) } : { first: t, last: t };
}

/** Video packet times from ffprobe's `-show_entries packet=stream_index,pts_time -of json` output. */
export function packetTimes(probeJson: string, videoStreamIndex: number): number[] {
  try {
    const parsed = JSON.parse(probeJson) as { packets?: { stream_index?: number; pts_time?: string }[] };
    return (parsed.packets ?? [])
      .filter((p) => p.stream_index === videoStreamIndex && p.pts_time !== undefined)
      .map((p) => Number(p.pts_time))
      .filter(Number.isFinite);
  } catch {
    return [];
  }
}

/**
 * Where the rendition's video ends: its declared stream duration after its start, or (not
 * declared) one frame after its last packet.
 */
export function renditionVideoEnd(timing: VideoTiming, span: PtsSpan, frameRate: number | null): number {
  const declared = timing.durationSec !== undefined ? timing.startSec + timing.durationSec : undefined;
  const oneFrame = frameRate && frameRate > 0 ? 1 / frameRate : 0;
  return Math.max(declared ?? 0, span.last + (declared === undefined ? oneFrame : 0));
}

/**
 * What a variant's time line gets wrong, one sentence each; empty = from its first frame to its
 * last it spans what the rendition's video spans (within `toleranceSec`), and its playlist adds
 * up to the rendition's video duration. Spans, not absolute times: a fragmented MP4 without an
 * edit list presents B-frame video late by its reordering delay (two frames: 2 s at 1 fps), at
 * both ends alike; a variant that lost frames at either end spans less.
 */
export function variantTimingProblems(variant: {
  name: string;
  /** Video packet times of the variant's first and last segment. */
  variantFirst: PtsSpan;
  variantLast: PtsSpan;
  rendition: PtsSpan;
  /** Sum of the playlist's EXTINF (after the last one was measured). */
  playlistSec: number;
  /** The rendition's video, first instant to end. */
  renditionSec: number;
  toleranceSec: number;
}): string[] {
  const problems: string[] = [];
  const t = variant.toleranceSec;
  const variantSpan = variant.variantLast.last - variant.variantFirst.first;
  const renditionSpan = variant.rendition.last - variant.rendition.first;
  if (Math.abs(variantSpan - renditionSpan) > t)
    problems.push(
      `HLS variant ${variant.name} shows its last frame ${variantSpan.toFixed(2)} s after its first, the rendition ${renditionSpan.toFixed(2)} s`,
    );
  if (Math.abs(variant.playlistSec - variant.renditionSec) > t)
    problems.push(
      `HLS variant ${variant.name}'s playlist lasts ${variant.playlistSec.toFixed(2)} s, the rendition's video ${variant.renditionSec.toFixed(2)} s`,
    );
  return problems;
}
