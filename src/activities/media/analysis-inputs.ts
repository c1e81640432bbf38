import { Context } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStorage } from '../../adapters/storage/port';
import type { FfmpegConfig } from '../../config';
import { ErrorType, failure } from '../../errors';
import {
  audioChunkArgs,
  keyframeSampleArgs,
  parseFrameTimes,
  parseMaxVolume,
  pickInWindow,
  sampleWindows,
  segmentSeconds,
  SILENCE_MAX_DB,
} from '../../media/analysis-args';
import { parseProgressLine } from '../../media/ffmpeg-args';
import { lastErrorLine } from '../../media/run-process';
import { analysisInputKey } from '../../media/artifact-keys';
import { replaceDir, scratchName, sweepStaleScratch } from '../../media/work-area';
import type { AnalysisInputs, AnalysisInputsInput, HeartbeatProgress } from '../../workflows/contracts';
import { localRendition } from './local-rendition';
import { scrub } from './media-failures';
import { QUICK_TOOL_LIMIT, runTool, startHeartbeats, stallOf } from './run-tool';

/**
 * What the AI step looks at: a handful of keyframes (one per equal part of the video, a scene
 * change where its window has one) and the audio track in chunks under the transcription
 * endpoint's size limit. Runs on the media queue (ffmpeg is CPU work) and returns keys, paths and
 * digests only: bytes never enter workflow history. With a store, each input is published under
 * `analysis/<videoId>/inputs/…` (content-addressed: two attempts never overwrite each other's
 * object with other bytes), so an AI worker on another host reads it from there; the local
 * `path` stays for histories recorded before the store and as a same-host shortcut.
 *
 * Every ffmpeg run goes through the media runner (`runTool`: process group, parent-death
 * signal, stall watchdog, typed stall failure) under the one heartbeat ticker, so no phase —
 * sampling, the audio pass, digesting — goes quiet long enough for the heartbeat timeout.
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
  /** The audio pass's output time not advancing for this long → killed, TranscodeStalled (default 10 s). */
  stallTimeoutMs?: number;
  /** The data plane: where the rendition is fetched from on a local miss and where the inputs are published. */
  storage?: ObjectStorage;
}

/** Share of the progress bar each phase gets (the audio pass reads the whole file: the most). */
const KEYFRAMES_END_PERCENT = 15;
const AUDIO_END_PERCENT = 95;

export function createAnalysisInputsActivities(deps: AnalysisInputsDeps) {
  const { ffmpegPath } = deps.ffmpeg;
  // Like the transcode: 0 lets ffmpeg use every core.
  const threads = deps.ffmpeg.threads;

  return {
    async extractAnalysisInputs(input: AnalysisInputsInput): Promise<AnalysisInputs> {
      const ctx = Context.current();
      const signal = ctx.cancellationSignal;
      const { beat, stop } = startHeartbeats(ctx, { phase: 'keyframes', percent: 0 });
      const what = `video ${input.videoId}`;
      const finalDir = path.join(deps.artifactsDir, input.videoId, 'analysis-inputs');
      const workDir = scratchName(finalDir, ctx.info.attempt);
      // A rendition fetched from the store for this attempt only. Inside the work dir: if this
      // worker is killed, the next attempt's sweep of the work dir takes it too (beside it, in
      // the artifacts dir, no sweep ever looked, and a killed attempt's copy stayed for good).
      const fetched = path.join(workDir, 'rendition.mp4');
      try {
        // Scratch dirs of this video's earlier attempts whose worker died (SIGKILL, a rolling
        // restart's kill) would otherwise stay: no later attempt has their name.
        await sweepStaleScratch(path.dirname(finalDir), { videoId: path.basename(finalDir), keep: path.basename(workDir) });
        await rm(workDir, { recursive: true, force: true });
        await mkdir(workDir, { recursive: true });
        input = {
          ...input,
          renditionPath: await localRendition(
            { ...input, mediaDir: deps.mediaDir, storage: deps.storage },
            fetched,
            signal,
            'the analysis inputs',
          ),
        };

        // Keyframes: one short seek-and-scan per window, whatever the video's length.
        const windows = sampleWindows(input.durationSec, deps.keyframes);
        const picked: { file: string; atSec: number }[] = [];
        for (const [i, window] of windows.entries()) {
          beat({ phase: 'keyframes', percent: Math.floor((i / windows.length) * KEYFRAMES_END_PERCENT) });
          const prefix = `window-${String(i).padStart(2, '0')}`;
          const res = await runTool(
            ffmpegPath,
            keyframeSampleArgs({
              input: input.renditionPath,
              window,
              outPattern: path.join(workDir, `${prefix}-%d.jpg`),
              maxSide: deps.keyframeMaxSide,
              threads,
            }),
            // A sample reads a few seconds of video, and its -progress time stops once its two
            // pictures are written: watched by a plain time limit, not by position.
            { signal, stall: QUICK_TOOL_LIMIT },
            what,
          );
          if (res.code !== 0)
            throw failure(
              ErrorType.TranscodeFailed,
              `keyframe extraction failed: ${scrub(lastErrorLine(res.stderrTail), input.renditionPath, workDir)}`,
            );
          const pick = pickInWindow(parseFrameTimes(res.stdout));
          if (!pick) continue;
          const atSec = Math.round((window.startSec + pick.offsetSec) * 1000) / 1000;
          // A sparse recording can hand two windows the same frame: keep it once.
          if (picked.some((p) => Math.abs(p.atSec - atSec) < 0.001)) continue;
          const file = path.join(workDir, `keyframe-${String(picked.length + 1).padStart(2, '0')}.jpg`);
          await rename(path.join(workDir, `${prefix}-${pick.index + 1}.jpg`), file);
          picked.push({ file, atSec });
        }
        for (const name of await readdir(workDir)) if (name.startsWith('window-')) await rm(path.join(workDir, name), { force: true });

        let audio: AnalysisInputs['audio'] = input.hasAudio ? 'present' : 'none';
        const segSec = segmentSeconds(deps.audioChunkBytes);
        if (input.hasAudio) {
          beat({ phase: 'audio', percent: KEYFRAMES_END_PERCENT });
          const res = await runTool(
            ffmpegPath,
            audioChunkArgs({ input: input.renditionPath, outPattern: path.join(workDir, 'audio-%03d.mp3'), segmentSec: segSec, threads }),
            {
              signal,
              stall: stallOf(deps),
              onStdoutLine: (line) => {
                const doneSec = parseProgressLine(line);
                if (doneSec === undefined || !(input.durationSec > 0)) return;
                const share = Math.min(1, doneSec / input.durationSec);
                beat({
                  phase: 'audio',
                  percent: KEYFRAMES_END_PERCENT + Math.floor(share * (AUDIO_END_PERCENT - KEYFRAMES_END_PERCENT)),
                  encodedSec: Math.round(doneSec * 10) / 10,
                });
              },
            },
            what,
          );
          if (res.code !== 0)
            throw failure(
              ErrorType.TranscodeFailed,
              `audio extraction failed: ${scrub(lastErrorLine(res.stderrTail), input.renditionPath, workDir)}`,
            );
          const peak = parseMaxVolume(res.stderrTail);
          if (peak !== undefined && peak < SILENCE_MAX_DB) {
            audio = 'silent';
            for (const name of await readdir(workDir)) if (name.startsWith('audio-')) await rm(path.join(workDir, name), { force: true });
          }
        }

        beat({ phase: 'digest', percent: AUDIO_END_PERCENT });
        await rm(fetched, { force: true }); // an input of this attempt, not one of the analysis
        await replaceDir(workDir, finalDir, scratchName(`${finalDir}.old`, ctx.info.attempt));
        const keyframes: AnalysisInputs['keyframes'] = [];
        for (const p of picked) {
          const file = path.join(finalDir, path.basename(p.file));
          keyframes.push({ path: file, ...(await digest(file, beat)), atSec: p.atSec });
        }
        const audioChunks: AnalysisInputs['audioChunks'] = [];
        for (const name of (await readdir(finalDir)).filter((n) => n.startsWith('audio-')).sort()) {
          const file = path.join(finalDir, name);
          const startSec = audioChunks.length * segSec;
          audioChunks.push({
            path: file,
            ...(await digest(file, beat)),
            startSec,
            durationSec: Math.max(0, Math.min(segSec, input.durationSec - startSec)),
          });
        }
        if (deps.storage) {
          for (const item of [...keyframes, ...audioChunks]) {
            const key = analysisInputKey(input.videoId, path.basename(item.path), item.sha256);
            const type = item.path.endsWith('.jpg') ? 'image/jpeg' : 'audio/mpeg';
            await storageCall(() => deps.storage!.putFile(key, item.path, type), input.videoId);
            item.key = key;
            beat({ phase: 'digest', percent: AUDIO_END_PERCENT });
          }
        }
        if (deps.storage) {
          // Published: this host keeps nothing of the video (the AI step fetches by key on a miss).
          await rm(finalDir, { recursive: true, force: true });
          await rmdir(path.dirname(finalDir)).catch(() => undefined);
        }
        beat({ phase: 'digest', percent: 100 });
        ctx.log.info('analysis inputs extracted', {
          videoId: input.videoId,
          keyframes: keyframes.length,
          keyframeTimes: keyframes.map((k) => k.atSec),
          audioChunks: audioChunks.length,
          audio,
        });
        return { keyframes, audioChunks, audio };
      } finally {
        stop();
        await rm(workDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * At media worker start: analysis-input work dirs of attempts whose process is gone. Each
 * attempt sweeps its own video's, but a retry that ran on another host never comes back here;
 * with `everyVideo` (an S3 store, where this dir holds only work in flight) every video's dir is
 * walked, and emptied ones go. Also the top level, where a fetched rendition was once kept.
 */
export async function sweepAnalysisScratch(artifactsDir: string, opts: { everyVideo: boolean }): Promise<string[]> {
  const swept = await sweepStaleScratch(artifactsDir);
  if (!opts.everyVideo) return swept;
  const entries = await readdir(artifactsDir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries.filter((e) => e.isDirectory())) {
    const videoDir = path.join(artifactsDir, entry.name);
    const gone = await sweepStaleScratch(videoDir);
    swept.push(...gone.map((name) => path.join(entry.name, name)));
    if (gone.length > 0) await rmdir(videoDir).catch(() => undefined); // only if that emptied it
  }
  return swept;
}

async function storageCall<T>(fn: () => Promise<T>, videoId: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Error && err.name === 'AbortError') throw err;
    // Already typed (the store's outage carries its retry pause): kept as it is.
    if ((err as { type?: string }).type !== undefined) throw err;
    throw failure(
      ErrorType.StorageUnavailable,
      `object storage failed for the analysis inputs of video ${videoId}: ${(err as Error).message}`,
    );
  }
}

/** SHA-256 and size, streamed (an audio chunk is up to 20 MB), beating as it goes. */
async function digest(file: string, beat: (p: Omit<HeartbeatProgress, 'attempt'>) => void): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  beat({ phase: 'digest', percent: AUDIO_END_PERCENT });
  return { sha256: hash.digest('hex'), bytes: (await stat(file)).size };
}

export type AnalysisInputsActivities = ReturnType<typeof createAnalysisInputsActivities>;
