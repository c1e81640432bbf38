import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { PipelineState } from './contracts';

/** Queries and signals, apart from workflow code so clients can import them without the workflow. */
export const statusQuery = defineQuery<PipelineState>('status');

/**
 * A new URL for an external source whose URL expired (issue 18): `url` is its redacted display
 * form, `sealed` the full URL sealed for the media worker (issue 26).
 */
export const refreshSourceUrlSignal = defineSignal<[{ url: string; sealed?: string }]>('refreshSourceUrl');

/**
 * Issue 25: try a delayed analysis now instead of at the next re-analysis timer (an operator's
 * POST /videos/:id/reanalyze while the run still waits on one). Ignored by a run with nothing delayed.
 */
export const reanalyzeNowSignal = defineSignal('reanalyzeNow');
