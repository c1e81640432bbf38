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
  /** Above this size (and where the store has parts) the client gets a multipart upload. Default 4 GiB: one S3 PUT stops at 5 GB. */
  multipartThresholdBytes?: number;
  multipartPartBytes?: number;
}

const completeSchema = z
  .object({
    key: z.string().min(1).max(512),
    uploadId: z.string().min(1).max(1024),
    parts: z
      .array(z.object({ partNumber: z.number().int().min(1).max(10_000), etag: z.string().min(1).max(200) }).strict())
      .min(1)
      .max(10_000),
  })
  .strict();

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
    const next = { method: 'POST', url: '/videos', body: { videoId, source: { kind: 'upload', key } } };
    if (deps.storage.presignMultipart && sizeBytes > (deps.multipartThresholdBytes ?? 4 * 1024 ** 3)) {
      const mp = await deps.storage.presignMultipart(key, {
        contentType,
        sizeBytes,
        partSize: deps.multipartPartBytes ?? 64 * 1024 * 1024,
        expiresInSec: deps.uploadUrlTtlSec,
      });
      return reply.status(201).send({
        videoId,
        key,
        upload: {
          method: 'MULTIPART',
          ...mp,
          // PUT each part (exactly its sizeBytes), keep each answer's ETag header, then complete.
          complete: {
            method: 'POST',
            url: `/uploads/${videoId}/complete`,
            body: { key, uploadId: mp.uploadId, parts: '[{partNumber, etag}]' },
          },
        },
        next,
      });
    }
    const put = await deps.storage.presignPut(key, { contentType, sizeBytes, expiresInSec: deps.uploadUrlTtlSec });
    return reply.status(201).send({ videoId, key, upload: { ...put, maxBytes: sizeBytes }, next });
  });

  app.post<{ Params: { id: string } }>('/uploads/:id/complete', { config: { access: 'uploader' } }, async (req, reply) => {
    const id = videoIdSchema.safeParse(req.params.id);
    const body = completeSchema.safeParse(req.body ?? {});
    if (!id.success || !body.success) {
      throw new HttpError(400, 'ValidationError', id.success ? describeIssues(body.error as z.ZodError) : describeIssues(id.error), {
        hint: 'Body: {"key", "uploadId", "parts": [{"partNumber": 1, "etag": "…"}]}',
      });
    }
    const { key, uploadId, parts } = body.data;
    if (!key.startsWith(`uploads/${id.data}/`) || !deps.storage.completeMultipart) {
      throw new HttpError(400, 'InvalidKey', `key ${key} is not a multipart upload of ${id.data}`, { videoId: id.data });
    }
    try {
      await deps.storage.completeMultipart(key, uploadId, parts);
    } catch (err) {
      throw new HttpError(400, 'UploadIncomplete', `the parts could not be assembled: ${(err as Error).name}`, {
        videoId: id.data,
        hint: 'PUT every part with its exact size and pass the ETags the PUTs answered.',
      });
    }
    return reply.status(200).send({
      videoId: id.data,
      key,
      next: { method: 'POST', url: '/videos', body: { videoId: id.data, source: { kind: 'upload', key } } },
    });
  });
}
