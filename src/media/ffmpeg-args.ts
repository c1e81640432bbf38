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

export function probeArgs(input: string): string[] {
  return ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', input];
}

export function renditionArgs(o: RenditionOptions): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-i',
    o.input,
    // First video stream; first audio stream if there is one ("?" keeps silent clips working).
    // Only the chosen streams: subtitle, data and extra audio tracks are left behind.
    '-map',
    o.videoIndex === undefined ? '0:v:0' : `0:${o.videoIndex}`,
    ...(o.audioIndex === null ? ['-an'] : ['-map', o.audioIndex === undefined ? '0:a:0?' : `0:${o.audioIndex}`]),
    // Browsers only play 8-bit 4:2:0, and libx264 needs even sides for it: force both, never
    // upscale. -2 evens the width; the height is evened explicitly (an odd source stays odd otherwise).
    // Rotation: ffmpeg applies the display matrix before this chain (autorotate), so the
    // rendition is upright and carries no rotation flag.
    '-vf',
    `${o.deinterlace ? 'bwdif=mode=send_frame:parity=auto:deint=all,' : ''}scale=-2:'trunc(min(${o.maxHeight},ih)/2)*2':flags=bicubic,format=yuv420p`,
    // Keep the source's timing: a variable-frame-rate phone clip must not be padded with
    // duplicated frames up to its peak rate.
    '-fps_mode',
    'vfr',
    '-c:v',
    'libx264',
    '-preset',
    o.preset,
    '-crf',
    '23',
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-ac',
    '2',
    '-movflags',
    '+faststart',
    // No timecode (tmcd) data track and no container metadata (phone clips carry GPS tags).
    '-write_tmcd',
    '0',
    '-map_metadata',
    '-1',
    '-threads',
    String(o.threads),
    // Machine-readable progress on stdout (key=value lines); no interactive stats on stderr.
    '-progress',
    'pipe:1',
    '-nostats',
    '-f',
    'mp4',
    o.output,
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
