import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { z } from 'zod';
import { decodeCursor, encodeCursor, LIST_STATUSES, listVideos, mediaPaths } from '../../db/videos-list';
import type { VideoListItem, VideoListResponse } from '../../contracts/http';
import { HttpError } from '../http-error';
import { describeIssues, videoIdSchema } from '../schemas';
import { sendFile } from './media-files';

const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  status: z.enum(LIST_STATUSES).optional(),
  cursor: z.string().max(400).optional(),
});

export type { VideoListItem };

/**
 * GET /videos (newest first, keyset-paginated) and the published media of each video
 * (GET /videos/:id/rendition.mp4, /thumbnail.jpg) for the dashboard's player and thumbnails.
 */
export function registerVideosListRoutes(app: FastifyInstance, deps: { pool: Pool; temporalUiUrl?: string; namespace?: string }): void {
  const ui = `${deps.temporalUiUrl ?? 'http://localhost:8233'}/namespaces/${encodeURIComponent(deps.namespace ?? 'default')}/workflows`;

  app.get('/videos', async (req): Promise<VideoListResponse> => {
    const parsed = listQuerySchema.safeParse(req.query);
    if (!parsed.success)
      throw new HttpError(400, 'ValidationError', describeIssues(parsed.error), {
        hint: 'GET /videos?limit=1..100&status=queued|ready|failed|delayed&cursor=…',
      });
    const cursor = parsed.data.cursor ? decodeCursor(parsed.data.cursor) : undefined;
    if (parsed.data.cursor && !cursor)
      throw new HttpError(400, 'ValidationError', 'cursor is not one this server gave out', {
        hint: 'Use nextCursor of the previous page.',
      });
    const { rows, next } = await listVideos(deps.pool, { limit: parsed.data.limit, status: parsed.data.status, cursor });
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
        temporalUi: `${ui}/${encodeURIComponent(r.workflowId)}`,
      },
    }));
    return { items, nextCursor: next ? encodeCursor(next) : null };
  });

  for (const [name, column, type] of [
    ['rendition.mp4', 'renditionPath', 'video/mp4'],
    ['thumbnail.jpg', 'thumbnailPath', 'image/jpeg'],
  ] as const) {
    app.get<{ Params: { id: string } }>(`/videos/:id/${name}`, { config: { queryToken: true } }, async (req, reply) => {
      const id = videoIdSchema.safeParse(req.params.id);
      if (!id.success) throw new HttpError(400, 'ValidationError', describeIssues(id.error));
      const paths = await mediaPaths(deps.pool, id.data);
      if (!paths) throw new HttpError(404, 'VideoNotFound', `no video with id ${id.data}`, { videoId: id.data });
      const file = paths[column];
      if (!file)
        throw new HttpError(404, 'MediaNotFound', `video ${id.data} has no ${name} yet`, {
          videoId: id.data,
          hint: 'Wait until the video is ready.',
        });
      return sendFile(req, reply, file, type, id.data);
    });
  }
}
