import { continueAsNew, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { IndexerActivities } from '../activities/indexer';
import { optionsFor } from './activity-options';
import type { ReconcileCounts, ReconcileCursor, ReconcileInput } from './contracts';
import { addCounts, emptyCounts } from './reconcile-counts';

/** Same shape as the vector-store port's VectorSpace (workflow code may not import adapters). */
interface VectorSpace {
  analyzer: string;
  model: string;
  dim: number;
}

/**
 * Repairs drift between the main DB and the vector store, started by a Temporal
 * Schedule: rows first (missing points, stale payloads, rows of runs that ended without
 * updating them), then every space's points (orphans), then retention and ANN upkeep.
 * Bounded: `maxPagesPerRun` pages per run, then continue-as-new with the cursor and the
 * counts so far, so a large store never grows one history without bound.
 */
export async function reconcileIndex(input: ReconcileInput): Promise<ReconcileCounts> {
  // Every reconciler activity shares the catalogue's reconcilePage preset.
  const acts = proxyActivities<IndexerActivities>(optionsFor('reconcileRows', input.queues));
  let totals = input.totals ?? emptyCounts();
  let cursor: ReconcileCursor = input.cursor ?? { phase: 'rows' };
  let pages = 0;
  const budgetLeft = () => pages < input.maxPagesPerRun && !workflowInfo().continueAsNewSuggested;

  const carryOn = (): Promise<never> => {
    log.info('reconcile continues as new', { cursor, ...totals });
    return continueAsNew<typeof reconcileIndex>({ ...input, cursor, totals });
  };

  while (cursor.phase === 'rows') {
    if (!budgetLeft()) return carryOn();
    const page = await acts.reconcileRows({ afterId: cursor.afterId, limit: input.pageSize, staleAfterMs: input.staleAfterMs });
    pages++;
    totals = addCounts(totals, page.counts);
    cursor = page.next ? { phase: 'rows', afterId: page.next } : { phase: 'points', spaceIndex: 0 };
  }

  const spaces: VectorSpace[] = await acts.listVectorSpaces();
  for (;;) {
    const at: ReconcileCursor = cursor;
    if (at.phase !== 'points' || at.spaceIndex >= spaces.length) break;
    if (!budgetLeft()) return carryOn();
    const space: VectorSpace = spaces[at.spaceIndex]!;
    const page: { counts: ReconcileCounts; next?: string } = await acts.reconcilePoints({
      space,
      cursor: at.cursor,
      limit: input.pageSize,
    });
    pages++;
    totals = addCounts(totals, page.counts);
    cursor = page.next
      ? { phase: 'points', spaceIndex: at.spaceIndex, cursor: page.next }
      : { phase: 'points', spaceIndex: at.spaceIndex + 1 };
  }

  totals = addCounts(
    totals,
    (await acts.enforceRetention({ tmpMs: input.retention.tmpMs, deadLetterInputMs: input.retention.deadLetterInputMs, limit: 500 }))
      .counts,
  );
  totals = addCounts(totals, (await acts.maintainVectorIndexes()).counts);
  log.info('reconciled', { ...totals });
  if (input.scheduleId) {
    await acts
      .publishReconcileReport({ scheduleId: input.scheduleId, counts: totals, finishedAt: new Date().toISOString() })
      .catch((err: unknown) => {
        log.warn('could not publish the reconcile report on the schedule', { error: String(err) });
      });
  }
  return totals;
}
