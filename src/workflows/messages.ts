import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { PipelineState } from './contracts';

/** Queries and signals, apart from workflow code so clients can import them without the workflow. */
export const statusQuery = defineQuery<PipelineState>('status');

/**
 * A new URL for an external source whose URL expired: `url` is its redacted display form, `sealed`
 * the full URL sealed for the media worker (history never holds a URL's secrets).
 */
export const refreshSourceUrlSignal = defineSignal<[{ url: string; sealed?: string }]>('refreshSourceUrl');

/**
 * Try a delayed analysis now instead of at the next re-analysis timer (an operator's
 * POST /videos/:id/reanalyze while the run still waits on one). Ignored by a run with nothing delayed.
 */
export const reanalyzeNowSignal = defineSignal('reanalyzeNow');
