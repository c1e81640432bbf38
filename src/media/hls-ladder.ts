/**
 * The adaptive HLS ladder, as pure decisions: which renditions to offer, where segments are
 * cut, and the one ffmpeg invocation that writes every variant (fMP4/CMAF segments).
 * Unit-tested without ffmpeg; the activity (src/activities/media/hls.ts) runs and verifies it.
 */
import { inputArgs } from './ffmpeg-args';

/** One variant of the ladder. Sizes are even (4:2:0 chroma needs it). */
export interface Rung {
  /** Directory and display name, from the short side: `720p` (a portrait 720x1280 is 720p too). */
  name: string;
  width: number;
  height: number;
  /** Encoder cap for a re-encoded rung (bits/s); a copied rung keeps the rendition's own rate. */
  maxBitrate: number;
  /** True: the rendition's H.264 video is copied as is (no second encode, no quality loss). */
  copy: boolean;
}

/**
 * Segment lengths HLS packaging accepts (s): players expect targets of a few seconds (Apple's
 * authoring spec: 6 s), and a segment is also the smallest unit a player can switch rungs at.
 * MEDIA_SEGMENT_SEC is checked against it at start-up (src/config/cross-checks.ts).
 */
export const HLS_SEGMENT_SEC_RANGE = { min: 1, max: 60 } as const;

/** Standard short sides (p) of the ladder; the top rung is the source's own, capped at the last. */
export const LADDER_SHORT_SIDES = [240, 360, 480, 720, 1080] as const;
export const TOP_SHORT_SIDE = 1080;
/** A lower rung this close to the top one adds bytes, not choice: skipped. */
const MIN_STEP_RATIO = 0.85;
/** ≈0.1 bit per pixel per frame at 30 fps: 720p ≈ 2.8 Mb/s, 360p ≈ 0.7 Mb/s, 240p ≈ 0.3 Mb/s. */
const BITS_PER_PIXEL_SECOND = 3;
const MIN_BITRATE = 200_000;
/** Segments of a copied rung may run this much over the target before re-encoding is better. */
const MAX_COPY_SEGMENT_RATIO = 1.5;

function even(x: number): number {
  return Math.max(2, 2 * Math.round(x / 2));
}

function evenDown(x: number): number {
  return Math.max(2, 2 * Math.floor(x / 2));
}

/** Size of a rung whose short side is `shortSide`, keeping the source's aspect ratio. */
export function rungSize(source: { width: number; height: number }, shortSide: number): { width: number; height: number } {
  const landscape = source.width >= source.height;
  const srcShort = landscape ? source.height : source.width;
  const srcLong = landscape ? source.width : source.height;
  const long = even((srcLong * shortSide) / srcShort);
  const short = evenDown(shortSide);
  return landscape ? { width: long, height: short } : { width: short, height: long };
}

export function rungBitrate(width: number, height: number, frameRate?: number | null): number {
  const fpsFactor = frameRate && frameRate > 0 ? Math.min(2, Math.max(0.5, frameRate / 30)) : 1;
  return Math.max(MIN_BITRATE, Math.round((width * height * BITS_PER_PIXEL_SECOND * fpsFactor) / 10_000) * 10_000);
}

/**
 * The renditions for a source (the MP4 rendition), highest first: one rung at the source's
 * own size (capped at 1080p, never upscaled), then every standard rung clearly below it.
 * `copyTop`: the caller checked that the rendition's video can be cut into aligned segments
 * as is; it is honoured only when the top rung has exactly the rendition's (even) size.
 */
export function chooseLadder(source: { width: number; height: number; frameRate?: number | null }, opts: { copyTop: boolean }): Rung[] {
  if (!(source.width > 0 && source.height > 0)) throw new RangeError(`no ladder for a ${source.width}x${source.height} source`);
  const srcShort = Math.min(source.width, source.height);
  const topShort = Math.min(srcShort, TOP_SHORT_SIDE);
  const top = topShort === srcShort ? { width: evenDown(source.width), height: evenDown(source.height) } : rungSize(source, topShort);
  const sameSize = top.width === source.width && top.height === source.height;
  const rungs: Rung[] = [
    {
      name: `${Math.min(top.width, top.height)}p`,
      ...top,
      maxBitrate: rungBitrate(top.width, top.height, source.frameRate),
      copy: opts.copyTop && sameSize,
    },
  ];
  for (const p of [...LADDER_SHORT_SIDES].reverse()) {
    if (p > topShort * MIN_STEP_RATIO) continue;
    const size = rungSize(source, p);
    rungs.push({ name: `${p}p`, ...size, maxBitrate: rungBitrate(size.width, size.height, source.frameRate), copy: false });
  }
  return rungs;
}

/**
 * Where ffmpeg's HLS muxer will cut a stream whose keyframes are at `keyframes` (seconds):
 * at the first keyframe at or after each multiple of `segmentSec` from the first one, one
 * cut per keyframe (as hlsenc counts segments). Re-encoded rungs get keyframes forced at
 * exactly these times, so every variant's segments start at the same instants.
 */
export function cutPoints(keyframes: readonly number[], segmentSec: number): number[] {
  if (!(segmentSec > 0)) throw new RangeError(`segmentSec must be positive, got ${segmentSec}`);
  const sorted = [...keyframes].sort((a, b) => a - b);
  const start = sorted[0];
  if (start === undefined) return [];
  const cuts: number[] = [];
  let number = 1;
  for (const t of sorted) {
    if (t - start >= number * segmentSec - 1e-6) {
      cuts.push(t);
      number++;
    }
  }
  return cuts;
}

/** The longest segment `cuts` make of a stream of `durationSec` starting at `start`. */
export function longestSegment(cuts: readonly number[], durationSec: number, start = 0): number {
  let longest = 0;
  let prev = start;
  for (const c of [...cuts, durationSec]) {
    longest = Math.max(longest, c - prev);
    prev = c;
  }
  return longest;
}

/**
 * Whether the rendition's own keyframes make acceptable segments: none longer than 1.5 ×
 * the target (a rendition from the segmented transcode has a keyframe at every segment
 * start; one from a plain encode may have a keyframe only every 10 s, or one in all).
 */
export function keyframesFitSegments(keyframes: readonly number[], durationSec: number, segmentSec: number): boolean {
  if (keyframes.length === 0) return false;
  const start = Math.min(...keyframes);
  return longestSegment(cutPoints(keyframes, segmentSec), durationSec, start) <= segmentSec * MAX_COPY_SEGMENT_RATIO;
}

export interface HlsArgsOptions {
  /** The MP4 rendition (one H.264 stream, at most one AAC stream). */
  input: string;
  /** Receives `master.m3u8` and one directory per rung (`<name>/index.m3u8`, `init.mp4`, `seg_NNNNN.m4s`). */
  outDir: string;
  segmentSec: number;
  rungs: readonly Rung[];
  /**
   * Where re-encoded rungs get their keyframes: the copied top rung's cut instants (seconds),
   * or `every-segment` (every `segmentSec` from 0) when nothing is copied.
   */
  cuts: readonly number[] | 'every-segment';
  hasAudio: boolean;
  preset: string;
  /** 0 = let ffmpeg decide. */
  threads: number;
  /**
   * The rendition's video time base (ffprobe's `time_base`, e.g. `1/15360`): re-encoded rungs
   * keep their frames' time stamps in it. Without it ffmpeg times the encoder in 1/frame-rate
   * units, and a variable-frame-rate rendition's guessed rate (often a multiple of every rate
   * in it, e.g. 120) would round or collide time stamps.
   */
  videoTimeBase?: string;
}

/**
 * One ffmpeg run: decode once, split and scale per re-encoded rung, copy the top rung's
 * video when allowed, copy the (already AAC) audio into every variant, and mux each variant
 * as fMP4 HLS. ffmpeg 5.1 writes a master playlist too, but omits CODECS for copied streams
 * and estimates BANDWIDTH from encoder settings: the activity rewrites it from measurements.
 */
export function hlsArgs(ladder: HlsArgsOptions): string[] {
  const encoded = ladder.rungs.map((r, i) => ({ r, i })).filter(({ r }) => !r.copy);
  const filter =
    encoded.length === 0
      ? []
      : [
          '-filter_complex',
          [
            `[0:v:0]split=${encoded.length}${encoded.map(({ i }) => `[s${i}]`).join('')}`,
            ...encoded.map(({ r, i }) => `[s${i}]scale=${r.width}:${r.height}:flags=bicubic,format=yuv420p[v${i}]`),
          ].join(';'),
        ];
  const forced = forcedKeyframes(ladder.cuts, ladder.segmentSec);
  const perRung = ladder.rungs.flatMap((r, i) => {
    const maps = [...(r.copy ? ['-map', '0:v:0'] : ['-map', `[v${i}]`]), ...(ladder.hasAudio ? ['-map', '0:a:0'] : [])];
    return maps;
  });
  const codecs = ladder.rungs.flatMap((r, i) =>
    r.copy
      ? [`-c:v:${i}`, 'copy']
      : [
          `-c:v:${i}`,
          'libx264',
          `-preset:v:${i}`,
          ladder.preset,
          `-crf:v:${i}`,
          '23',
          `-maxrate:v:${i}`,
          String(r.maxBitrate),
          `-bufsize:v:${i}`,
          String(2 * r.maxBitrate),
          // Keyframes only at the cuts: no scene-cut or GOP-length keyframes that would let
          // this variant cut a segment where the others do not.
          ...(forced ? [`-force_key_frames:v:${i}`, forced] : []),
          `-sc_threshold:v:${i}`,
          '0',
          `-g:v:${i}`,
          '100000',
          // The rendition's own frame times: the hls muxer is not a variable-frame-rate format,
          // so by default ffmpeg would resample to a constant rate (duplicating a phone clip's
          // frames up to its peak rate). Every rung keeps the frames, and the timing, it has.
          `-fps_mode:v:${i}`,
          'vfr',
          ...(ladder.videoTimeBase ? [`-enc_time_base:v:${i}`, ladder.videoTimeBase] : []),
        ],
  );
  const streamMap = ladder.rungs.map((r, i) => `v:${i}${ladder.hasAudio ? `,a:${i}` : ''},name:${r.name}`).join(' ');
  return [
    ...inputArgs(ladder.input),
    ...filter,
    ...perRung,
    ...codecs,
    ...(ladder.hasAudio ? ['-c:a', 'copy'] : []),
    '-map_metadata',
    '-1',
    '-threads',
    String(ladder.threads),
    '-f',
    'hls',
    '-hls_time',
    String(ladder.segmentSec),
    '-hls_playlist_type',
    'vod',
    '-hls_segment_type',
    'fmp4',
    '-hls_fmp4_init_filename',
    'init.mp4',
    '-hls_flags',
    'independent_segments',
    '-hls_segment_filename',
    `${ladder.outDir}/%v/seg_%05d.m4s`,
    '-master_pl_name',
    'master.m3u8',
    '-var_stream_map',
    streamMap,
    '-progress',
    'pipe:1',
    '-nostats',
    `${ladder.outDir}/%v/index.m3u8`,
  ];
}

/**
 * One command-line argument holds at most 128 KiB on Linux (MAX_ARG_STRLEN); a list of cut
 * times longer than this (hours of video in 1 s segments) is not used: every rung is then
 * re-encoded on the regular grid instead.
 */
export const MAX_FORCED_LIST_CHARS = 100_000;

/** ffmpeg's -force_key_frames value for `cuts` (empty string: none). */
export function forcedKeyframes(cuts: readonly number[] | 'every-segment', segmentSec: number): string {
  if (cuts === 'every-segment') return `expr:gte(t,n_forced*${segmentSec})`;
  // Forced slightly early: the frame whose timestamp is the cut must not round to just after it.
  return cuts.map((c) => Math.max(0, c - 0.001).toFixed(3)).join(',');
}

/** A keyframe's time from one line of `keyframeProbeArgs` output (ffmpeg-args.ts); undefined for other packets. */
export function parseKeyframeLine(line: string): number | undefined {
  const m = /^(-?\d+(?:\.\d+)?),(\S*)$/.exec(line.trim());
  if (!m?.[2]?.includes('K')) return undefined;
  return Number(m[1]);
}
