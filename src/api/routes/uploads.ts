import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { isVideoContentType, type ObjectStorage } from '../../adapters/storage/port';
import { HttpError } from '../http-error';
import { describeIssues, videoIdSchema } from '../schemas';

export const uploadRequestSchema = z
  .object({
    videoId: videoIdSchema.optional(),
    contentType: z.string().min(1).max(100),
    sizeBytes: z.number().int().positive(),
    filename: z
      .string()
      .max(200)
      .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, 'filename: letters, digits, space, "._-" only')
      .optional(),
  })
  .strict();

export interface UploadRoutesDeps {
  storage: ObjectStorage;
  maxUploadBytes: number;
  uploadUrlTtlSec: number;
}

/** Object key of an upload: the workflow carries this, never a URL. */
export function uploadKey(videoId: string, filename = 'source'): string {
  return `uploads/${videoId}/${filename.replace(/ /g, '_')}`;
}

/**
 * POST /uploads → a video id and a presigned PUT bound to one key, an exact size, a video
 * content type and an expiry; the client PUTs the file, then POST /videos
 * {source: {kind: "upload", key}} starts processing.
 */
export function registerUploadRoutes(app: FastifyInstance, deps: UploadRoutesDeps): void {
  app.post('/uploads', { config: { access: 'uploader' } }, async (req, reply) => {
    const parsed = uploadRequestSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      throw new HttpError(400, 'ValidationError', describeIssues(parsed.error), {
        hint: 'Body: {"contentType": "video/mp4", "sizeBytes": 12345, "filename"?: "clip.mp4", "videoId"?: "…"}',
      });
    }
    const { contentType, sizeBytes, filename } = parsed.data;
    const videoId = parsed.data.videoId ?? `v_${randomBytes(9).toString('base64url')}`;
    if (!isVideoContentType(contentType)) {
      throw new HttpError(415, 'UnsupportedContentType', `${contentType} is not a video content type`, {
        videoId,
        hint: 'Upload video files only (content type video/*, e.g. video/mp4).',
      });
    }
    if (sizeBytes > deps.maxUploadBytes) {
      throw new HttpError(413, 'UploadTooLarge', `${sizeBytes} bytes is over the ${deps.maxUploadBytes}-byte upload cap`, {
        videoId,
        hint: 'Compress or trim the video (MAX_UPLOAD_BYTES sets the cap).',
      });
    }
    const key = uploadKey(videoId, filename);
    const put = await deps.storage.presignPut(key, { contentType, sizeBytes, expiresInSec: deps.uploadUrlTtlSec });
    return reply.status(201).send({
      videoId,
      key,
      upload: { ...put, maxBytes: sizeBytes },
      next: { method: 'POST', url: '/videos', body: { videoId, source: { kind: 'upload', key } } },
    });
  });
}
