import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { PublishedMedia } from '../../app/published-media';
import type { VideoListService } from '../../app/video-list-service';
import type { VideoListItem, VideoListResponse } from '../../contracts/http';
import { LIST_STATUSES } from '../../db/videos-list';
import { HttpError } from '../http-error';
import { describeIssues, videoIdSchema } from '../schemas';
import { sendObject } from './media-files';

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
export function registerVideosListRoutes(app: FastifyInstance, deps: { list: VideoListService; media: PublishedMedia }): void {
  app.get('/videos', async (req): Promise<VideoListResponse> => {
    const parsed = listQuerySchema.safeParse(req.query);
    if (!parsed.success)
      throw new HttpError(400, 'ValidationError', describeIssues(parsed.error), {
        hint: 'GET /videos?limit=1..100&status=queued|ready|failed|delayed&cursor=…',
      });
    return deps.list.list(parsed.data);
  });

  for (const [name, which] of [
    ['rendition.mp4', 'rendition'],
    ['thumbnail.jpg', 'thumbnail'],
  ] as const) {
    app.get<{ Params: { id: string } }>(`/videos/:id/${name}`, { config: { queryToken: true } }, async (req, reply) => {
      const id = videoIdSchema.safeParse(req.params.id);
      if (!id.success) throw new HttpError(400, 'ValidationError', describeIssues(id.error));
      return sendObject(req, reply, deps.media.storage, await deps.media.file(id.data, which), id.data);
    });
  }
}
