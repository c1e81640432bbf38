/**
 * The single-pass transcode: the whole source encoded in one ffmpeg run, for videos too short
 * to be worth segmenting (segments.ts has the long-video path; both share rendition.ts).
 */
import { Context } from '@temporalio/activity';
import type { ApplicationFailure } from '@temporalio/common';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ErrorType, failure } from '../../errors';
import { parseProgressLine, renditionArgs } from '../../media/ffmpeg-args';
import { lastErrorLine } from '../../media/run-process';
import type { ObjectStorage } from '../../adapters/storage/port';
import { scratchName, sweepStaleScratch } from '../../media/work-area';
import { createWorkStore } from '../../media/work-store';
import type { HeartbeatProgress, TranscodeInput, TranscodeOutput } from '../../workflows/contracts';
import { rethrowDiskFull, scrub, throwIfDiskFull } from './media-failures';
import { createRenditionSteps, type MediaDeps } from './rendition';
import { runTool, stallOf, startHeartbeats } from './run-tool';

/** The store is required here: planTranscode hands a short video's fetched source over through it. */
export function createMediaActivities(deps: MediaDeps & { storage: ObjectStorage }) {
  const { ffmpegPath } = deps.ffmpeg;
  // No linger: a single pass is the only activity of its video on this worker.
  const work = createWorkStore({ ...deps, cacheLingerMs: 0 });
  const { prepareSource, reusable, toObjectStorage, finishRendition, outputKey, maxHeight } = createRenditionSteps(deps);

  return {
    /** validate (ffprobe) → H.264/AAC MP4 rendition → JPEG thumbnail, with progress heartbeats. */
    async transcode(input: TranscodeInput): Promise<TranscodeOutput> {
      const ctx = Context.current();
      const signal = ctx.cancellationSignal;
      const attempt = ctx.info.attempt;
      const { beat, stop } = startHeartbeats(ctx, { phase: 'fetch', percent: 0 });
      // The last attempt's heartbeat: where it got to before it died, stalled or timed out.
      const previous = ctx.info.heartbeatDetails as HeartbeatProgress | undefined;
      if (previous) ctx.log.info('retrying after an earlier attempt', { videoId: input.videoId, attempt, previous });

      // One work dir per attempt, removed on every path; leftovers of dead attempts of this
      // video (a SIGKILLed worker cannot clean up) are swept first.
      const dirName = scratchName(input.videoId, attempt);
      const workDir = path.join(deps.tmpDir, dirName);
      await mkdir(deps.tmpDir, { recursive: true });
      const swept = await sweepStaleScratch(deps.tmpDir, { videoId: input.videoId, keep: dirName });
      if (swept.length) ctx.log.info('swept work dirs of dead attempts', { videoId: input.videoId, swept });
      await rm(workDir, { recursive: true, force: true });
      const releases: (() => Promise<void>)[] = [];
      const outDir = path.join(deps.mediaDir, input.videoId);
      try {
        await mkdir(workDir, { recursive: true }).catch((err: unknown) => rethrowDiskFull(err, 'creating the work directory'));
        const key = await outputKey(input.source);
        // Finished during an outage, or by an attempt whose completion was lost: verify, reuse.
        const done = await reusable(outDir, key, signal);
        if (done) {
          ctx.log.info('reusing the verified output of an earlier attempt', { videoId: input.videoId, attempt });
          beat({ phase: 'done', percent: 100 });
          return await toObjectStorage(input.videoId, done);
        }

        const prefetched = await work.handedOver(input.videoId, key, workDir, signal);
        if (prefetched) ctx.log.info('using the source planTranscode fetched', { videoId: input.videoId });
        const { local, source, deinterlace } = await prepareSource({
          videoId: input.videoId,
          source: input.source,
          workDir,
          signal,
          releases,
          beat,
          prefetched,
        });
        const sourceFacts = source.facts;

        const renditionTmp = path.join(workDir, 'rendition.mp4');
        beat({ phase: 'transcode', percent: 0, encodedSec: 0 });
        let maxGapMs = 0;
        let lastLineAt = Date.now();
        const encoded = await runTool(
          ffmpegPath,
          renditionArgs({
            input: local,
            output: renditionTmp,
            preset: deps.ffmpeg.preset,
            threads: deps.ffmpeg.threads,
            maxHeight,
            videoIndex: source.plan.videoIndex,
            audioIndex: source.plan.audioIndex,
            deinterlace,
          }),
          {
            signal,
            stall: stallOf(deps),
            onStdoutLine: (line) => {
              const doneSec = parseProgressLine(line);
              if (doneSec === undefined) return;
              const now = Date.now();
              maxGapMs = Math.max(maxGapMs, now - lastLineAt);
              lastLineAt = now;
              const percent = Math.min(99, Math.floor((doneSec / sourceFacts.durationSec) * 100));
              beat({ phase: 'transcode', percent, encodedSec: Math.round(doneSec * 10) / 10 });
            },
          },
          `video ${input.videoId}`,
        );
        if (encoded.code !== 0) {
          await throwIfDiskFull(workDir, 'encoding');
          throw failure(
            ErrorType.TranscodeFailed,
            `ffmpeg exited with ${encoded.code ?? encoded.signal}: ${scrub(lastErrorLine(encoded.stderrTail), local, workDir)}`,
          );
        }
        const output = await finishRendition({
          videoId: input.videoId,
          renditionTmp,
          workDir,
          sourceFacts,
          key,
          signal,
          beat,
        });
        const renditionFacts = output.rendition;
        beat({ phase: 'done', percent: 100 });
        // The activity logger adds workflow id, run id, activity type and attempt to every line.
        ctx.log.info('transcoded', {
          videoId: input.videoId,
          source: sourceFacts,
          rendition: renditionFacts,
          deinterlaced: deinterlace,
          maxProgressGapMs: maxGapMs,
        });
        const stored = await toObjectStorage(input.videoId, output);
        if (prefetched) await work.remove(input.videoId);
        return stored;
      } catch (err) {
        // A retry may still use the fetched copy; a failure no retry can fix leaves nothing behind.
        if ((err as ApplicationFailure).nonRetryable) await work.remove(input.videoId);
        throw err;
      } finally {
        stop();
        for (const release of releases) await release().catch(() => undefined);
        await rm(workDir, { recursive: true, force: true });
      }
    },
  };
}

export type MediaActivities = ReturnType<typeof createMediaActivities>;
