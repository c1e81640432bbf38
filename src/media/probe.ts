import { z } from 'zod';
import type { MediaLimits } from '../config/media';
import type { ErrorTypeName } from '../errors';
import type { MediaFacts } from '../workflows/contracts';

/** The slice of ffprobe's JSON we rely on; everything else is ignored. */
const probeSchema = z.object({
  streams: z
    .array(
      z.object({
        index: z.number().optional(),
        codec_type: z.string().optional(),
        pix_fmt: z.string().optional(),
        field_order: z.string().optional(),
        nb_frames: z.string().optional(),
        codec_name: z.string().optional(),
        width: z.number().optional(),
        height: z.number().optional(),
        avg_frame_rate: z.string().optional(),
        r_frame_rate: z.string().optional(),
        duration: z.string().optional(),
        disposition: z.object({ attached_pic: z.number().optional(), default: z.number().optional() }).partial().optional(),
      }),
    )
    .default([]),
  format: z
    .object({
      format_name: z.string().optional(),
      duration: z.string().optional(),
      size: z.string().optional(),
    })
    .default({}),
});

/** What the encoder needs to know beyond the public facts (stream choice, interlacing). */
export interface StreamPlan {
  /** Absolute index of the video stream to encode (never cover art). */
  videoIndex: number;
  /** Absolute index of the audio stream to keep: the default-flagged one, else the first; null = none. */
  audioIndex: number | null;
  /** ffprobe's field_order: 'progressive', 'tt', 'bb', 'tb', 'bt', or undefined when not declared. */
  fieldOrder: string | undefined;
  pixelFormat: string | undefined;
  /** Frames declared by the container, when it declares them. */
  frameCount: number | undefined;
}

export type ProbeVerdict = { ok: true; facts: MediaFacts; plan: StreamPlan } | { ok: false; reason: string; type: ErrorTypeName };

function frameRate(rate: string | undefined): number | null {
  if (!rate) return null;
  const [n, d] = rate.split('/').map(Number);
  if (!n || !d) return null;
  return Math.round((n / d) * 100) / 100;
}

/**
 * Decides whether ffprobe's output describes a playable video. A still image or an audio
 * file probes fine but is not a video; neither is a "video" stream that is cover art.
 */
export function interpretProbe(json: string): ProbeVerdict {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return { ok: false, reason: 'ffprobe returned unreadable output', type: 'InvalidMedia' };
  }
  const parsed = probeSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: 'ffprobe output has an unexpected shape', type: 'InvalidMedia' };
  const { streams, format } = parsed.data;
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!video) return { ok: false, reason: 'no video stream found', type: 'NoVideoStream' };
  const width = video.width ?? 0;
  const height = video.height ?? 0;
  if (width <= 0 || height <= 0) return { ok: false, reason: 'video stream has no picture size', type: 'InvalidMedia' };
  const durationSec = Number(format.duration ?? video.duration ?? NaN);
  const container = format.format_name ?? 'unknown';
  // A JPEG or PNG probes as a one-frame "video" with a tiny duration: not a video to us.
  if (/^(image2|\w+_pipe)$/.test(container)) return { ok: false, reason: `a still image (${container}), not a video`, type: 'NotAVideo' };
  if (!Number.isFinite(durationSec) || durationSec <= 0) {
    return { ok: false, reason: `no usable duration (${container}); a still image is not a video`, type: 'NotAVideo' };
  }
  const audios = streams.filter((s) => s.codec_type === 'audio');
  const audio = audios.find((s) => s.disposition?.default === 1) ?? audios[0];
  const nbFrames = Number(video.nb_frames ?? NaN);
  return {
    ok: true,
    facts: {
      durationSec: Math.round(durationSec * 1000) / 1000,
      width,
      height,
      videoCodec: video.codec_name ?? 'unknown',
      audioCodec: audio?.codec_name ?? null,
      frameRate: frameRate(video.avg_frame_rate) ?? frameRate(video.r_frame_rate),
      sizeBytes: Number(format.size ?? 0),
      container,
    },
    plan: {
      videoIndex: video.index ?? 0,
      audioIndex: audio ? (audio.index ?? null) : null,
      fieldOrder: video.field_order,
      pixelFormat: video.pix_fmt,
      frameCount: Number.isFinite(nbFrames) && nbFrames > 0 ? nbFrames : undefined,
    },
  };
}

/** The gate's bounds, declared with their variables in the config's media area. */
export type { MediaLimits };

/**
 * The gate before any work: a deterministic reason the upload can never succeed, phrased so
 * its owner can act on it, or undefined. Limits are configuration (MEDIA_MAX_* / MEDIA_MIN_*).
 */
export function checkLimits(facts: MediaFacts, plan: StreamPlan, limits: MediaLimits): { type: ErrorTypeName; reason: string } | undefined {
  const { width, height, durationSec } = facts;
  if (width > limits.maxWidth || height > limits.maxHeight || width * height > limits.maxPixels) {
    return {
      type: 'MediaTooLarge',
      reason: `the video is ${width}x${height}; the limit is ${limits.maxWidth}x${limits.maxHeight} and ${limits.maxPixels} pixels per frame — scale it down before uploading`,
    };
  }
  if (durationSec > limits.maxDurationSec) {
    return {
      type: 'MediaTooLong',
      reason: `the video lasts ${durationSec} s; the limit is ${limits.maxDurationSec} s — split it or trim it before uploading`,
    };
  }
  const frames = plan.frameCount ?? (facts.frameRate ? Math.round(durationSec * facts.frameRate) : undefined);
  if (durationSec < limits.minDurationSec || (frames !== undefined && frames < limits.minFrames)) {
    return {
      type: 'MediaTooShort',
      reason: `the video lasts ${durationSec} s${frames !== undefined ? ` with ${frames} frame(s)` : ''}; a video needs at least ${limits.minDurationSec} s and ${limits.minFrames} frames — upload a still image as an image, not as a video`,
    };
  }
  return undefined;
}

/** Declared interlacing: field orders other than progressive mean the frames are interlaced. */
export function declaredInterlaced(fieldOrder: string | undefined): boolean | undefined {
  if (!fieldOrder || fieldOrder === 'unknown') return undefined;
  return fieldOrder !== 'progressive';
}

/**
 * Reads ffmpeg's idet summary (`Multi frame detection: TFF: 0 BFF: 0 Progressive: 40 Undetermined: 2`)
 * and says whether most decided frames are interlaced.
 */
export function idetSaysInterlaced(stderr: string): boolean | undefined {
  const m = /Multi frame detection:\s*TFF:\s*(\d+)\s*BFF:\s*(\d+)\s*Progressive:\s*(\d+)/.exec(stderr);
  if (!m) return undefined;
  const [tff, bff, prog] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (tff + bff + prog === 0) return undefined;
  return tff + bff > prog;
}
