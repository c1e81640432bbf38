import { Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import { collectionName, type VectorSpace, type VectorStore } from '../../adapters/vector-store/port';
import type { ObjectStorage } from '../../adapters/storage/port';
import { loadEmbeddingArtifact } from '../../artifacts/embedding-artifact';
import { ChaptersRepo } from '../../db/chapters-repo';
import { KeyframeMomentsRepo } from '../../db/keyframe-moments-repo';
import { loadTranscriptArtifact, type TranscriptArtifact } from '../../artifacts/transcript-artifact';
import { TranscriptsRepo } from '../../db/transcripts-repo';
import { inputHash, type StepResultsRepo } from '../../db/step-results-repo';
import { boundChapters } from '../../media/chapters';
import type { UsageLedgerRepo } from '../../db/usage-ledger-repo';
import type { VideoIndexRepo } from '../../db/video-index-repo';
import { ErrorType, failure } from '../../errors';
import { workflowIdFor } from '../../workflows/ids';
import type { IndexInput, IndexOutput } from '../../workflows/contracts';
import { stallAfterCommit } from './test-hooks';

export interface IndexSagaDeps {
  pool: Pool;
  vectorStore: VectorStore;
  index: VideoIndexRepo;
  stepResults: StepResultsRepo;
  ledger: UsageLedgerRepo;
  hooks?: { stallAfterCommit: string[]; markerDir: string };
  /** Where the AI step stored the embedding artifact (older histories carry a local path instead). */
  storage?: ObjectStorage;
  /** The timed transcript's rows; built over `pool` when not given. */
  transcripts?: TranscriptsRepo;
}

export interface IndexRowOutput {
  collection: string;
  /** False when the video was deleted meanwhile: the saga then writes nothing more. */
  written: boolean;
  charged: { kind: string; quantity: number }[];
}

export interface CompensateIndexInput {
  videoId: string;
  space: VectorSpace;
  errorType: string;
  message: string;
}

export function spaceOf(input: IndexInput): VectorSpace {
  return { analyzer: input.analysis.analyzer, model: input.analysis.model, dim: input.analysis.dim };
}

/**
 * Heartbeats while `work` runs, so a long lock wait is not mistaken for a dead worker. The first
 * one after a second, not at once: the timeout counts from the start anyway, and a write of a few
 * milliseconds should not cost the Temporal server a heartbeat RPC (docs/benchmarks.md#orchestration).
 */
async function withHeartbeat<T>(work: Promise<T>): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), 1_000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

/**
 * The index step as a saga: (1) the main-DB row, not yet searchable, with the transcode's
 * usage charge, the transcript's segments and the keyframe descriptions, in one transaction;
 * (2) the vector point; (3) searchable. The workflow runs the compensation when (2) fails for good. Every step is idempotent: upserts,
 * a ledger with a unique key, and step_results for a redelivered step 1 or 3.
 */
export function createIndexSagaActivities(deps: IndexSagaDeps) {
  const transcripts = deps.transcripts ?? new TranscriptsRepo(deps.pool);

  /** The analysis's timed transcript, read before the transaction (no store I/O while it holds locks). */
  async function transcriptOf(input: IndexInput): Promise<TranscriptArtifact | undefined> {
    const key = input.analysis.transcriptKey;
    if (!key) return undefined;
    const artifact = await loadTranscriptArtifact(key, deps.storage).catch((err: Error) => {
      throw failure(ErrorType.StorageUnavailable, `could not read the transcript of video ${input.videoId}: ${err.message}`);
    });
    // Gone (e.g. removed by hand): the row is still worth writing; a re-analysis brings the transcript back.
    if (!artifact) Context.current().log.warn('transcript artifact missing', { videoId: input.videoId, key });
    return artifact;
  }

  async function writeRow(input: IndexInput): Promise<IndexRowOutput> {
    const hash = inputHash(input);
    const done = await deps.stepResults.get<IndexRowOutput>(input.videoId, 'index.row', hash);
    if (done) return done;
    const transcript = await transcriptOf(input);
    const collection = collectionName(spaceOf(input));
    const video = { id: input.videoId, source: input.source, workflowId: workflowIdFor(input.videoId) };
    const client = await deps.pool.connect().catch((err: Error) => {
      throw failure(ErrorType.DatabaseUnavailable, `could not reach the main DB for video ${input.videoId}: ${err.message}`);
    });
    let out: IndexRowOutput;
    try {
      await client.query('BEGIN');
      const written = await deps.index.writeIndexRow(client, video, input.media, input.analysis, collection, input.analysisState);
      const charged: IndexRowOutput['charged'] = [];
      // The chapters with the row (the AI step snapped them to scene cuts; the rendition's duration bounds them).
      if (written)
        await ChaptersRepo.write(client, input.videoId, boundChapters(input.analysis.chapters, input.media.rendition.durationSec));
      if (written) {
        // The transcript's segments with the row, replacing a previous analysis's (none: cleared).
        await transcripts.replace(client, input.videoId, transcript?.segments ?? [], transcript?.language);
        // What each keyframe shows, likewise replaced (none: an analysis without images, or of before them).
        await KeyframeMomentsRepo.replace(client, input.videoId, input.analysis.shots ?? []);
        // Charged with the row, in one transaction, under the ledger's unique key: exactly once.
        const seconds = input.media.rendition.durationSec;
        if (await deps.ledger.charge(client, { videoId: input.videoId, step: 'transcode', kind: 'encoded_seconds', quantity: seconds })) {
          charged.push({ kind: 'encoded_seconds', quantity: seconds });
        }
        // AI calls are not charged here: the AI activity records each paid request in the ledger
        // when its answer arrives, wasted and repeated ones included.
      }
      out = { collection, written, charged };
      await deps.stepResults.put(client, input.videoId, 'index.row', hash, out);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw failure(ErrorType.DatabaseUnavailable, `could not record video ${input.videoId}: ${(err as Error).message}`);
    } finally {
      client.release();
    }
    return out;
  }

  async function upsertPoint(input: IndexInput): Promise<void> {
    const state = await deps.index.state(input.videoId);
    // A video deleted meanwhile gets no point (the deletion saga may already have run).
    if (state?.deleted) return;
    const artifact = await loadEmbeddingArtifact(input.analysis.embeddingPath, deps.storage).catch((err: Error) => {
      throw failure(ErrorType.StorageUnavailable, `could not read the embedding of video ${input.videoId}: ${err.message}`);
    });
    try {
      await withHeartbeat(
        deps.vectorStore.upsert(spaceOf(input), [
          {
            id: input.videoId,
            vector: artifact.vector,
            payload: { videoId: input.videoId, summary: input.analysis.summary, tags: input.analysis.tags },
          },
        ]),
      );
      // One point per video, in the space of its current analysis: a video that went ready on the
      // metadata-only stand-in and was analysed in full later (or re-indexed under a new model)
      // leaves no point behind in the space it left.
      await dropPointsElsewhere(input.videoId, spaceOf(input));
    } catch (err) {
      throw failure(ErrorType.VectorStoreUnavailable, `${deps.vectorStore.backend} write failed: ${(err as Error).message}`);
    }
  }

  async function dropPointsElsewhere(videoId: string, current: VectorSpace): Promise<void> {
    const here = collectionName(current);
    for (const space of await deps.vectorStore.listSpaces()) {
      if (collectionName(space) === here) continue;
      // Read first: a delete is a write (a new table version in LanceDB) even when the id is absent.
      if ((await deps.vectorStore.fetch(space, [videoId])).length > 0) await deps.vectorStore.delete(space, [videoId]);
    }
  }

  async function makeSearchable(videoId: string, collection: string): Promise<IndexOutput> {
    const hash = inputHash({ videoId, collection });
    const done = await deps.stepResults.get<IndexOutput>(videoId, 'index.searchable', hash);
    if (done) return done;
    try {
      await deps.index.markSearchable(videoId);
      const out = { collection, indexedAt: new Date().toISOString() };
      await deps.stepResults.put(deps.pool, videoId, 'index.searchable', hash, out);
      return out;
    } catch (err) {
      throw failure(ErrorType.DatabaseUnavailable, `could not mark video ${videoId} searchable: ${(err as Error).message}`);
    }
  }

  return {
    /** Saga step 1: the row (not yet searchable) and the usage charges, in one transaction. */
    async writeIndexRow(input: IndexInput): Promise<IndexRowOutput> {
      const out = await withHeartbeat(writeRow(input));
      await stallAfterCommit(deps.hooks, 'writeIndexRow', input.videoId);
      return out;
    },

    /** Saga step 2: the vector point (an upsert by the video id: a retry leaves one point). */
    async upsertVector(input: IndexInput): Promise<void> {
      await upsertPoint(input);
      await stallAfterCommit(deps.hooks, 'upsertVector', input.videoId);
    },

    /** Saga step 3: both stores hold the video; search may show it. */
    async markSearchable(input: { videoId: string; collection: string }): Promise<IndexOutput> {
      const out = await makeSearchable(input.videoId, input.collection);
      Context.current().log.info('indexed', {
        videoId: input.videoId,
        collection: input.collection,
        vectorStore: deps.vectorStore.backend,
      });
      return out;
    },

    /**
     * Compensation when the vector write failed for good: the row stops being searchable
     * and says why; a point that landed anyway is removed if the store answers (otherwise the
     * reconciler removes it: a point of a failed row is an orphan).
     */
    async compensateIndex(input: CompensateIndexInput): Promise<{ pointRemoved: boolean }> {
      await deps.index.unmarkIndexed(input.videoId, input.errorType, input.message);
      await deps.stepResults.forget(input.videoId, ['index.row', 'index.searchable']);
      const pointRemoved = await deps.vectorStore.delete(input.space, [input.videoId]).then(
        () => true,
        () => false,
      );
      Context.current().log.warn('index compensated', { videoId: input.videoId, errorType: input.errorType, pointRemoved });
      return { pointRemoved };
    },
  };
}

export type IndexSagaActivities = ReturnType<typeof createIndexSagaActivities>;
