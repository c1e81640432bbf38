import type { FastifyInstance } from 'fastify';
import { VTT_TYPE, type VideoTracks } from '../../app/video-tracks';
import { HttpError } from '../http-error';
import { describeIssues, videoIdSchema } from '../schemas';
import { sendObject } from './media-files';

/**
 * GET /videos/:id/storyboard/<file> (the WebVTT thumbnail track `storyboard.vtt` and its sprite
 * sheets; the track's sprite URLs are relative, so they come back here) and
 * GET /videos/:id/chapters.vtt. Same auth as the MP4 and HLS: a key in the header, or
 * `?access_token=` for players, `<track>` and `<img>` that cannot send one; a track fetched with
 * the token hands it on in every sprite URL.
 */
export function registerVideoTrackRoutes(app: FastifyInstance, deps: { tracks: VideoTracks }): void {
  app.get<{ Params: { id: string; name: string }; Querystring: { access_token?: unknown } }>(
    '/videos/:id/storyboard/:name',
    { config: { queryToken: true } },
    async (req, reply) => {
      const id = videoIdSchema.safeParse(req.params.id);
      if (!id.success) throw new HttpError(400, 'ValidationError', describeIssues(id.error));
      const token = typeof req.query.access_token === 'string' && req.query.access_token ? req.query.access_token : undefined;
      const found = await deps.tracks.storyboardFile(id.data, req.params.name, token);
      if (found.kind === 'object') return sendObject(req, reply, deps.tracks.storage, found, id.data);
      return reply.header('content-type', VTT_TYPE).header('cache-control', 'private, max-age=60').send(found.text);
    },
  );

  app.get<{ Params: { id: string } }>('/videos/:id/chapters.vtt', { config: { queryToken: true } }, async (req, reply) => {
    const id = videoIdSchema.safeParse(req.params.id);
    if (!id.success) throw new HttpError(400, 'ValidationError', describeIssues(id.error));
    const vtt = await deps.tracks.chaptersVtt(id.data);
    return reply.header('content-type', VTT_TYPE).header('cache-control', 'private, max-age=60').send(vtt);
  });
}
