import { CancellationScope } from '@temporalio/workflow';
import type { IndexerActivities } from '../activities/indexer';
import type { TaskQueues } from '../pipeline/catalogue';
import { activity } from './activity-options';
import type { IndexInput, IndexOutput } from './contracts';

/**
 * The index step as a saga: main-DB row first (not yet searchable, usage charged), then the
 * vector point, then "searchable". When the vector write fails for good the compensation runs —
 * in a non-cancellable scope, so also while the workflow is being cancelled — and the error
 * propagates to processVideo's one failure path (recordFailure → dead letter) with its type,
 * e.g. VectorStoreUnavailable. Retry budgets: the catalogue's presets (dbRidesOutage for the
 * main-DB steps, vectorWriteFailsFast for the point).
 */
export async function runIndexSaga(queues: TaskQueues, input: IndexInput): Promise<IndexOutput> {
  const writeIndexRow = activity<IndexerActivities, 'writeIndexRow'>('writeIndexRow', queues);
  const upsertVector = activity<IndexerActivities, 'upsertVector'>('upsertVector', queues);
  const compensateIndex = activity<IndexerActivities, 'compensateIndex'>('compensateIndex', queues);
  const markSearchable = activity<IndexerActivities, 'markSearchable'>('markSearchable', queues);
  const space = { analyzer: input.analysis.analyzer, model: input.analysis.model, dim: input.analysis.dim };

  const row = await writeIndexRow(input);
  try {
    await upsertVector(input);
  } catch (err) {
    await CancellationScope.nonCancellable(() =>
      compensateIndex({ videoId: input.videoId, space, errorType: 'VectorStoreUnavailable', message: describe(err) }),
    );
    throw err;
  }
  return markSearchable({ videoId: input.videoId, collection: row.collection });
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { message?: string } }).cause;
  return cause?.message ?? (err instanceof Error ? err.message : String(err));
}
