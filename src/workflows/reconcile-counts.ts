import type { ReconcileCounts } from './contracts';

/** A pass that found and fixed nothing yet (shared by the reconciler's workflow and activities). */
export function emptyCounts(): ReconcileCounts {
  return {
    rowsChecked: 0,
    pointsChecked: 0,
    missingPointsRepaired: 0,
    stalePayloadsRepaired: 0,
    orphanPointsRemoved: 0,
    staleRowsFailed: 0,
    unrepairable: 0,
    tmpEntriesRemoved: 0,
    deadLetterInputsRemoved: 0,
    annIndexActions: 0,
  };
}

export function addCounts(a: ReconcileCounts, b: ReconcileCounts): ReconcileCounts {
  const out = { ...a };
  for (const k of Object.keys(b) as (keyof ReconcileCounts)[]) out[k] = (a[k] ?? 0) + (b[k] ?? 0);
  return out;
}
