import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStorage } from '../../adapters/storage/port';
import type { VectorStore } from '../../adapters/vector-store/port';
import type { StepResultsRepo } from '../../db/step-results-repo';
import type { VideoIndexRepo } from '../../db/video-index-repo';
import { ErrorType, failure } from '../../errors';
import { hasEnded } from '../../temporal/workflow-status';
import { HLS_STAGING_DIR } from '../media/hls';
import { segmentAreaOf } from '../../media/segment-area';
import { videoPrefixes } from '../../media/artifact-keys';

export interface DeletionDeps {
  vectorStore: VectorStore;
  index: VideoIndexRepo;
  stepResults: StepResultsRepo;
  dirs: { mediaDir: string; artifactsDir: string; tmpDir: string };
  /** The data plane: every object under the video's prefixes goes too. */
  storage?: ObjectStorage;
  /** The deliberately broken build (BIBLIO_TEST_BROKEN_BUILD=keep-points-of-deleted): step 4 does nothing. */
  keepPoints?: boolean;
}

/** The deletion saga's steps (workflow deleteVideo): each idempotent, each retried until it lands. */
export function createDeletionActivities(deps: DeletionDeps) {
  return {
    /** Step 1: search and GET stop showing the video; returns what the later steps need. */
    async tombstoneVideo(input: { videoId: string }): Promise<{ existed: boolean; workflowId: string | null }> {
      try {
        const row = await deps.index.tombstone(input.videoId);
        return { existed: row !== undefined, workflowId: row?.workflowId ?? null };
      } catch (err) {
        throw failure(ErrorType.DatabaseUnavailable, `could not mark video ${input.videoId} deleted: ${(err as Error).message}`);
      }
    },

    /**
     * Step 2: cancel a running pipeline run and wait until it has closed, so no activity of
     * it writes a file or a point after the clean-up. Its activities see the cancellation
     * through their heartbeats (the media step kills ffmpeg). Terminates after `graceMs`.
     */
    async cancelVideoRun(input: { workflowId: string; graceMs?: number }): Promise<{ cancelled: boolean }> {
      const ctx = Context.current();
      const handle = ctx.client.workflow.getHandle(input.workflowId);
      let cancelled = false;
      try {
        const first = await handle.describe();
        if (hasEnded(first.status.name)) return { cancelled: false };
        await handle.cancel();
        cancelled = true;
        const deadline = Date.now() + (input.graceMs ?? 60_000);
        for (;;) {
          ctx.heartbeat();
          const d = await handle.describe();
          if (hasEnded(d.status.name)) break;
          if (Date.now() > deadline) {
            await handle.terminate('deleted: the run did not finish cancelling in time');
            break;
          }
          await ctx.sleep(500);
        }
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { cancelled };
        throw err;
      }
      return { cancelled };
    },

    /**
     * Step 3: every object of the video in the store (uploads/, work/, media/, analysis/: its
     * original, intermediates, published copies, AI inputs and embedding), and this host's
     * rendition, thumbnail, artifacts and leftover work dirs.
     */
    async removeVideoFiles(input: { videoId: string }): Promise<{ removed: number }> {
      const { mediaDir, artifactsDir, tmpDir } = deps.dirs;
      const targets = [path.join(mediaDir, input.videoId), path.join(artifactsDir, input.videoId)];
      const tmp = await readdir(tmpDir).catch(() => [] as string[]);
      for (const name of tmp) if (name === input.videoId || name.startsWith(`${input.videoId}.`)) targets.push(path.join(tmpDir, name));
      // The per-video segment work area, and half-built HLS ladders of killed attempts.
      targets.push(segmentAreaOf(tmpDir, input.videoId));
      const staging = path.join(mediaDir, HLS_STAGING_DIR);
      for (const name of await readdir(staging).catch(() => [] as string[])) {
        if (name.startsWith(`${input.videoId}.`)) targets.push(path.join(staging, name));
      }
      let removed = 0;
      for (const t of targets) {
        const existed = await readdir(t).then(
          () => true,
          (err: NodeJS.ErrnoException) => err.code !== 'ENOENT',
        );
        await rm(t, { recursive: true, force: true });
        if (existed) removed++;
      }
      if (deps.storage) removed += await removeObjects(deps.storage, input.videoId);
      return { removed };
    },

    /** Step 4: the vector point, in every space (a re-analysis may have used another model). */
    async removeVideoPoints(input: { videoId: string }): Promise<{ spaces: number }> {
      try {
        const spaces = await deps.vectorStore.listSpaces();
        if (deps.keepPoints) return { spaces: 0 };
        for (const space of spaces) await deps.vectorStore.delete(space, [input.videoId]);
        return { spaces: spaces.length };
      } catch (err) {
        throw failure(ErrorType.VectorStoreUnavailable, `${deps.vectorStore.backend} delete failed: ${(err as Error).message}`);
      }
    },

    /** Step 5: the row itself and its step results. The usage ledger is billing history and stays. */
    async purgeVideoRow(input: { videoId: string }): Promise<{ purged: boolean }> {
      try {
        await deps.stepResults.forgetVideo(input.videoId);
        return { purged: await deps.index.purge(input.videoId) };
      } catch (err) {
        throw failure(ErrorType.DatabaseUnavailable, `could not remove video ${input.videoId}: ${(err as Error).message}`);
      }
    },
  };
}

/** Every object under the video's prefixes (the layout in media/artifact-keys); idempotent. */
export async function removeObjects(storage: ObjectStorage, videoId: string): Promise<number> {
  try {
    let removed = 0;
    for (const prefix of videoPrefixes(videoId)) {
      for (const key of await storage.list(prefix)) {
        await storage.delete(key);
        removed++;
      }
    }
    return removed;
  } catch (err) {
    throw failure(ErrorType.StorageUnavailable, `could not remove the objects of video ${videoId}: ${(err as Error).message}`);
  }
}

export type DeletionActivities = ReturnType<typeof createDeletionActivities>;
