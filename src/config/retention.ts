import { z } from 'zod';
import type { ConfigArea } from './area';
import { boolFlag, nonNegativeInt, positiveInt } from './fields';

export const retentionArea = {
  title: 'Reconciler and retention',
  about:
    'The reconciler runs on a Temporal Schedule and repairs what a crash between the database and the vector store left half-written; retention removes work files and the inputs of failed videos.',
  variables: z.object({
    RECONCILE_ENABLED: boolFlag.default(true).describe("Whether the reconciler's schedule runs (it is paused, not deleted, when off)."),
    RECONCILE_INTERVAL_MS: positiveInt.default(5 * 60_000).describe('Milliseconds between reconciler runs.'),
    RECONCILE_PAGE_SIZE: positiveInt.default(200).describe('Rows the reconciler reads per page.'),
    RECONCILE_MAX_PAGES_PER_RUN: positiveInt.default(20).describe('Pages one reconciler run reads at most.'),
    RECONCILE_STALE_AFTER_MS: nonNegativeInt
      .default(2 * 60_000)
      .describe('Age, in milliseconds, a not-yet-searchable row must reach before the reconciler checks its run.'),
    RETENTION_TMP_MS: positiveInt.default(24 * 3600_000).describe('Milliseconds work directories and partial uploads are kept.'),
    RETENTION_DEAD_LETTER_INPUT_MS: positiveInt
      .default(7 * 24 * 3600_000)
      .describe("Milliseconds a failed video's input and files are kept (for a replay)."),
  }),
} satisfies ConfigArea;

export function retentionConfig(e: z.output<typeof retentionArea.variables>) {
  return {
    reconcile: {
      enabled: e.RECONCILE_ENABLED,
      intervalMs: e.RECONCILE_INTERVAL_MS,
      pageSize: e.RECONCILE_PAGE_SIZE,
      maxPagesPerRun: e.RECONCILE_MAX_PAGES_PER_RUN,
      staleAfterMs: e.RECONCILE_STALE_AFTER_MS,
      retentionTmpMs: e.RETENTION_TMP_MS,
      retentionDeadLetterInputMs: e.RETENTION_DEAD_LETTER_INPUT_MS,
    },
  };
}
