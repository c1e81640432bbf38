import type { Pool } from 'pg';
import type { VideoListItem, VideoListResponse } from '../contracts/http';
import { decodeCursor, encodeCursor, listVideos, type ListStatus } from '../db/videos-list';
import { AppError } from './errors';

/** GET /videos: newest first, keyset-paginated, each row with the links the dashboard follows. */
export class VideoListService {
  private readonly workflowsUi: string;

  constructor(private readonly deps: { pool: Pool; temporalUiUrl?: string; namespace?: string }) {
    this.workflowsUi = `${deps.temporalUiUrl ?? 'http://localhost:8233'}/namespaces/${encodeURIComponent(deps.namespace ?? 'default')}/workflows`;
  }

  async list(o: { limit: number; status?: ListStatus; cursor?: string }): Promise<VideoListResponse> {
    const cursor = o.cursor ? decodeCursor(o.cursor) : undefined;
    if (o.cursor && !cursor) {
      throw new AppError('invalid', 'ValidationError', 'cursor is not one this server gave out', {
        hint: 'Use nextCursor of the previous page.',
      });
    }
    const { rows, next } = await listVideos(this.deps.pool, { limit: o.limit, status: o.status, cursor });
    const items: VideoListItem[] = rows.map((r) => ({
      videoId: r.id,
      status: r.status,
      analysis: r.analysisState,
      createdAt: r.createdAt.toISOString(),
      durationSec: r.durationSec,
      width: r.width,
      height: r.height,
      summary: r.summary,
      tags: r.tags ?? [],
      lastError: r.errorType ? { type: r.errorType, message: r.errorMessage ?? '', step: r.failedStep } : null,
      links: {
        self: `/videos/${r.id}`,
        thumbnail: r.thumbnailPath ? `/videos/${r.id}/thumbnail.jpg` : null,
        rendition: r.renditionPath ? `/videos/${r.id}/rendition.mp4` : null,
        temporalUi: `${this.workflowsUi}/${encodeURIComponent(r.workflowId)}`,
      },
    }));
    return { items, nextCursor: next ? encodeCursor(next) : null };
  }
}
