import type { Pool } from 'pg';
import { UploadsRepo } from '../../db/uploads-repo';
import type { ObjectStorage } from '../../adapters/storage/port';
import type { VectorStore } from '../../adapters/vector-store/port';
import { StepResultsRepo } from '../../db/step-results-repo';
import { UsageLedgerRepo } from '../../db/usage-ledger-repo';
import { VideoIndexRepo } from '../../db/video-index-repo';
import type { VideosRepo } from '../../db/videos-repo';
import { recordFailureAndDeadLetter } from '../record-failure';
import type { RecordFailureInput } from '../../workflows/contracts';
import { createDeletionActivities } from './deletion';
import { createReconcileActivities } from './reconcile';
import { createIndexSagaActivities } from './saga';
import { withTypedDatabaseErrors } from './database-errors';

export interface IndexerDeps {
  pool: Pool;
  /** Injected (not built here), so a test or another wiring can pass its own. */
  videos: VideosRepo;
  vectorStore: VectorStore;
  dirs: { mediaDir: string; artifactsDir: string; tmpDir: string; ingestDir: string; uploadTmpDir?: string };
  /** Object storage, so a deletion also removes the video's uploaded original and published copies. */
  storage?: ObjectStorage;
  /** Test hooks (BIBLIO_TEST_STALL_AFTER_COMMIT); absent in production. */
  hooks?: { stallAfterCommit: string[]; markerDir: string };
}

export function createIndexerActivities(deps: IndexerDeps) {
  const { videos } = deps;
  const index = new VideoIndexRepo(deps.pool);
  const stepResults = new StepResultsRepo(deps.pool);
  const ledger = new UsageLedgerRepo(deps.pool);

  return withTypedDatabaseErrors({
    // The index saga (writeIndexRow → upsertVector → markSearchable, compensateIndex).
    ...createIndexSagaActivities({ pool: deps.pool, vectorStore: deps.vectorStore, index, stepResults, ledger, hooks: deps.hooks }),
    // DELETE /videos/:id (workflow deleteVideo).
    ...createDeletionActivities({ vectorStore: deps.vectorStore, index, stepResults, dirs: deps.dirs, storage: deps.storage }),
    // The reconciler (workflow reconcileIndex on a Temporal Schedule).
    ...createReconcileActivities({
      vectorStore: deps.vectorStore,
      videos,
      index,
      dirs: deps.dirs,
      uploads: deps.storage ? { repo: new UploadsRepo(deps.pool), storage: deps.storage } : undefined,
    }),

    /** Makes a failed run visible in the main DB too (the API lists from it after Temporal forgets), and dead-letters it. */
    async recordFailure(input: RecordFailureInput): Promise<void> {
      await recordFailureAndDeadLetter(deps.pool, input);
    },
  });
}

export type IndexerActivities = ReturnType<typeof createIndexerActivities>;
