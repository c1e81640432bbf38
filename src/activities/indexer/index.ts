import { log } from '@temporalio/activity';
import type { Pool } from 'pg';
import { collectionName, type VectorStore } from '../../adapters/vector-store/port';
import { readEmbeddingArtifact } from '../../artifacts/embedding-artifact';
import { VideosRepo } from '../../db/videos-repo';
import { ErrorType, failure } from '../../errors';
import { recordFailureAndDeadLetter } from '../record-failure';
import { workflowIdFor } from '../../workflows/ids';
import type { IndexInput, IndexOutput, RecordFailureInput } from '../../workflows/contracts';

export interface IndexerDeps {
  pool: Pool;
  vectorStore: VectorStore;
}

export function createIndexerActivities(deps: IndexerDeps) {
  const videos = new VideosRepo(deps.pool);

  return {
    /**
     * Vector first, then the row that makes the video visible: search only returns videos whose
     * row says ready, so a crash between the two writes leaves nothing half-visible, and both
     * writes are upserts, so the retry converges.
     */
    async indexVideo(input: IndexInput): Promise<IndexOutput> {
      const { analysis } = input;
      const space = { analyzer: analysis.analyzer, model: analysis.model, dim: analysis.dim };
      const artifact = await readEmbeddingArtifact(analysis.embeddingPath);
      try {
        await deps.vectorStore.upsert(space, [
          {
            id: input.videoId,
            vector: artifact.vector,
            payload: { videoId: input.videoId, summary: analysis.summary, tags: analysis.tags },
          },
        ]);
      } catch (err) {
        throw failure(ErrorType.VectorStoreUnavailable, `${deps.vectorStore.backend} write failed: ${(err as Error).message}`);
      }
      const video = { id: input.videoId, source: input.source, workflowId: workflowIdFor(input.videoId) };
      try {
        await videos.markReady(video, input.media, analysis, collectionName(space));
      } catch (err) {
        throw failure(ErrorType.DatabaseUnavailable, `could not record video ${input.videoId}: ${(err as Error).message}`);
      }
      log.info('indexed', { videoId: input.videoId, collection: collectionName(space), vectorStore: deps.vectorStore.backend });
      return { collection: collectionName(space), indexedAt: new Date().toISOString() };
    },

    /** Makes a failed run visible in the main DB too (the API lists from it after Temporal forgets), and dead-letters it. */
    async recordFailure(input: RecordFailureInput): Promise<void> {
      await recordFailureAndDeadLetter(deps.pool, input);
    },
  };
}

export type IndexerActivities = ReturnType<typeof createIndexerActivities>;
