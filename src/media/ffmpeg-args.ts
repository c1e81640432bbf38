/**
 * Pure builders of ffmpeg/ffprobe argument lists: unit-tested without ffmpeg, and the only
 * place that knows encoding choices. Arguments are arrays (no shell), so file names with
 * spaces or quotes cannot inject anything.
 */
export interface RenditionOptions {
  input: string;
  output: string;
  preset: string;
  /** 0 = let ffmpeg decide. */
  threads: number;
  /** Longest side of the rendition; smaller sources are not upscaled. */
  maxHeight: number;
  /** Absolute index of the video stream (skips cover art); default: the first video stream. */
  videoIndex?: number;
  /** Absolute index of the audio stream (the default-flagged track); null = no audio; default: the first, if any. */
  audioIndex?: number | null;
  /** Deinterlace first (only for sources known to be interlaced: it softens progressive ones). */
  deinterlace?: boolean;
}

/** Every encode starts the same way: quiet banner, no stdin (a worker has none), overwrite, one input. */
export function inputArgs(input: string): string[] {
  return ['-hide_banner', '-nostdin', '-y', '-i', input];
}

export function probeArgs(input: string): string[] {
  return ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', input];
}

export function renditionArgs(rendition: RenditionOptions): string[] {
  return [
    ...inputArgs(rendition.input),
    // First video stream; first audio stream if there is one ("?" keeps silent clips working).
    // Only the chosen streams: subtitle, data and extra audio tracks are left behind.
    '-map',
    rendition.videoIndex === undefined ? '0:v:0' : `0:${rendition.videoIndex}`,
    ...(rendition.audioIndex === null ? ['-an'] : ['-map', rendition.audioIndex === undefined ? '0:a:0?' : `0:${rendition.audioIndex}`]),
    // Browsers only play 8-bit 4:2:0, and libx264 needs even sides for it: force both, never
    // upscale. -2 evens the width; the height is evened explicitly (an odd source stays odd otherwise).
    // Rotation: ffmpeg applies the display matrix before this chain (autorotate), so the
    // rendition is upright and carries no rotation flag.
    '-vf',
    videoFilter(rendition),
    ...videoCodecArgs(rendition.preset),
    ...AUDIO_CODEC_ARGS,
    '-movflags',
    '+faststart',
    ...mp4OutputArgs(rendition.threads, rendition.output),
  ];
}

/** Deinterlace (when asked), even-sided downscale without upscaling, 8-bit 4:2:0: shared by every encode. */
function videoFilter(video: { deinterlace?: boolean; maxHeight: number }): string {
  return `${video.deinterlace ? 'bwdif=mode=send_frame:parity=auto:deint=all,' : ''}scale=-2:'trunc(min(${video.maxHeight},ih)/2)*2':flags=bicubic,format=yuv420p`;
}

function videoCodecArgs(preset: string): string[] {
  // Keep the source's timing: a variable-frame-rate phone clip must not be padded with
  // duplicated frames up to its peak rate, nor lose frames to rounding — by default ffmpeg times
  // the encoder in 1/frame-rate units, and a VFR file's guessed rate (the rate of its first
  // part, say 24) puts its 30 and 60 fps frames on a 1/24 s grid, where they collide and are
  // dropped. `-1`: the encoder keeps the source stream's own time base.
  return ['-fps_mode', 'vfr', '-enc_time_base:v', '-1', '-c:v', 'libx264', '-preset', preset, '-crf', '23'];
}

/**
 * The end of every MP4 encode: no timecode (tmcd) data track, no container metadata (phone clips
 * carry GPS tags), machine-readable progress on stdout (key=value lines), no stats on stderr.
 */
function mp4OutputArgs(threads: number, output: string): string[] {
  return ['-write_tmcd', '0', '-map_metadata', '-1', '-threads', String(threads), '-progress', 'pipe:1', '-nostats', '-f', 'mp4', output];
}

const AUDIO_CODEC_ARGS = ['-c:a', 'aac', '-b:a', '128k', '-ac', '2'];

/**
 * The seek lands this far before a segment's start, and its length is cut at the same
 * offset before its end. Both neighbours use the same offset, so a frame exactly on a cut falls in
 * exactly one segment whatever the float rounding of its time stamp.
 */
export const SEGMENT_CUT_EPSILON_SEC = 0.001;

export interface SegmentOptions {
  input: string;
  output: string;
  startSec: number;
  endSec: number;
  preset: string;
  threads: number;
  maxHeight: number;
  videoIndex: number;
  deinterlace?: boolean;
}

/**
 * One segment of a segmented transcode: video only (audio is encoded once for the whole file:
 * per-segment AAC priming would put a gap at every join), accurate input seek, time stamps
 * restarted at 0 and a keyframe on the first frame, so the segments join with `-c copy`.
 * Same filter and codec settings as the single pass, so the joined file matches it.
 */
export function segmentArgs(segment: SegmentOptions): string[] {
  const seek = segment.startSec > 0 ? Math.max(0, segment.startSec - SEGMENT_CUT_EPSILON_SEC) : 0;
  const length = segment.endSec - (segment.startSec > 0 ? segment.startSec : 0);
  return [
    '-hide_banner',
    '-nostdin',
    '-y',
    ...(seek > 0 ? ['-ss', seek.toFixed(6)] : []),
    '-i',
    segment.input,
    '-t',
    length.toFixed(6),
    '-map',
    `0:${segment.videoIndex}`,
    '-an',
    '-sn',
    '-dn',
    '-vf',
    `${videoFilter(segment)},setpts=PTS-STARTPTS`,
    ...videoCodecArgs(segment.preset),
    '-force_key_frames',
    'expr:eq(n,0)',
    ...mp4OutputArgs(segment.threads, segment.output),
  ];
}

/** The whole file's audio, once, with the single pass's codec settings. */
export function audioArgs(audio: { input: string; output: string; audioIndex: number; threads: number }): string[] {
  return [
    ...inputArgs(audio.input),
    '-map',
    `0:${audio.audioIndex}`,
    '-vn',
    '-sn',
    '-dn',
    ...AUDIO_CODEC_ARGS,
    ...mp4OutputArgs(audio.threads, audio.output),
  ];
}

/** Joins encoded segments (concat demuxer list) without re-encoding and muxes the audio in; faststart. */
export function joinArgs(join: { list: string; audio?: string; output: string }): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-f',
    'concat',
    '-safe',
    '0',
    '-i',
    join.list,
    ...(join.audio ? ['-i', join.audio] : []),
    '-map',
    '0:v:0',
    ...(join.audio ? ['-map', '1:a:0'] : []),
    '-c',
    'copy',
    '-movflags',
    '+faststart',
    ...mp4OutputArgs(0, join.output),
  ];
}

/** The concat demuxer's list file; single quotes in paths are escaped its way. */
export function concatList(files: string[]): string {
  return files.map((f) => `file '${f.replace(/'/g, "'\\''")}'\n`).join('');
}

/**
 * ffprobe over the video packets (no decoding: flags come from the container), one
 * `pts_time,flags` line per packet. `videoIndex`: the absolute index of the stream to read
 * (skips cover art); default: the first video stream.
 */
export function keyframeProbeArgs(input: string, videoIndex?: number): string[] {
  const stream = videoIndex === undefined ? 'v:0' : String(videoIndex);
  return ['-v', 'error', '-select_streams', stream, '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', input];
}

/** A file's streams (codec, profile, size) and every packet's time, as JSON: what an HLS segment is checked against. */
export function streamsAndPacketsProbeArgs(input: string): string[] {
  return [
    '-v',
    'error',
    '-show_entries',
    'stream=index,codec_type,codec_name,profile,width,height:packet=stream_index,pts_time',
    '-of',
    'json',
    input,
  ];
}

/** Runs ffmpeg's interlace detector over the first frames (the summary goes to stderr). */
export function idetArgs(input: string, videoIndex: number, frames = 120): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-v',
    'info',
    '-i',
    input,
    '-map',
    `0:${videoIndex}`,
    '-frames:v',
    String(frames),
    '-vf',
    'idet',
    '-an',
    '-f',
    'null',
    '-',
  ];
}

/** JPEG thumbnail of one frame at `atSec`, at most 360 pixels high. */
export function thumbnailArgs(input: string, output: string, atSec: number): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-ss',
    atSec.toFixed(3),
    '-i',
    input,
    '-frames:v',
    '1',
    '-vf',
    "scale=-2:'min(360,ih)'",
    '-q:v',
    '3',
    '-f',
    'image2',
    output,
  ];
}

/** A point inside the clip (a seek past the end of a one-frame clip writes no file). */
export function thumbnailTime(durationSec: number): number {
  if (!Number.isFinite(durationSec) || durationSec <= 0.2) return 0;
  return Math.min(1, durationSec / 3);
}

/**
 * Parses one `-progress` block line (`out_time_us=1234567`) into seconds encoded so far.
 * Returns undefined for other keys and for ffmpeg's "N/A" placeholders.
 */
export function parseProgressLine(line: string): number | undefined {
  const m = /^out_time_(us|ms)=(\d+)$/.exec(line.trim());
  if (!m) return undefined;
  // ffmpeg 5.x writes microseconds under both keys (out_time_ms is a historical misnomer).
  return Number(m[2]) / 1_000_000;
}

export interface SampleClipOptions {
  seconds: number;
  width: number;
  height: number;
  audio: boolean;
  ffmpegPath?: string;
  /** 4:2:0 by default; 'yuv444p' allows odd sizes (an awkward upload to test against). */
  pixelFormat?: 'yuv420p' | 'yuv444p';
}

/** A test-pattern clip (with a tone) from ffmpeg's lavfi sources: no media files in git. */
export function sampleClipArgs(output: string, clip: SampleClipOptions): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    // testsrc2 rounds sizes to even; testsrc keeps odd ones.
    `${clip.pixelFormat === 'yuv444p' ? 'testsrc' : 'testsrc2'}=size=${clip.width}x${clip.height}:rate=25:duration=${clip.seconds}`,
    ...(clip.audio ? ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${clip.seconds}`] : []),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    clip.pixelFormat ?? 'yuv420p',
    '-threads',
    '1',
    ...(clip.audio ? ['-c:a', 'aac', '-shortest'] : []),
    output,
  ];
}
