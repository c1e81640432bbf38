/**
 * The status event stream of one video (GET /videos/:id/events, text/event-stream), declared once
 * for the API, the CLI and the dashboard (public/dashboard/status-events.js mirrors it). No
 * imports, so any side may use it.
 *
 * - `event: status` — `data:` is the status document, exactly what GET /videos/:id answers; one
 *   at once, then one per change.
 * - `event: deleted` — `data:` is the error body GET /videos/:id answers for a video that is gone (404).
 * The server closes the stream after an event that ends the watch (endsWatch); a client that
 * reconnects after that would only be told the same again, so it stops there too.
 */
export const STATUS_EVENT = 'status';
export const DELETED_EVENT = 'deleted';

/** How long a disconnected EventSource waits before it reconnects (`retry:`). */
export const STATUS_EVENTS_RETRY_MS = 3_000;

/**
 * Whether nothing more will change for a watcher: failed, or ready with its analysis settled (a
 * `delayed` analysis is retried later by the run and turns `complete` or `failed`).
 */
export function endsWatch(s: { status: string; analysis: string | null }): boolean {
  return s.status === 'failed' || (s.status === 'ready' && s.analysis !== 'delayed');
}
