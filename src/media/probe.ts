import { z } from 'zod';
import type { MediaFacts } from '../workflows/contracts';

/** The slice of ffprobe's JSON we rely on; everything else is ignored. */
const probeSchema = z.object({
  streams: z
    .array(
      z.object({
        codec_type: z.string().optional(),
        codec_name: z.string().optional(),
        width: z.number().optional(),
        height: z.number().optional(),
        avg_frame_rate: z.string().optional(),
        r_frame_rate: z.string().optional(),
        duration: z.string().optional(),
        disposition: z.object({ attached_pic: z.number().optional() }).partial().optional(),
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

export type ProbeVerdict = { ok: true; facts: MediaFacts } | { ok: false; reason: string };

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
    return { ok: false, reason: 'ffprobe returned unreadable output' };
  }
  const parsed = probeSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: 'ffprobe output has an unexpected shape' };
  const { streams, format } = parsed.data;
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!video) return { ok: false, reason: 'no video stream found' };
  const width = video.width ?? 0;
  const height = video.height ?? 0;
  if (width <= 0 || height <= 0) return { ok: false, reason: 'video stream has no picture size' };
  const durationSec = Number(format.duration ?? video.duration ?? NaN);
  const container = format.format_name ?? 'unknown';
  // A JPEG or PNG probes as a one-frame "video" with a tiny duration: not a video to us.
  if (/^(image2|\w+_pipe)$/.test(container)) return { ok: false, reason: `a still image (${container}), not a video` };
  if (!Number.isFinite(durationSec) || durationSec <= 0) {
    return { ok: false, reason: `no usable duration (${container}); a still image is not a video` };
  }
  const audio = streams.find((s) => s.codec_type === 'audio');
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
  };
}
