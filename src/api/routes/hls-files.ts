import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { mediaPaths } from '../../db/videos-list';
import { withAccessToken } from '../../media/hls-playlist';
import { HttpError } from '../http-error';
import { describeIssues, videoIdSchema } from '../schemas';
import { sendFile } from './media-files';

/**
 * The only names a ladder holds (src/media/hls-ladder.ts): the master playlist, and per rung
 * (`720p/`) its playlist, init segment and media segments. Matching the whole path against
 * this list is the traversal guard: no `..`, no other directory, no other file reaches the disk.
 */
const HLS_FILE = /^(?:master\.m3u8|\d{2,4}p\/(?:index\.m3u8|init(?:_\d{1,2})?\.mp4|seg_\d{1,6}\.m4s))$/;

const CONTENT_TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mp4': 'video/mp4',
  // RFC 8216 / ISO BMFF: a media segment that is not a whole file.
  '.m4s': 'video/iso.segment',
};

/**
 * GET /videos/:id/hls/<file>: the HLS ladder the media worker published under
 * `<mediaDir>/<id>/hls/`. Same auth as the MP4 (a key in the header, or `?access_token=` for
 * players that cannot send headers); a playlist fetched with `?access_token=` is served with
 * that token added to every URI in it, so the player's next requests carry it too.
 */
export function registerHlsRoutes(app: FastifyInstance, deps: { pool: Pool; mediaDir: string }): void {
  app.get<{ Params: { id: string; '*': string }; Querystring: { access_token?: unknown } }>(
    '/videos/:id/hls/*',
    { config: { queryToken: true } },
    async (req, reply) => {
      const id = videoIdSchema.safeParse(req.params.id);
      if (!id.success) throw new HttpError(400, 'ValidationError', describeIssues(id.error));
      const name = req.params['*'];
      if (!HLS_FILE.test(name))
        throw new HttpError(404, 'MediaNotFound', `video ${id.data} has no HLS file ${JSON.stringify(name)}`, {
          videoId: id.data,
          hint: `Start from /videos/${id.data}/hls/master.m3u8.`,
        });
      const paths = await mediaPaths(deps.pool, id.data);
      if (!paths) throw new HttpError(404, 'VideoNotFound', `no video with id ${id.data}`, { videoId: id.data });
      // The ladder is served exactly when the MP4 is (issue 26): a failed video's files may still be
      // on disk until retention removes them, but its row names no rendition, so neither is served.
      if (!paths.renditionPath || paths.status === 'failed')
        throw new HttpError(404, 'MediaNotFound', `video ${id.data} has no HLS ladder`, {
          videoId: id.data,
          hint: 'Only a ready video is streamed; see GET /videos/' + id.data + ' for its state.',
        });
      const file = path.join(deps.mediaDir, id.data, 'hls', name);
      const type = CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream';
      if (type !== CONTENT_TYPES['.m3u8']) return sendFile(req, reply, file, type, id.data);

      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined)
        throw new HttpError(404, 'MediaNotFound', `video ${id.data} has no HLS ladder (yet)`, {
          videoId: id.data,
          hint: 'Wait until the video is ready; videos processed before HLS was added have only the MP4.',
        });
      const token = typeof req.query.access_token === 'string' && req.query.access_token ? req.query.access_token : undefined;
      return reply
        .header('content-type', CONTENT_TYPES['.m3u8'])
        .header('cache-control', 'private, max-age=60')
        .send(token ? withAccessToken(text, token) : text);
    },
  );
}
