import { CancellationScope, proxyActivities } from '@temporalio/workflow';
import type { IndexerActivities } from '../activities/indexer';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors';
import type { IndexInput, IndexOutput } from './contracts';

const nonRetryableErrorTypes = [...NON_RETRYABLE_ERROR_TYPES];

/**
 * The index step as a saga (issue 17, behind patch biblio-17-saga): main-DB row first (not yet
 * searchable, usage charged), then the vector point, then "searchable". When the vector write
 * fails for good the compensation runs — in a non-cancellable scope, so also while the
 * workflow is being cancelled — and the error propagates to processVideo's one failure path
 * (recordFailure → dead letter) with its type, e.g. VectorStoreUnavailable.
 */
export async function runIndexSaga(queue: string, input: IndexInput): Promise<IndexOutput> {
  // Short heartbeat timeout: a killed index worker's task is handed on in seconds.
  // The main-DB steps ride out an outage of ~3 minutes (2+4+8+16+30×5 s), as the index step did before.
  const db = proxyActivities<IndexerActivities>({
    taskQueue: queue,
    startToCloseTimeout: '1m',
    heartbeatTimeout: '10s',
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes },
  });
  // "For good" = five attempts over ~15 s; then the video is dead-lettered and a replay retries it.
  const vectors = proxyActivities<IndexerActivities>({
    taskQueue: queue,
    startToCloseTimeout: '1m',
    heartbeatTimeout: '10s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5, nonRetryableErrorTypes },
  });
  const space = { analyzer: input.analysis.analyzer, model: input.analysis.model, dim: input.analysis.dim };

  const row = await db.writeIndexRow(input);
  try {
    await vectors.upsertVector(input);
  } catch (err) {
    await CancellationScope.nonCancellable(() =>
      db.compensateIndex({ videoId: input.videoId, space, errorType: 'VectorStoreUnavailable', message: describe(err) }),
    );
    throw err;
  }
  return db.markSearchable({ videoId: input.videoId, collection: row.collection });
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { message?: string } }).cause;
  return cause?.message ?? (err instanceof Error ? err.message : String(err));
}
