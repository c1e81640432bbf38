import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type WorkflowExecutionStatusName } from '@temporalio/client';
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { collectionName, type VectorSpace, type VectorStore } from '../../adapters/vector-store/port';
import { loadEmbeddingArtifact } from '../../artifacts/embedding-artifact';
import { VIDEO_PREFIXES, videoIdOfKey, videoPrefix } from '../../media/artifact-keys';
import type { IndexRowState, VideoIndexRepo } from '../../db/video-index-repo';
import type { VideosRepo } from '../../db/videos-repo';
import { ErrorType, failure } from '../../errors';
import { hasEnded, isFailedLike } from '../../temporal/workflow-status';
import { workflowIdFor } from '../../workflows/ids';
import type { ReconcileCounts } from '../../workflows/contracts';
import { emptyCounts } from '../../workflows/reconcile-counts';
import { segmentAreaOf } from '../../media/segment-area';
import type { ObjectStorage } from '../../adapters/storage/port';
import { abortAbandonedUploads } from './abandoned-uploads';
import { removeObjects } from './deletion';
import type { UploadsRepo } from '../../db/uploads-repo';

export interface ReconcileDeps {
  vectorStore: VectorStore;
  videos: VideosRepo;
  index: VideoIndexRepo;
  /**
   * `uploadTmpDir`: the local object store's `.tmp/`, where signed PUTs stream before their rename;
   * a file there outlives its upload only when the API died mid-transfer (absent with S3).
   */
  dirs: { mediaDir: string; artifactsDir: string; tmpDir: string; ingestDir: string; uploadTmpDir?: string };
  /** Retention also aborts abandoned client uploads (their multipart parts). */
  uploads?: { repo: UploadsRepo; storage: ObjectStorage };
  /**
   * The data plane: embedding artifacts are read from it; retention removes the objects of
   * expired failed videos and of videos with no row (orphans, found by listing the prefixes).
   */
  storage?: ObjectStorage;
}

function spaceOfRow(r: IndexRowState): VectorSpace | undefined {
  return r.analyzer && r.model && r.dim ? { analyzer: r.analyzer, model: r.model, dim: r.dim } : undefined;
}

function sameTags(a: unknown, b: string[]): boolean {
  return Array.isArray(a) && a.length === b.length && a.every((t, i) => t === b[i]);
}

async function entriesOf(dir: string | undefined): Promise<string[]> {
  if (!dir) return [];
  return (await readdir(dir).catch(() => [] as string[])).map((n) => path.join(dir, n));
}

/**
 * The reconciler's activities (workflow reconcileIndex): each does a bounded page of work
 * and returns what it found and fixed, so the workflow can sum, log and continue-as-new.
 */
export function createReconcileActivities(deps: ReconcileDeps) {
  const store = deps.vectorStore;

  async function storeCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw failure(ErrorType.VectorStoreUnavailable, `${store.backend} ${what} failed: ${(err as Error).message}`);
    }
  }

  /** Re-writes a point from the embedding artifact; false when the artifact is gone. */
  async function rewritePoint(r: IndexRowState, space: VectorSpace): Promise<boolean> {
    if (!r.embeddingPath) return false;
    const artifact = await loadEmbeddingArtifact(r.embeddingPath, deps.storage).catch(() => undefined);
    if (!artifact || artifact.vector.length !== space.dim) return false;
    await storeCall('upsert', () =>
      store.upsert(space, [{ id: r.id, vector: artifact.vector, payload: { videoId: r.id, summary: r.summary, tags: r.tags } }]),
    );
    return true;
  }

  return {
    /**
     * One page of rows: a searchable row must have its point with the row's payload (missing
     * or stale → re-written from the embedding artifact; impossible → the row stops being
     * searchable); a row still queued whose run has ended is marked failed (RunEnded).
     */
    async reconcileRows(input: {
      afterId?: string;
      limit: number;
      staleAfterMs: number;
    }): Promise<{ counts: ReconcileCounts; next?: string }> {
      const ctx = Context.current();
      const counts = emptyCounts();
      const rows = await deps.index.page(input.afterId, input.limit);
      counts.rowsChecked = rows.length;

      const searchable = rows.filter((r) => r.searchable && !r.deleted && r.status === 'ready');
      const bySpace = new Map<string, { space: VectorSpace; rows: IndexRowState[] }>();
      for (const r of searchable) {
        const space = spaceOfRow(r);
        if (!space) continue;
        const key = collectionName(space);
        const group = bySpace.get(key) ?? { space, rows: [] };
        group.rows.push(r);
        bySpace.set(key, group);
      }
      for (const { space, rows: group } of bySpace.values()) {
        const points = new Map(
          (
            await storeCall('fetch', () =>
              store.fetch(
                space,
                group.map((r) => r.id),
              ),
            )
          ).map((p) => [p.id, p]),
        );
        for (const r of group) {
          const p = points.get(r.id);
          const stale = p !== undefined && (p.payload.summary !== r.summary || !sameTags(p.payload.tags, r.tags));
          if (p && !stale) continue;
          if (await rewritePoint(r, space)) {
            if (p) counts.stalePayloadsRepaired++;
            else counts.missingPointsRepaired++;
            ctx.log.info('reconciler repaired a point', { videoId: r.id, problem: p ? 'stale payload' : 'missing point' });
          } else if (!p) {
            // Never searchable in one store and missing in the other: hide it until re-indexed.
            await deps.index.unmarkIndexed(
              r.id,
              ErrorType.VectorStoreUnavailable,
              'vector point missing and its embedding artifact is gone; re-run the video',
            );
            counts.unrepairable++;
          }
        }
        ctx.heartbeat();
      }

      const cutoff = Date.now() - input.staleAfterMs;
      const unfinished = rows.filter((r) => !r.deleted && r.status !== 'failed' && !r.searchable && r.updatedAt.getTime() <= cutoff);
      for (const r of unfinished) {
        let runStatus: WorkflowExecutionStatusName;
        try {
          runStatus = (await ctx.client.workflow.getHandle(r.workflowId).describe()).status.name;
        } catch (err) {
          // Never started (the API restarts a queued row on the next POST) or long forgotten.
          if (err instanceof WorkflowNotFoundError) continue;
          throw err;
        }
        // Ended without delivering: nothing will update the row any more.
        if (!isFailedLike(runStatus)) continue;
        await deps.videos.markFailed(
          { id: r.id, source: r.source, workflowId: r.workflowId },
          r.embeddingPath ? 'index' : 'queued',
          ErrorType.RunEnded,
          `the run ended ${runStatus} without updating the video; POST it again under a new id or replay it`,
        );
        const space = spaceOfRow(r);
        if (space) await storeCall('delete', () => store.delete(space, [r.id]));
        counts.staleRowsFailed++;
        ctx.log.info('reconciler failed a stale row', { videoId: r.id, runStatus });
      }
      const last = rows[rows.length - 1];
      return { counts, next: rows.length === input.limit && last ? last.id : undefined };
    },

    async listVectorSpaces(): Promise<VectorSpace[]> {
      return storeCall('listSpaces', () => store.listSpaces());
    },

    /** One page of points of one space: a point whose row is gone, deleted or failed is an orphan. */
    async reconcilePoints(input: {
      space: VectorSpace;
      cursor?: string;
      limit: number;
    }): Promise<{ counts: ReconcileCounts; next?: string }> {
      const counts = emptyCounts();
      const page = await storeCall('scan', () => store.scan(input.space, { cursor: input.cursor, limit: input.limit }));
      counts.pointsChecked = page.points.length;
      const rows = await deps.index.states(page.points.map((p) => p.id));
      const orphans = page.points
        .map((p) => p.id)
        .filter((id) => {
          const r = rows.get(id);
          return !r || r.deleted || r.status === 'failed';
        });
      if (orphans.length > 0) {
        await storeCall('delete', () => store.delete(input.space, orphans));
        counts.orphanPointsRemoved = orphans.length;
        Context.current().log.info('reconciler removed orphan points', {
          collection: collectionName(input.space),
          ids: orphans.slice(0, 20),
        });
      }
      return { counts, next: page.next };
    },

    /** Builds the ANN index of large spaces and keeps it current (LanceDB; a no-op for Qdrant). */
    async maintainVectorIndexes(): Promise<{ counts: ReconcileCounts; reports: unknown[] }> {
      const counts = emptyCounts();
      const reports: unknown[] = [];
      if (!store.maintain) return { counts, reports };
      const spaces = await storeCall('listSpaces', () => store.listSpaces());
      for (const space of spaces) {
        const report = await storeCall('maintain', () => store.maintain!(space));
        reports.push(report);
        if (report && typeof report === 'object' && (report as { action?: string }).action !== 'none') counts.annIndexActions++;
      }
      return { counts, reports };
    },

    /**
     * Retention: work dirs in tmp and partial uploads in the object store's `.tmp/` older than
     * `tmpMs` (leftovers of a crashed attempt or API; a live upload's file keeps a fresh mtime), for
     * videos failed longer than `deadLetterInputMs`, their input file (if in the ingest dir
     * and used by no other live video), their derived files and their objects in the store, and
     * the store's orphans: objects of videos with no row (or a tombstoned one).
     */
    async enforceRetention(input: { tmpMs: number; deadLetterInputMs: number; limit: number }): Promise<{ counts: ReconcileCounts }> {
      const counts = emptyCounts();
      const { tmpDir, ingestDir, mediaDir, artifactsDir } = deps.dirs;
      const now = Date.now();
      // Per-video segment work areas are judged one by one, not by their shared parent.
      const segments = path.dirname(segmentAreaOf(tmpDir, 'any'));
      const entries = [
        ...(await readdir(tmpDir).catch(() => [] as string[]))
          .filter((n) => path.join(tmpDir, n) !== segments)
          .map((n) => path.join(tmpDir, n)),
        ...(await readdir(segments).catch(() => [] as string[])).map((n) => path.join(segments, n)),
        ...(await entriesOf(deps.dirs.uploadTmpDir)),
      ];
      for (const full of entries) {
        const st = await stat(full).catch(() => undefined);
        if (st && now - st.mtimeMs > input.tmpMs) {
          await rm(full, { recursive: true, force: true });
          counts.tmpEntriesRemoved++;
        }
      }
      const expired = await deps.index.failedBefore(new Date(now - input.deadLetterInputMs), input.limit);
      const ingestRoot = path.resolve(ingestDir) + path.sep;
      for (const r of expired) {
        let removed = false;
        if (r.source.kind === 'file' && path.resolve(r.source.path).startsWith(ingestRoot)) {
          if ((await deps.index.liveUsersOfPath(r.source.path, r.id)) === 0) {
            removed = await rm(r.source.path).then(
              () => true,
              () => false,
            );
          }
        }
        for (const dir of [path.join(mediaDir, r.id), path.join(artifactsDir, r.id)]) {
          const st = await stat(dir).catch(() => undefined);
          if (st) {
            await rm(dir, { recursive: true, force: true });
            removed = true;
          }
        }
        if (deps.storage && (await removeObjects(deps.storage, r.id)) > 0) removed = true;
        if (removed) counts.deadLetterInputsRemoved++;
      }
      if (deps.storage) {
        // Not in the counts: their shape is part of the reconciler workflow's contract.
        const client = Context.current().client;
        const running = (id: string) =>
          client.workflow
            .getHandle(workflowIdFor(id))
            .describe()
            .then(
              (d) => !hasEnded(d.status.name),
              (err: unknown) => {
                if (err instanceof WorkflowNotFoundError) return false;
                throw err;
              },
            );
        const { orphans, finishedWork } = await removeOrphanObjects(deps.storage, deps.index, deps.uploads?.repo, running, {
          limit: input.limit,
          finishedBefore: new Date(now - input.tmpMs),
        });
        if (orphans.length > 0)
          Context.current().log.info('removed orphan objects', { videoIds: orphans.slice(0, 20), videos: orphans.length });
        if (finishedWork.length > 0)
          Context.current().log.info('removed work objects of finished videos', {
            videoIds: finishedWork.slice(0, 20),
            videos: finishedWork.length,
          });
      }
      if (deps.uploads) {
        // Not in the counts: their shape is part of the reconciler workflow's contract.
        const aborted = await abortAbandonedUploads(
          { uploads: deps.uploads.repo, storage: deps.uploads.storage },
          new Date(now),
          input.limit,
        );
        if (aborted > 0) Context.current().log.info('aborted abandoned uploads', { aborted });
      }
      return { counts };
    },

    /** Shows the last pass's counts in the schedule's note (Web UI and `temporal schedule describe`). */
    async publishReconcileReport(input: { scheduleId: string; counts: ReconcileCounts; finishedAt: string }): Promise<void> {
      const c = input.counts;
      const note =
        `last reconcile ${input.finishedAt}: rows ${c.rowsChecked}, points ${c.pointsChecked}, ` +
        `missing points repaired ${c.missingPointsRepaired}, stale payloads ${c.stalePayloadsRepaired}, ` +
        `orphans removed ${c.orphanPointsRemoved}, stale rows failed ${c.staleRowsFailed}, unrepairable ${c.unrepairable}, ` +
        `tmp removed ${c.tmpEntriesRemoved}, dead-letter inputs removed ${c.deadLetterInputsRemoved}, ann ${c.annIndexActions}`;
      const handle = Context.current().client.schedule.getHandle(input.scheduleId);
      await handle.update((prev) => ({ ...prev, state: { ...prev.state, note } }));
      Context.current().log.info('reconcile report', { ...c });
    },
  };
}

/**
 * Objects of videos the database no longer knows (no row, or a tombstoned one: a deletion that
 * stopped half-way, a run whose row was purged under it), found by listing the store's prefixes.
 * A video with no row is kept while its run is open (a run started without the API writes its
 * row only at the index step) or while it has a live client upload (its POST may still come; an
 * abandoned upload is aborted by retention first, then its objects go on a later pass).
 * Also the `work/` intermediates of videos whose run has ended (ready or failed longer than
 * `finishedBefore` ago): the media step removes them itself, but a worker killed after the video
 * was published, or a terminated run, leaves them. At most `limit` videos per pass of each kind.
 */
async function removeOrphanObjects(
  storage: ObjectStorage,
  index: VideoIndexRepo,
  uploads: UploadsRepo | undefined,
  running: (videoId: string) => Promise<boolean>,
  opts: { limit: number; finishedBefore: Date },
): Promise<{ orphans: string[]; finishedWork: string[] }> {
  const ids = new Set<string>();
  const withWork = new Set<string>();
  try {
    for (const prefix of VIDEO_PREFIXES) {
      for (const key of await storage.list(`${prefix}/`)) {
        const id = videoIdOfKey(key);
        if (!id) continue;
        ids.add(id);
        if (prefix === 'work') withWork.add(id);
      }
    }
  } catch (err) {
    throw failure(ErrorType.StorageUnavailable, `could not list the store for orphans: ${(err as Error).message}`);
  }
  const rows = await index.states([...ids]);
  const orphans: string[] = [];
  const finishedWork: string[] = [];
  for (const id of ids) {
    const row = rows.get(id);
    if (row && !row.deleted) {
      const ended = row.status !== 'queued' && row.updatedAt < opts.finishedBefore;
      if (withWork.has(id) && ended && finishedWork.length < opts.limit && !(await running(id))) {
        await removePrefix(storage, videoPrefix('work', id));
        finishedWork.push(id);
      }
      continue;
    }
    if (orphans.length >= opts.limit) continue;
    if (!row && uploads && (await uploads.liveForVideo(id))) continue;
    if (!row && (await running(id))) continue;
    await removeObjects(storage, id);
    orphans.push(id);
  }
  return { orphans, finishedWork };
}

async function removePrefix(storage: ObjectStorage, prefix: string): Promise<void> {
  try {
    for (const key of await storage.list(prefix)) await storage.delete(key);
  } catch (err) {
    throw failure(ErrorType.StorageUnavailable, `could not remove ${prefix}: ${(err as Error).message}`);
  }
}

export type ReconcileActivities = ReturnType<typeof createReconcileActivities>;
