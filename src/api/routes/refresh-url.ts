import type { FastifyInstance } from 'fastify';
import type { VideoService } from '../../app/video-service';
import { HttpError } from '../http-error';
import { describeIssues, refreshUrlSchema, videoIdSchema } from '../schemas';

/**
 * POST /videos/:id/refresh-url {url}: operator-only. The URL is validated here (http(s), no
 * control characters); VideoService.refreshSourceUrl checks it against the SSRF policy and
 * signals the run that waits for it.
 */
export function registerRefreshUrlRoutes(app: FastifyInstance, deps: { service: VideoService }): void {
  app.post<{ Params: { id: string } }>('/videos/:id/refresh-url', { config: { access: 'operator' } }, async (req, reply) => {
    const id = videoIdSchema.safeParse(req.params.id);
    if (!id.success) throw new HttpError(400, 'ValidationError', describeIssues(id.error));
    const videoId = id.data;
    const body = refreshUrlSchema.safeParse(req.body ?? {});
    if (!body.success) {
      throw new HttpError(400, 'ValidationError', describeIssues(body.error), { videoId, hint: 'Body: {"url": "https://…"}' });
    }
    return reply.status(202).send(await deps.service.refreshSourceUrl(videoId, body.data.url));
  });
}
