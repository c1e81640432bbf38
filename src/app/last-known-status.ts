import type { VideoStatus } from './derive-status';

/**
 * The last status document this process served per video, so that GET /videos/:id can still say
 * something true while the main database is down (the row, the document's backbone, cannot be
 * read then). In-process, not Temporal's query: the query needs Temporal *and* a workflow worker,
 * knows nothing of finished or failed rows past retention, and gives pipeline state rather than
 * the document clients know; this cache answers instantly, with exactly what the client saw last,
 * marked stale with the time it was true. Per replica and lost on restart: a replica that never
 * served the video answers the 503 without it. Bounded (least recently served first out).
 */
export class LastKnownStatus {
  private readonly entries = new Map<string, { status: VideoStatus; at: Date }>();

  constructor(private readonly maxEntries = 10_000) {}

  remember(status: VideoStatus, at = new Date()): void {
    this.entries.delete(status.videoId);
    this.entries.set(status.videoId, { status, at });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  forget(videoId: string): void {
    this.entries.delete(videoId);
  }

  /** What was last served for this video, flagged stale, or undefined when this process never served it. */
  recall(videoId: string): StaleVideoStatus | undefined {
    const e = this.entries.get(videoId);
    return e && { ...e.status, stale: true, asOf: e.at.toISOString() };
  }
}

/** A status document served from memory: `stale` is always true, `asOf` says when it was current. */
export type StaleVideoStatus = VideoStatus & { stale: true; asOf: string };
