import { Context } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FfmpegConfig } from '../../config';
import { ErrorType, failure } from '../../errors';
import { lastErrorLine, runProcess } from '../../media/run-process';
import type { AnalysisInputs, AnalysisInputsInput } from '../../workflows/contracts';

/**
 * What the AI step looks at: a handful of keyframes (scene changes, with an even-spacing
 * fallback so a static video still gets frames from all of it) and the audio track in chunks
 * under the transcription endpoint's size limit. Runs on the media queue (ffmpeg is CPU work)
 * and returns paths and digests only: bytes never enter workflow history.
 */
export interface AnalysisInputsDeps {
  ffmpeg: FfmpegConfig;
  artifactsDir: string;
  /** At most this many keyframes. */
  keyframes: number;
  /** Longest side of a keyframe, in pixels. */
  keyframeMaxSide: number;
  /** Each audio chunk stays below this many bytes (OpenAI's limit is 25 MB). */
  audioChunkBytes: number;
  /** The media queue's published copies: read when the rendition lives in remote object storage (s3://…). */
  mediaDir?: string;
}

/** Mono 16 kHz MP3 at 32 kbit/s: speech stays intelligible, an hour is ~14 MB. */
const AUDIO_BITRATE_BPS = 32_000;
/** Peak below this is silence for our purposes (digital silence reads -91 dB). */
const SILENCE_MAX_DB = -60;
/** A frame counts as a scene change above this score (ffmpeg's scene detector, 0..1). */
const SCENE_THRESHOLD = 0.3;

export function keyframeArgs(o: {
  input: string;
  outPattern: string;
  durationSec: number;
  max: number;
  maxSide: number;
  threads: number;
}): string[] {
  // Spacing for the fallback: frames at least every `gap` seconds even without a scene change,
  // and scene changes closer than a second to the previous pick are skipped (flash frames).
  const gap = Math.max(1, o.durationSec / o.max);
  const select = `eq(n\\,0)+gt(scene\\,${SCENE_THRESHOLD})*gte(t-prev_selected_t\\,1)+gte(t-prev_selected_t\\,${gap.toFixed(3)})`;
  const scale = `scale='if(gt(iw,ih),min(${o.maxSide},iw),-2)':'if(gt(iw,ih),-2,min(${o.maxSide},ih))'`;
  return [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-v',
    'error',
    '-threads',
    String(o.threads),
    '-i',
    o.input,
    // metadata=print:file=- writes "frame:N pts:P pts_time:T" for each picked frame to stdout.
    '-an',
    '-vf',
    `select='${select}',metadata=mode=print:file=-,${scale}`,
    '-fps_mode',
    'vfr',
    '-frames:v',
    String(o.max),
    '-q:v',
    '5',
    o.outPattern,
  ];
}

export function audioArgs(o: { input: string; outPattern: string; segmentSec: number; threads: number }): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-v',
    'error',
    '-threads',
    String(o.threads),
    '-i',
    o.input,
    '-vn',
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
    String(o.segmentSec),
    '-reset_timestamps',
    '1',
    o.outPattern,
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

/** `pts_time:1.23` per selected frame from the metadata filter's print, in output order. */
export function parseFrameTimes(stdout: string): number[] {
  return [...stdout.matchAll(/pts_time:\s*([\d.]+)/g)].map((m) => Number(m[1]));
}

export function createAnalysisInputsActivities(deps: AnalysisInputsDeps) {
  const { ffmpegPath } = deps.ffmpeg;
  const threads = deps.ffmpeg.threads || 1;

  return {
    async extractAnalysisInputs(input: AnalysisInputsInput): Promise<AnalysisInputs> {
      const ctx = Context.current();
      const signal = ctx.cancellationSignal;
      if (input.renditionPath.includes('://') && deps.mediaDir) {
        input = { ...input, renditionPath: path.join(deps.mediaDir, input.videoId, 'rendition.mp4') };
      }
      const finalDir = path.join(deps.artifactsDir, input.videoId, 'analysis-inputs');
      const workDir = `${finalDir}.attempt-${ctx.info.attempt}`;
      await rm(workDir, { recursive: true, force: true });
      await mkdir(workDir, { recursive: true });
      try {
        ctx.heartbeat({ phase: 'keyframes', percent: 0 });
        const kfArgs = keyframeArgs({
          input: input.renditionPath,
          outPattern: path.join(workDir, 'keyframe-%02d.jpg'),
          durationSec: input.durationSec,
          max: deps.keyframes,
          maxSide: deps.keyframeMaxSide,
          threads,
        });
        const kf = await runProcess(ffmpegPath, kfArgs, { signal });
        if (kf.code !== 0) throw failure(ErrorType.TranscodeFailed, `keyframe extraction failed: ${lastErrorLine(kf.stderrTail)}`);
        const times = parseFrameTimes(kf.stdout);

        let audio: AnalysisInputs['audio'] = input.hasAudio ? 'present' : 'none';
        if (input.hasAudio) {
          ctx.heartbeat({ phase: 'audio', percent: 40 });
          const vol = await runProcess(
            ffmpegPath,
            [
              '-hide_banner',
              '-nostdin',
              '-threads',
              String(threads),
              '-i',
              input.renditionPath,
              '-vn',
              '-af',
              'volumedetect',
              '-f',
              'null',
              '-',
            ],
            { signal },
          );
          const peak = vol.code === 0 ? parseMaxVolume(vol.stderrTail) : undefined;
          if (peak !== undefined && peak < SILENCE_MAX_DB) audio = 'silent';
        }
        if (audio === 'present') {
          const res = await runProcess(
            ffmpegPath,
            audioArgs({
              input: input.renditionPath,
              outPattern: path.join(workDir, 'audio-%03d.mp3'),
              segmentSec: segmentSeconds(deps.audioChunkBytes),
              threads,
            }),
            { signal },
          );
          if (res.code !== 0) throw failure(ErrorType.TranscodeFailed, `audio extraction failed: ${lastErrorLine(res.stderrTail)}`);
        }
        ctx.heartbeat({ phase: 'digest', percent: 90 });

        await rm(finalDir, { recursive: true, force: true });
        await rename(workDir, finalDir);
        const files = (await readdir(finalDir)).sort();
        const keyframes: AnalysisInputs['keyframes'] = [];
        const audioChunks: AnalysisInputs['audioChunks'] = [];
        const segSec = segmentSeconds(deps.audioChunkBytes);
        for (const name of files) {
          const file = path.join(finalDir, name);
          const { sha256, bytes } = await digest(file);
          if (name.startsWith('keyframe-')) keyframes.push({ path: file, sha256, bytes, atSec: times[keyframes.length] ?? 0 });
          else if (name.startsWith('audio-')) {
            const startSec = audioChunks.length * segSec;
            audioChunks.push({
              path: file,
              sha256,
              bytes,
              startSec,
              durationSec: Math.max(0, Math.min(segSec, input.durationSec - startSec)),
            });
          }
        }
        ctx.heartbeat({ phase: 'digest', percent: 100 });
        ctx.log.info('analysis inputs extracted', {
          videoId: input.videoId,
          keyframes: keyframes.length,
          audioChunks: audioChunks.length,
          audio,
        });
        return { keyframes, audioChunks, audio };
      } finally {
        await rm(workDir, { recursive: true, force: true });
      }
    },
  };
}

async function digest(file: string): Promise<{ sha256: string; bytes: number }> {
  const [buf, st] = await Promise.all([readFile(file), stat(file)]);
  return { sha256: createHash('sha256').update(buf).digest('hex'), bytes: st.size };
}

export type AnalysisInputsActivities = ReturnType<typeof createAnalysisInputsActivities>;
