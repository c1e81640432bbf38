import { proxySinks, type Sinks } from '@temporalio/workflow';
import type { PipelineState } from './contracts';

/**
 * The workflow's side of the status change feed: after each change a watcher should see (step,
 * segments, the end), processVideo hands its state to the pipeline worker, which writes it to
 * PostgreSQL (src/workers/status-feed.ts), so GET /videos/:id can answer without asking Temporal.
 * A sink is not a command: nothing of it is in the history, it is not called on replay, and a
 * lost call only makes the row stale (the API then asks Temporal).
 */
export interface StatusFeedSinks extends Sinks {
  statusFeed: { state(state: PipelineState): void };
}

const { statusFeed } = proxySinks<StatusFeedSinks>();

export function publishState(state: PipelineState): void {
  statusFeed.state(state);
}
