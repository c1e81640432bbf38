/**
 * What the AI step looks at, as pure decisions: where keyframes are sampled, the ffmpeg argument
 * lists that sample them and cut the audio into chunks, and the parsers of what ffmpeg prints.
 * Unit-tested without ffmpeg; the activity (src/activities/media/analysis-inputs.ts) runs them.
 *
 * Bounded work: keyframes are taken by seeking into a few short windows spread over the video,
 * never by decoding all of it, so their cost does not grow with the video's length (a 4-hour
 * source decodes the same few seconds as a 4-minute one). Only the audio pass reads the whole
 * file, and audio is cheap to decode.
 */

/** Mono 16 kHz MP3 at 32 kbit/s: speech stays intelligible, an hour is ~14 MB. */
export const AUDIO_BITRATE_BPS = 32_000;
/** Peak below this is silence for our purposes (digital silence reads -91 dB). */
export const SILENCE_MAX_DB = -60;
/** A frame counts as a scene change above this score (ffmpeg's scene detector, 0..1). */
export const SCENE_THRESHOLD = 0.3;
/** Keyframes are at least this far apart: a short clip gets fewer, not near-duplicates. */
export const MIN_KEYFRAME_SPACING_SEC = 1;
/** Each window is scanned this long for a scene change (plus the seek's pre-roll to the keyframe before it). */
export const WINDOW_SCAN_SEC = 4;

/** One place to look for a keyframe: from `startSec`, at most `scanSec` of video. */
export interface SampleWindow {
  startSec: number;
  scanSec: number;
}

/**
 * `max` equal parts of the video (fewer when it is too short for them to be a second apart);
 * each is scanned from its start for at most WINDOW_SCAN_SEC. Every part of the video is
 * represented, whatever its length, and the decoding is at most `max` × WINDOW_SCAN_SEC.
 */
export function sampleWindows(durationSec: number, max: number): SampleWindow[] {
  if (!(durationSec > 0) || !(max >= 1)) return [{ startSec: 0, scanSec: WINDOW_SCAN_SEC }];
  const count = Math.max(1, Math.min(Math.floor(max), Math.floor(durationSec / MIN_KEYFRAME_SPACING_SEC)));
  const length = durationSec / count;
  return Array.from({ length: count }, (_, i) => ({
    startSec: round3(i * length),
    scanSec: round3(Math.min(WINDOW_SCAN_SEC, length)),
  }));
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * One window: an input seek to its start (ffmpeg decodes from the keyframe before it and drops
 * what comes earlier), at most `scanSec` read, and at most two pictures written — the window's
 * first frame and its first scene change. The activity keeps the scene change when there is one
 * (a new shot is what tells the AI something), else the first frame. `metadata=print` writes
 * each written frame's time (relative to the seek point) to stdout beside the -progress lines.
 */
export function keyframeSampleArgs(sample: {
  input: string;
  window: SampleWindow;
  outPattern: string;
  maxSide: number;
  threads: number;
}): string[] {
  // Downscale first: the scene detector then compares small pictures (cheaper, and noise
  // matters less), and the written JPEG is already the size the AI is sent.
  const scale = `scale='if(gt(iw,ih),min(${sample.maxSide},iw),-2)':'if(gt(iw,ih),-2,min(${sample.maxSide},ih))'`;
  const select = `select='eq(n\\,0)+gt(scene\\,${SCENE_THRESHOLD})'`;
  return [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-v',
    'error',
    '-threads',
    String(sample.threads),
    ...(sample.window.startSec > 0 ? ['-ss', sample.window.startSec.toFixed(3)] : []),
    '-t',
    sample.window.scanSec.toFixed(3),
    '-i',
    sample.input,
    '-map',
    '0:v:0',
    '-an',
    '-sn',
    '-dn',
    '-vf',
    `${scale},${select},metadata=mode=print:file=-`,
    '-fps_mode',
    'vfr',
    '-frames:v',
    '2',
    '-q:v',
    '5',
    '-progress',
    'pipe:1',
    '-nostats',
    sample.outPattern,
  ];
}

/**
 * The audio track in chunks of `segmentSec`, with the peak measured on the way (volumedetect
 * passes the audio through and prints its summary to stderr at the end): one pass over the
 * file decides "silent" and writes the chunks.
 */
export function audioChunkArgs(chunks: { input: string; outPattern: string; segmentSec: number; threads: number }): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-y',
    // info, not error: volumedetect's summary is an info line.
    '-v',
    'info',
    '-threads',
    String(chunks.threads),
    '-i',
    chunks.input,
    '-map',
    '0:a:0',
    '-vn',
    '-sn',
    '-dn',
    '-af',
    'volumedetect',
    '-ac',
    '1',
    '-ar',
    '16000',
    '-c:a',
    'libmp3lame',
    '-b:a',
    String(AUDIO_BITRATE_BPS),
    '-f',
    'segment',
    '-segment_time',
    String(chunks.segmentSec),
    '-reset_timestamps',
    '1',
    '-progress',
    'pipe:1',
    '-nostats',
    chunks.outPattern,
  ];
}

/** Seconds of audio per chunk so that a chunk stays under `maxBytes` (10 % headroom for frame overhead). */
export function segmentSeconds(maxBytes: number): number {
  return Math.max(1, Math.floor((maxBytes * 0.9) / (AUDIO_BITRATE_BPS / 8)));
}

/** `max_volume: -91.0 dB` from ffmpeg's volumedetect filter; undefined when absent. */
export function parseMaxVolume(stderr: string): number | undefined {
  const m = /max_volume:\s*(-?[\d.]+|-inf) dB/.exec(stderr);
  if (!m) return undefined;
  return m[1] === '-inf' ? -Infinity : Number(m[1]);
}

/** `pts_time:1.23` per written frame from the metadata filter's print, in output order. */
export function parseFrameTimes(stdout: string): number[] {
  return [...stdout.matchAll(/pts_time:\s*(-?[\d.]+)/g)].map((m) => Number(m[1]));
}

/**
 * Which of a window's written pictures to keep: the scene change (the second) when there is
 * one, else the first frame. Times are relative to the seek point; undefined: nothing written
 * (no frame in the window, e.g. a gap in a variable-frame-rate recording).
 */
export function pickInWindow(times: readonly number[]): { index: number; offsetSec: number } | undefined {
  const index = times.length >= 2 ? 1 : times.length === 1 ? 0 : -1;
  const offsetSec = times[index];
  if (offsetSec === undefined) return undefined;
  return { index, offsetSec: Math.max(0, offsetSec) };
}
