import { proxyActivities } from '@temporalio/workflow';
import type { IndexerActivities } from '../../src/activities/indexer';
import type { IndexInput } from '../../src/workflows/contracts';

/**
 * Test-only load for the index queue: runs the production `upsertVector` activity for every
 * input at once, so the index worker processes polling that queue write concurrently.
 */
export async function indexRace(input: { indexQueue: string; inputs: IndexInput[] }): Promise<void> {
  const { upsertVector } = proxyActivities<IndexerActivities>({
    taskQueue: input.indexQueue,
    startToCloseTimeout: '1m',
    heartbeatTimeout: '10s',
    retry: { initialInterval: '1s', maximumAttempts: 5 },
  });
  await Promise.all(input.inputs.map((i) => upsertVector(i)));
}
