import { z } from 'zod';
import type { ConfigArea } from './area';
import { DEFAULT_STORYBOARD } from '../media/storyboard';
import { nonNegativeInt, onOff, positiveInt } from './fields';

export const mediaArea = {
  title: 'Media (ffmpeg, limits, downloads)',
  about:
    'The tools of the media step, the ffprobe gate every upload passes before any work (a video outside the limits fails at once with a typed, non-retryable reason), and the download watchdog of URL sources.',
  variables: z.object({
    FFMPEG_PATH: z.string().default('ffmpeg').describe('ffmpeg executable (a name on PATH or a path).'),
    FFPROBE_PATH: z.string().default('ffprobe').describe('ffprobe executable (a name on PATH or a path).'),
    FFMPEG_THREADS: nonNegativeInt
      .default(0)
      .describe('Threads per ffmpeg process; 0 lets ffmpeg pick, 1 keeps a core free on small machines (tests do).'),
    FFMPEG_PRESET: z
      .enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow'])
      .default('veryfast')
      .describe('x264 preset of the rendition encode: faster presets trade file size for encode time.'),
    MEDIA_STALL_TIMEOUT_MS: positiveInt
      .default(10_000)
      .describe(
        "Milliseconds ffmpeg's output time may stand still before it is killed and the attempt fails as TranscodeStalled (retried).",
      ),
    MEDIA_SEGMENT_SEC: z.coerce
      .number()
      .positive()
      .default(10)
      .describe('Target segment length of the segmented transcode of long videos, in seconds.'),
    MEDIA_SEGMENT_SLOTS: positiveInt
      .default(1)
      .describe(
        'Segments one media worker process encodes at once (1: ffmpeg already uses the cores; more workers share a video instead).',
      ),
    MEDIA_STORYBOARD: onOff
      .default('on')
      .describe('Scrub previews: sprite sheets of thumbnails and a WebVTT thumbnail track per video (`off`: none are made).'),
    MEDIA_STORYBOARD_MIN_INTERVAL_SEC: positiveInt
      .default(DEFAULT_STORYBOARD.minIntervalSec)
      .describe('Shortest interval between two storyboard thumbnails, in seconds (short videos get it).'),
    MEDIA_STORYBOARD_MAX_INTERVAL_SEC: positiveInt
      .default(DEFAULT_STORYBOARD.maxIntervalSec)
      .describe('Longest interval between two storyboard thumbnails, in seconds; between the two, a video gets about one 10 × 10 sheet.'),
    MEDIA_STORYBOARD_MAX_TILES: positiveInt
      .default(DEFAULT_STORYBOARD.maxTiles)
      .describe('Most storyboard thumbnails of one video (100 per sheet); longer videos get a longer interval.'),
    MEDIA_STORYBOARD_TILE_PX: positiveInt
      .default(DEFAULT_STORYBOARD.tileMaxSide)
      .describe('Longest side of a storyboard thumbnail, in pixels.'),
    MEDIA_MAX_WIDTH: positiveInt.default(8192).describe('Widest accepted video, in pixels; wider fails as MediaTooLarge.'),
    MEDIA_MAX_HEIGHT: positiveInt.default(8192).describe('Tallest accepted video, in pixels; taller fails as MediaTooLarge.'),
    MEDIA_MAX_PIXELS: positiveInt.default(8192 * 4320).describe('Most pixels per frame (width × height); more fails as MediaTooLarge.'),
    MEDIA_MAX_DURATION_SEC: positiveInt.default(4 * 3600).describe('Longest accepted video, in seconds; longer fails as MediaTooLong.'),
    MEDIA_MIN_DURATION_SEC: z.coerce
      .number()
      .min(0)
      .default(0.5)
      .describe('Shortest accepted video, in seconds; shorter fails as MediaTooShort.'),
    MEDIA_MIN_FRAMES: positiveInt.default(2).describe('Fewest accepted video frames; fewer fails as MediaTooShort.'),
    SOURCE_IDLE_TIMEOUT_MS: positiveInt
      .default(30_000)
      .describe('Milliseconds a URL download may deliver nothing before it gives the media slot back (SourceUnavailable, retried).'),
    SOURCE_MIN_BYTES_PER_SEC: nonNegativeInt
      .default(16 * 1024)
      .describe('Slowest accepted download rate over a SOURCE_IDLE_TIMEOUT_MS window, in bytes per second (0: no minimum).'),
  }),
} satisfies ConfigArea;

type MediaEnv = z.output<typeof mediaArea.variables>;

function mediaLimits(e: MediaEnv) {
  return {
    maxWidth: e.MEDIA_MAX_WIDTH,
    maxHeight: e.MEDIA_MAX_HEIGHT,
    maxPixels: e.MEDIA_MAX_PIXELS,
    maxDurationSec: e.MEDIA_MAX_DURATION_SEC,
    minDurationSec: e.MEDIA_MIN_DURATION_SEC,
    minFrames: e.MEDIA_MIN_FRAMES,
  };
}

/** The ffprobe gate's bounds. */
export type MediaLimits = ReturnType<typeof mediaLimits>;

/** The gate with every limit at its declared default (the media step's fallback when none is passed). */
export const DEFAULT_MEDIA_LIMITS: MediaLimits = mediaLimits(mediaArea.variables.parse({}));

export function mediaConfig(e: MediaEnv) {
  return {
    ffmpeg: {
      ffmpegPath: e.FFMPEG_PATH,
      ffprobePath: e.FFPROBE_PATH,
      threads: e.FFMPEG_THREADS,
      preset: e.FFMPEG_PRESET,
    },
    media: {
      stallTimeoutMs: e.MEDIA_STALL_TIMEOUT_MS,
      segmentSec: e.MEDIA_SEGMENT_SEC,
      segmentSlots: e.MEDIA_SEGMENT_SLOTS,
      limits: mediaLimits(e),
      sourceIdleTimeoutMs: e.SOURCE_IDLE_TIMEOUT_MS,
      sourceMinBytesPerSec: e.SOURCE_MIN_BYTES_PER_SEC,
      storyboard:
        e.MEDIA_STORYBOARD === 'on'
          ? {
              minIntervalSec: e.MEDIA_STORYBOARD_MIN_INTERVAL_SEC,
              maxIntervalSec: e.MEDIA_STORYBOARD_MAX_INTERVAL_SEC,
              maxTiles: e.MEDIA_STORYBOARD_MAX_TILES,
              tileMaxSide: e.MEDIA_STORYBOARD_TILE_PX,
            }
          : null,
    },
  };
}
