import type { FastifyInstance } from 'fastify';
import { withAccessToken } from '../../media/hls-playlist';
import { HLS_PLAYLIST_TYPE, type PublishedMedia } from '../../app/published-media';
import type { TranscriptService } from '../../app/transcript-service';
import { HttpError } from '../http-error';
import { describeIssues, videoIdSchema } from '../schemas';
import { sendObject } from './media-files';

/**
 * GET /videos/:id/hls/<file>: the HLS ladder the media worker published. Same auth as the MP4
 * (a key in the header, or `?access_token=` for players that cannot send headers); a playlist
 * fetched with `?access_token=` is served with that token added to every URI in it, so the
 * player's next requests carry it too.
 */
export function registerHlsRoutes(app: FastifyInstance, deps: { media: PublishedMedia; captions?: TranscriptService }): void {
  app.get<{ Params: { id: string; '*': string }; Querystring: { access_token?: unknown } }>(
    '/videos/:id/hls/*',
    { config: { queryToken: true } },
    async (req, reply) => {
      const id = videoIdSchema.safeParse(req.params.id);
      if (!id.success) throw new HttpError(400, 'ValidationError', describeIssues(id.error));
      const found = await deps.media.hlsFile(id.data, req.params['*']);
      if (found.kind === 'object') return sendObject(req, reply, deps.media.storage, found, id.data);
      const token = typeof req.query.access_token === 'string' && req.query.access_token ? req.query.access_token : undefined;
      // A video with speech gets its subtitles rendition in the master playlist (routes/transcript.ts).
      const text =
        req.params['*'] === 'master.m3u8' && deps.captions ? await deps.captions.masterWithSubtitles(id.data, found.text) : found.text;
      return reply
        .header('content-type', HLS_PLAYLIST_TYPE)
        .header('cache-control', 'private, max-age=60')
        .send(token ? withAccessToken(text, token) : text);
    },
  );
}
