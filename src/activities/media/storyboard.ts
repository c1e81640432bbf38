import { Context } from '@temporalio/activity';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStorage } from '../../adapters/storage/port';
import type { FfmpegConfig } from '../../config';
import { ErrorType, failure } from '../../errors';
import { storyboardKey } from '../../media/artifact-keys';
import { parseProgressLine } from '../../media/ffmpeg-args';
import { lastErrorLine } from '../../media/run-process';
import {
  sheetLayout,
  spriteName,
  spriteSheetArgs,
  storyboardCues,
  storyboardInterval,
  storyboardVtt,
  STORYBOARD_VTT,
  thumbnailTilesArgs,
  tileCount,
  tileSize,
  type StoryboardSettings,
} from '../../media/storyboard';
import { scratchName } from '../../media/work-area';
import { VIDEO_ID_PATTERN } from '../../workflows/ids';
import type { StoryboardInput, StoryboardOutput } from '../../workflows/contracts';
import { rethrowDiskFull, scrub } from './media-failures';
import { localRendition } from './local-rendition';
import { QUICK_TOOL_LIMIT, runTool, stallOf, startHeartbeats } from './run-tool';

export interface StoryboardDeps {
  ffmpeg: FfmpegConfig;
  /** Scratch of one attempt: `<tmpDir>/<videoId>.storyboard.attempt-<n>.pid-<pid>/` (swept at worker start if its process died). */
  tmpDir: string;
  /** The media queue's published copies: the rendition is read from here when this host has it. */
  mediaDir?: string;
  /** Where the rendition is fetched from on a local miss, and where the storyboard is published. */
  storage: ObjectStorage;
  /** null: switched off (MEDIA_STORYBOARD=off); the activity then publishes nothing. */
  settings: StoryboardSettings | null;
  /** ffmpeg's output time not advancing for this long → killed, TranscodeStalled (default 10 s). */
  stallTimeoutMs?: number;
}

/** Share of the progress bar the decode pass gets (tiling and uploading are quick). */
const DECODE_END_PERCENT = 85;

/**
 * Scrub previews of the published rendition: pass 1 decodes it once and keeps one small frame
 * per interval; pass 2 tiles them into sprite sheets (10 × 10 at most); the sheets are stored
 * under `media/<videoId>/storyboard/` with this attempt's run token in their names, then the
 * WebVTT track naming them (the publish: a reader follows the track, so it never sees another
 * attempt's half-written sheets), then older runs' sheets are removed. A killed attempt leaves
 * at most unnamed sheets, which the next attempt removes after it publishes.
 *
 * Every ffmpeg run goes through the media runner (process group, parent-death signal, stall
 * watchdog) under one heartbeat ticker, like the other media activities.
 */
export function createStoryboardActivities(deps: StoryboardDeps) {
  const { ffmpegPath, threads } = deps.ffmpeg;

  return {
    async generateStoryboard(input: StoryboardInput): Promise<StoryboardOutput | null> {
      if (!deps.settings) return null;
      const settings = deps.settings;
      if (!VIDEO_ID_PATTERN.test(input.videoId))
        throw failure(ErrorType.InvalidMedia, `video id ${JSON.stringify(input.videoId)} is not a safe name`);
      const ctx = Context.current();
      const signal = ctx.cancellationSignal;
      const { beat, stop } = startHeartbeats(ctx, { phase: 'storyboard', percent: 0 });
      const what = `video ${input.videoId}`;
      const work = path.join(deps.tmpDir, scratchName(`${input.videoId}.storyboard`, ctx.info.attempt));
      const run = randomBytes(6).toString('hex');
      try {
        await rm(work, { recursive: true, force: true });
        await mkdir(path.join(work, 'tiles'), { recursive: true }).catch((err: unknown) => rethrowDiskFull(err, 'making the storyboard'));
        const rendition = await localRendition(
          { ...input, mediaDir: deps.mediaDir, storage: deps.storage },
          path.join(work, 'rendition.mp4'),
          signal,
          'the storyboard',
        );

        const intervalSec = storyboardInterval(input.durationSec, settings);
        const tile = tileSize(input.width, input.height, settings.tileMaxSide);
        const pattern = path.join(work, 'tiles', 't-%05d.jpg');
        const sampled = await runTool(
          ffmpegPath,
          thumbnailTilesArgs({ input: rendition, outPattern: pattern, intervalSec, tile, threads }),
          {
            signal,
            stall: stallOf(deps),
            onStdoutLine: (line) => {
              const doneSec = parseProgressLine(line);
              if (doneSec === undefined || !(input.durationSec > 0)) return;
              beat({ phase: 'storyboard', percent: Math.floor(Math.min(1, doneSec / input.durationSec) * DECODE_END_PERCENT) });
            },
          },
          what,
        );
        if (sampled.code !== 0)
          throw failure(
            ErrorType.TranscodeFailed,
            `storyboard thumbnails failed: ${scrub(lastErrorLine(sampled.stderrTail), rendition, work)}`,
          );
        const written = (await readdir(path.join(work, 'tiles'))).filter((n) => n.endsWith('.jpg')).length;
        // ffmpeg's last sample may fall on the very end (one more than the cues need): the cues decide.
        const tiles = Math.min(written, tileCount(input.durationSec, intervalSec));
        if (tiles === 0) throw failure(ErrorType.TranscodeFailed, `storyboard of ${what}: ffmpeg wrote no thumbnail`);

        const sheets = sheetLayout(tiles);
        for (const sheet of sheets) {
          const output = path.join(work, spriteName(run, sheet.index));
          const tiled = await runTool(
            ffmpegPath,
            spriteSheetArgs({ inPattern: pattern, sheet, output }),
            { signal, stall: QUICK_TOOL_LIMIT },
            what,
          );
          if (tiled.code !== 0)
            throw failure(
              ErrorType.TranscodeFailed,
              `storyboard sheet ${sheet.index} failed: ${scrub(lastErrorLine(tiled.stderrTail), work)}`,
            );
          beat({ phase: 'storyboard', percent: DECODE_END_PERCENT + Math.floor(((sheet.index + 1) / sheets.length) * 5) });
        }

        // A cancel that arrived while the last sheet was tiled stops here: a cancelled attempt publishes nothing.
        signal.throwIfAborted();
        // Publish: the sheets under this run's names, the track naming them, then older runs' sheets go.
        const store = deps.storage;
        const names = sheets.map((s) => spriteName(run, s.index));
        await storageCall(async () => {
          for (const name of names) {
            await store.putFile(storyboardKey(input.videoId, name), path.join(work, name), 'image/jpeg');
            beat({ phase: 'storyboard', percent: 95 });
          }
          const vtt = storyboardVtt(storyboardCues({ durationSec: input.durationSec, intervalSec, tiles, tile, run }));
          await store.putBytes(storyboardKey(input.videoId, STORYBOARD_VTT), vtt, 'text/vtt; charset=utf-8');
          const keep = new Set([STORYBOARD_VTT, ...names].map((n) => storyboardKey(input.videoId, n)));
          for (const stale of (await store.list(storyboardKey(input.videoId, ''))).filter((k) => !keep.has(k))) await store.delete(stale);
        }, input.videoId);
        beat({ phase: 'storyboard', percent: 100 });
        const out: StoryboardOutput = {
          track: STORYBOARD_VTT,
          intervalSec,
          tiles,
          sheets: sheets.length,
          tileWidth: tile.width,
          tileHeight: tile.height,
        };
        ctx.log.info('storyboard published', { videoId: input.videoId, run, ...out });
        return out;
      } finally {
        stop();
        await rm(work, { recursive: true, force: true });
      }
    },
  };
}

async function storageCall<T>(fn: () => Promise<T>, videoId: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Error && err.name === 'AbortError') throw err;
    if ((err as { type?: string }).type !== undefined) throw err;
    throw failure(ErrorType.StorageUnavailable, `object storage failed for the storyboard of video ${videoId}: ${(err as Error).message}`);
  }
}

export type StoryboardActivities = ReturnType<typeof createStoryboardActivities>;
