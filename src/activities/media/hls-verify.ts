/**
 * Verification of an HLS ladder ffmpeg has just written, before it is published: what the
 * master playlist will declare is measured here, not taken from the settings.
 */
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorType, failure } from '../../errors';
import { streamsAndPacketsProbeArgs } from '../../media/ffmpeg-args';
import type { Rung } from '../../media/hls-ladder';
import {
  aacCodec,
  avcCodecFromInit,
  mediaPlaylistProblems,
  parseMediaPlaylist,
  withLastSegmentDuration,
  type MasterEntry,
} from '../../media/hls-playlist';
import { packetTimes, ptsSpan, variantTimingProblems, type PtsSpan } from '../../media/hls-timing';
import { QUICK_TOOL_LIMIT, runTool } from './run-tool';

/** A variant's video may span, and its playlist add up to, this much more or less than the rendition's video. */
const DURATION_TOLERANCE_SEC = 0.5;

export interface VerifiedVariant {
  name: string;
  segmentCount: number;
  master: MasterEntry & { bandwidth: number };
}

/**
 * Checks what ffmpeg wrote, variant by variant, and measures what the master playlist
 * declares: each playlist parses and is complete, every file it names exists and is not
 * empty, the probed size is the rung's, the codec strings come from the init segment itself,
 * and the variant's video spans the rendition's (first and last frame, measured on both sides
 * from packet times). The last segment's EXTINF is measured and rewritten (hls-timing.ts says why).
 */
export async function verifyVariants(ladder: {
  /** The staging dir ffmpeg wrote the ladder to. */
  dir: string;
  rungs: readonly Rung[];
  hasAudio: boolean;
  /** The rendition's video: first and last frame times, and where its last frame ends. */
  renditionVideo: { span: PtsSpan; endSec: number };
  frameRate: number | null;
  signal: AbortSignal;
  ffprobePath: string;
}): Promise<VerifiedVariant[]> {
  const { dir, rungs, hasAudio, renditionVideo, frameRate, signal, ffprobePath } = ladder;
  const out: VerifiedVariant[] = [];
  for (const rung of rungs) {
    const variantDir = path.join(dir, rung.name);
    const playlistFile = path.join(variantDir, 'index.m3u8');
    const text = await readFile(playlistFile, 'utf8').catch(() => undefined);
    if (text === undefined) throw failure(ErrorType.TranscodeFailed, `HLS variant ${rung.name} has no playlist`);
    const written = parseMediaPlaylist(text);
    const problems = mediaPlaylistProblems(written);
    if (problems.length) throw failure(ErrorType.TranscodeFailed, `HLS variant ${rung.name}: ${problems.join('; ')}`);
    const init = await readFile(path.join(variantDir, written.map ?? 'init.mp4'));
    const sizes: number[] = [];
    for (const seg of written.segments) {
      const size = (await stat(path.join(variantDir, seg.uri)).catch(() => undefined))?.size ?? 0;
      if (size === 0) throw failure(ErrorType.TranscodeFailed, `HLS variant ${rung.name}: segment ${seg.uri} is missing or empty`);
      sizes.push(size);
    }

    // Init + first segment (the init alone carries no profile or level), init + last segment.
    const first = await probeSegment(dir, rung.name, init, path.join(variantDir, written.segments[0]?.uri ?? ''), signal, ffprobePath);
    const lastUri = written.segments.at(-1)?.uri ?? '';
    const last =
      written.segments.length > 1 ? await probeSegment(dir, rung.name, init, path.join(variantDir, lastUri), signal, ffprobePath) : first;
    const video = first.streams.find((s) => s.codec_type === 'video');
    const audio = first.streams.find((s) => s.codec_type === 'audio');
    if (!first.ok || !video) throw failure(ErrorType.TranscodeFailed, `HLS variant ${rung.name}: its first segment has no video`);
    const firstSpan = ptsSpan(first.videoPts);
    const lastSpan = ptsSpan(last.videoPts);
    if (!firstSpan || !lastSpan) throw failure(ErrorType.TranscodeFailed, `HLS variant ${rung.name}: a segment holds no video frames`);

    // In the variant's own time line: fragments without an edit list present B-frame video a
    // frame or two late, the first segment as much as the last.
    const shift = firstSpan.first - renditionVideo.span.first;
    const lastSec = renditionVideo.endSec + shift - lastSpan.first;
    if (!(lastSec > 0))
      throw failure(ErrorType.TranscodeFailed, `HLS variant ${rung.name}: its last segment starts after the rendition's video ends`);
    const measured = withLastSegmentDuration(text, lastSec);
    const playlist = parseMediaPlaylist(measured);
    const stillWrong = mediaPlaylistProblems(playlist);
    if (stillWrong.length) throw failure(ErrorType.TranscodeFailed, `HLS variant ${rung.name}: ${stillWrong.join('; ')}`);
    if (measured !== text) await writeFile(playlistFile, measured);
    const totalSec = playlist.segments.reduce((sum, seg) => sum + seg.duration, 0);
    const timing = variantTimingProblems({
      name: rung.name,
      variantFirst: firstSpan,
      variantLast: lastSpan,
      rendition: renditionVideo.span,
      playlistSec: totalSec,
      renditionSec: renditionVideo.endSec - renditionVideo.span.first,
      toleranceSec: DURATION_TOLERANCE_SEC,
    });
    if (timing.length) throw failure(ErrorType.TranscodeFailed, timing.join('; '));

    if (video.width !== rung.width || video.height !== rung.height)
      throw failure(
        ErrorType.TranscodeFailed,
        `HLS variant ${rung.name} is ${video.width}x${video.height}, not the declared ${rung.width}x${rung.height}`,
      );
    if (hasAudio && audio?.codec_name !== 'aac')
      throw failure(ErrorType.TranscodeFailed, `HLS variant ${rung.name}: its first segment has no AAC audio`);
    const avc = avcCodecFromInit(init);
    if (!avc) throw failure(ErrorType.TranscodeFailed, `HLS variant ${rung.name}: its init segment holds no H.264 configuration`);
    const totalBytes = sizes.reduce((a, b) => a + b, 0);
    const peak = Math.max(...playlist.segments.map((seg, i) => ((sizes[i] ?? 0) * 8) / seg.duration));
    out.push({
      name: rung.name,
      segmentCount: playlist.segments.length,
      master: {
        uri: `${rung.name}/index.m3u8`,
        bandwidth: Math.ceil(peak),
        averageBandwidth: Math.ceil((totalBytes * 8) / totalSec),
        width: rung.width,
        height: rung.height,
        codecs: hasAudio ? `${avc},${aacCodec(audio?.profile)}` : avc,
        frameRate,
      },
    });
  }
  return out;
}

interface ProbedStream {
  index?: number;
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  width?: number;
  height?: number;
}

/** One segment as a player reads it (init + segment, in a scratch file): its streams and video packet times. */
async function probeSegment(
  dir: string,
  rungName: string,
  init: Buffer,
  segmentFile: string,
  signal: AbortSignal,
  ffprobePath: string,
): Promise<{ ok: boolean; streams: ProbedStream[]; videoPts: number[] }> {
  const sample = path.join(dir, `.probe-${rungName}.mp4`);
  await writeFile(sample, Buffer.concat([init, await readFile(segmentFile)]));
  try {
    const probed = await runTool(
      ffprobePath,
      streamsAndPacketsProbeArgs(sample),
      { signal, stall: QUICK_TOOL_LIMIT },
      `HLS variant ${rungName}`,
    );
    const streams = probeStreams(probed.stdout);
    const video = streams.find((s) => s.codec_type === 'video');
    return { ok: probed.code === 0, streams, videoPts: video?.index === undefined ? [] : packetTimes(probed.stdout, video.index) };
  } finally {
    await rm(sample, { force: true });
  }
}

function probeStreams(json: string): ProbedStream[] {
  try {
    const parsed = JSON.parse(json) as { streams?: ProbedStream[] };
    return Array.isArray(parsed.streams) ? parsed.streams : [];
  } catch {
    return [];
  }
}
