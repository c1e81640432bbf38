import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HLS_PLAYLIST_TYPE } from '../../app/published-media';
import type { TranscriptService } from '../../app/transcript-service';
import type { TranscriptResponse } from '../../contracts/http';
import { withAccessToken } from '../../media/hls-playlist';
import { HttpError } from '../http-error';
import { describeIssues, videoIdSchema } from '../schemas';

/** `en.vtt` / `en.m3u8` (ISO 639-1, or `und` when the language is unknown). */
const CAPTIONS_FILE = /^([a-z]{2,3})\.vtt$/;
const SUBTITLES_FILE = /^([a-z]{2,3})\.m3u8$/;
const VTT_TYPE = 'text/vtt; charset=utf-8';

function videoId(req: FastifyRequest<{ Params: { id: string } }>): string {
  const id = videoIdSchema.safeParse(req.params.id);
  if (!id.success) throw new HttpError(400, 'ValidationError', describeIssues(id.error));
  return id.data;
}

function fileLanguage(file: string, re: RegExp, id: string): string {
  const lang = re.exec(file)?.[1];
  if (!lang) throw new HttpError(404, 'CaptionsNotFound', `video ${id} has no captions file ${JSON.stringify(file)}`, { videoId: id });
  return lang;
}

/**
 * GET /videos/:id/transcript (the timed transcript), the captions made from it
 * (GET /videos/:id/captions.vtt, /captions/<lang>.vtt: `<track>` of the MP4), and the HLS
 * subtitles playlist the master playlist names (GET /videos/:id/hls/subs/<lang>.m3u8). Media
 * routes take `?access_token=` like the MP4 and the ladder (a `<track>` cannot send headers).
 */
export function registerTranscriptRoutes(app: FastifyInstance, deps: { transcripts: TranscriptService }): void {
  app.get<{ Params: { id: string } }>('/videos/:id/transcript', async (req): Promise<TranscriptResponse> => {
    return deps.transcripts.transcript(videoId(req));
  });

  app.get<{ Params: { id: string } }>('/videos/:id/captions.vtt', { config: { queryToken: true } }, async (req, reply) => {
    const vtt = await deps.transcripts.captions(videoId(req));
    return reply.header('content-type', VTT_TYPE).header('cache-control', 'private, max-age=60').send(vtt);
  });

  app.get<{ Params: { id: string; file: string } }>('/videos/:id/captions/:file', { config: { queryToken: true } }, async (req, reply) => {
    const id = videoId(req);
    const vtt = await deps.transcripts.captions(id, fileLanguage(req.params.file, CAPTIONS_FILE, id));
    return reply.header('content-type', VTT_TYPE).header('cache-control', 'private, max-age=60').send(vtt);
  });

  app.get<{ Params: { id: string; file: string }; Querystring: { access_token?: unknown } }>(
    '/videos/:id/hls/subs/:file',
    { config: { queryToken: true } },
    async (req, reply) => {
      const id = videoId(req);
      const playlist = await deps.transcripts.subtitlesPlaylist(id, fileLanguage(req.params.file, SUBTITLES_FILE, id));
      const token = typeof req.query.access_token === 'string' && req.query.access_token ? req.query.access_token : undefined;
      return reply
        .header('content-type', HLS_PLAYLIST_TYPE)
        .header('cache-control', 'private, max-age=60')
        .send(token ? withAccessToken(playlist, token) : playlist);
    },
  );
}
