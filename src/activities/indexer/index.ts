import type { Pool } from 'pg';
import type { ObjectStorage } from '../../adapters/storage/port';
import type { VectorStore } from '../../adapters/vector-store/port';
import type { Repositories } from '../../db/repositories';
import { recordFailureAndDeadLetter } from '../record-failure';
import type { RecordFailureInput } from '../../workflows/contracts';
import { createDeletionActivities } from './deletion';
import { createReconcileActivities } from './reconcile';
import { createIndexSagaActivities } from './saga';
import { withTypedDatabaseErrors } from './database-errors';

export interface IndexerDeps {
  /** For the index saga's transaction (one connection for the row and the step result). */
  pool: Pool;
  /** Injected (built once by the worker), so a test or another wiring can pass its own. */
  repos: Pick<Repositories, 'videos' | 'videoIndex' | 'stepResults' | 'usageLedger' | 'uploads' | 'deadLetters'>;
  vectorStore: VectorStore;
  dirs: { mediaDir: string; artifactsDir: string; tmpDir: string; ingestDir: string; uploadTmpDir?: string };
  /** The data plane: deletion, retention and the reconciler remove a video's objects; the saga reads the embedding. */
  storage?: ObjectStorage;
  /** Test hooks (BIBLIO_TEST_STALL_AFTER_COMMIT); absent in production. */
  hooks?: { stallAfterCommit: string[]; markerDir: string };
  /** BIBLIO_TEST_BROKEN_BUILD: a deliberate defect the soak's checker must catch; never set in production. */
  brokenBuild?: 'keep-points-of-deleted';
}

export function createIndexerActivities(deps: IndexerDeps) {
  const { videos, videoIndex: index, stepResults, usageLedger: ledger } = deps.repos;

  return withTypedDatabaseErrors({
    // The index saga (writeIndexRow → upsertVector → markSearchable, compensateIndex).
    ...createIndexSagaActivities({
      pool: deps.pool,
      vectorStore: deps.vectorStore,
      index,
      stepResults,
      ledger,
      hooks: deps.hooks,
      storage: deps.storage,
    }),
    // DELETE /videos/:id (workflow deleteVideo).
    ...createDeletionActivities({
      vectorStore: deps.vectorStore,
      index,
      stepResults,
      dirs: deps.dirs,
      storage: deps.storage,
      keepPoints: deps.brokenBuild === 'keep-points-of-deleted',
    }),
    // The reconciler (workflow reconcileIndex on a Temporal Schedule).
    ...createReconcileActivities({
      vectorStore: deps.vectorStore,
      videos,
      index,
      dirs: deps.dirs,
      storage: deps.storage,
      uploads: deps.storage ? { repo: deps.repos.uploads, storage: deps.storage } : undefined,
    }),

    /** Makes a failed run visible in the main DB too (the API lists from it after Temporal forgets), and dead-letters it. */
    async recordFailure(input: RecordFailureInput): Promise<void> {
      await recordFailureAndDeadLetter(deps.repos, input);
    },
  });
}

export type IndexerActivities = ReturnType<typeof createIndexerActivities>;
