import { Context } from '@temporalio/activity';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStorage } from '../../adapters/storage/port';
import type { FfmpegConfig } from '../../config';
import type { SsrfPolicy } from '../../net/ssrf-guard';
import { ErrorType, failure } from '../../errors';
import { parseProgressLine, probeArgs, renditionArgs, thumbnailArgs, thumbnailTime } from '../../media/ffmpeg-args';
import { interpretProbe } from '../../media/probe';
import { lastErrorLine, runProcess } from '../../media/run-process';
import { materializeSource } from '../../media/source';
import type { HeartbeatProgress, MediaFacts, TranscodeInput, TranscodeOutput } from '../../workflows/contracts';

export interface MediaDeps {
  ffmpeg: FfmpegConfig;
  mediaDir: string;
  tmpDir: string;
  maxSourceBytes: number;
  /** Longest rendition side; 720p keeps demo and CI encodes quick. */
  maxHeight?: number;
  /** Issue 18: where uploads are read and renditions/thumbnails published; without it, mediaDir. */
  storage?: ObjectStorage;
  ssrf?: SsrfPolicy;
}

/** A rendition shorter than this share of the source means ffmpeg stopped early (truncated input). */
const MIN_DURATION_RATIO = 0.9;

export function createMediaActivities(deps: MediaDeps) {
  const { ffmpegPath, ffprobePath } = deps.ffmpeg;

  async function probe(file: string, signal: AbortSignal, what: string): Promise<MediaFacts> {
    const res = await runProcess(ffprobePath, probeArgs(file), { signal });
    if (res.code !== 0) {
      throw failure(ErrorType.InvalidMedia, `${what} is not readable media: ${lastErrorLine(res.stderrTail)}`);
    }
    const verdict = interpretProbe(res.stdout);
    if (!verdict.ok) throw failure(ErrorType.InvalidMedia, `${what} is not a video: ${verdict.reason}`);
    return verdict.facts;
  }

  return {
    /** validate (ffprobe) → H.264/AAC MP4 rendition → JPEG thumbnail, with progress heartbeats. */
    async transcode(input: TranscodeInput): Promise<TranscodeOutput> {
      const ctx = Context.current();
      const signal = ctx.cancellationSignal;
      const beat = (p: HeartbeatProgress) => ctx.heartbeat(p);
      // One work dir per attempt, removed on every path: a failed attempt leaves nothing behind.
      const workDir = path.join(deps.tmpDir, `${input.videoId}.attempt-${ctx.info.attempt}`);
      await rm(workDir, { recursive: true, force: true });
      await mkdir(workDir, { recursive: true });
      try {
        beat({ phase: 'fetch', percent: 0 });
        const local = await materializeSource(input.source, {
          workDir,
          maxBytes: deps.maxSourceBytes,
          signal,
          ssrf: deps.ssrf,
          storage: deps.storage,
          // A long download must keep heartbeating or the server times the attempt out.
          onProgress: (_bytes, percent) => beat({ phase: 'fetch', percent: percent ?? 0 }),
        });
        beat({ phase: 'probe', percent: 0 });
        const sourceFacts = await probe(local, signal, 'the source');

        const renditionTmp = path.join(workDir, 'rendition.mp4');
        beat({ phase: 'transcode', percent: 0 });
        const encoded = await runProcess(
          ffmpegPath,
          renditionArgs({
            input: local,
            output: renditionTmp,
            preset: deps.ffmpeg.preset,
            threads: deps.ffmpeg.threads,
            maxHeight: deps.maxHeight ?? 720,
          }),
          {
            signal,
            onStdoutLine: (line) => {
              const done = parseProgressLine(line);
              if (done === undefined) return;
              const percent = Math.min(99, Math.floor((done / sourceFacts.durationSec) * 100));
              beat({ phase: 'transcode', percent });
            },
          },
        );
        if (encoded.code !== 0) {
          throw failure(
            ErrorType.TranscodeFailed,
            `ffmpeg exited with ${encoded.code ?? encoded.signal}: ${lastErrorLine(encoded.stderrTail)}`,
          );
        }
        const renditionFacts = await probe(renditionTmp, signal, 'the rendition');
        if (renditionFacts.durationSec < sourceFacts.durationSec * MIN_DURATION_RATIO - 0.5) {
          // ffmpeg exits 0 on a truncated file that probes with its full duration.
          throw failure(
            ErrorType.InvalidMedia,
            `the source is truncated: it claims ${sourceFacts.durationSec}s but only ${renditionFacts.durationSec}s could be decoded`,
          );
        }

        beat({ phase: 'thumbnail', percent: 99 });
        const thumbTmp = path.join(workDir, 'thumbnail.jpg');
        const thumb = await runProcess(ffmpegPath, thumbnailArgs(renditionTmp, thumbTmp, thumbnailTime(renditionFacts.durationSec)), {
          signal,
        });
        const thumbSize = (await stat(thumbTmp).catch(() => undefined))?.size ?? 0;
        if (thumb.code !== 0 || thumbSize === 0) {
          throw failure(ErrorType.TranscodeFailed, `thumbnail extraction failed: ${lastErrorLine(thumb.stderrTail)}`);
        }

        // Publish through the storage port (atomic rename on disk, multipart upload on S3): readers
        // see either the old complete files or the new complete files.
        let renditionPath: string;
        let thumbnailPath: string;
        if (deps.storage) {
          renditionPath = (await deps.storage.putFile(`media/${input.videoId}/rendition.mp4`, renditionTmp, 'video/mp4')).location;
          thumbnailPath = (await deps.storage.putFile(`media/${input.videoId}/thumbnail.jpg`, thumbTmp, 'image/jpeg')).location;
        } else {
          const outDir = path.join(deps.mediaDir, input.videoId);
          await mkdir(outDir, { recursive: true });
          renditionPath = path.join(outDir, 'rendition.mp4');
          thumbnailPath = path.join(outDir, 'thumbnail.jpg');
          await rename(renditionTmp, renditionPath);
          await rename(thumbTmp, thumbnailPath);
        }
        beat({ phase: 'done', percent: 100 });
        // The activity logger adds workflow id, run id, activity type and attempt to every line.
        ctx.log.info('transcoded', { videoId: input.videoId, source: sourceFacts, rendition: renditionFacts, renditionPath });
        return { renditionPath, thumbnailPath, source: sourceFacts, rendition: renditionFacts };
      } finally {
        await rm(workDir, { recursive: true, force: true });
      }
    },
  };
}

export type MediaActivities = ReturnType<typeof createMediaActivities>;
