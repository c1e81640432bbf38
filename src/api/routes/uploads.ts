import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HttpError } from '../http-error';
import { describeIssues, videoIdSchema } from '../schemas';
import type { UploadService } from '../../app/upload-service';

export const uploadRequestSchema = z
  .object({
    videoId: videoIdSchema.optional(),
    contentType: z.string().min(1).max(100),
    sizeBytes: z.number().int().positive(),
    /** Shown to people only: never part of the object key. */
    filename: z
      .string()
      .max(200)
      .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, 'filename: letters, digits, space, "._-" only')
      .optional(),
    /** Ask for a resumable multipart upload below the size threshold too. */
    multipart: z.boolean().optional(),
  })
  .strict();

const uploadIdSchema = z.string().regex(/^up_[A-Za-z0-9_-]{24}$/, 'uploadId is the id POST /uploads returned');

const completeSchema = z
  .object({
    /** Optional: the ETags the part PUTs answered; completion refuses parts the store holds with other bytes. */
    parts: z
      .array(z.object({ partNumber: z.number().int().min(1).max(10_000), etag: z.string().min(1).max(200) }).strict())
      .max(10_000)
      .optional(),
  })
  .strict();

export interface UploadRoutesDeps {
  uploads: UploadService;
}

/** Whose upload this is: the authenticated key (auth off: the one operator identity). */
function callerOf(req: FastifyRequest): string {
  const id = req.apiKey?.id;
  if (!id) throw new HttpError(401, 'Unauthorized', 'this endpoint needs an API key');
  return id;
}

function uploadIdOf(raw: string): string {
  const id = uploadIdSchema.safeParse(raw);
  if (!id.success) throw new HttpError(400, 'ValidationError', describeIssues(id.error));
  return id.data;
}

/**
 * POST /uploads → an upload bound to the caller: a random object key, and either one
 * presigned PUT or (large files, `multipart: true`) presigned part URLs that can be resumed
 * with GET /uploads/:uploadId. POST /uploads/:uploadId/complete pins the object; then
 * POST /videos {source: {kind: "upload", key}} starts processing. Answers: UploadTicket.
 */
export function registerUploadRoutes(app: FastifyInstance, deps: UploadRoutesDeps): void {
  app.post('/uploads', { config: { access: 'uploader' } }, async (req, reply) => {
    const parsed = uploadRequestSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      throw new HttpError(400, 'ValidationError', describeIssues(parsed.error), {
        hint: 'Body: {"contentType": "video/mp4", "sizeBytes": 12345, "videoId"?: "…", "multipart"?: true}',
      });
    }
    const { created, ticket } = await deps.uploads.open(parsed.data, callerOf(req));
    return reply.status(created ? 201 : 200).send(ticket);
  });

  app.get<{ Params: { id: string } }>('/uploads/:id', { config: { access: 'uploader' } }, async (req) =>
    deps.uploads.describe(uploadIdOf(req.params.id), callerOf(req)),
  );

  app.post<{ Params: { id: string } }>('/uploads/:id/complete', { config: { access: 'uploader' } }, async (req) => {
    const id = uploadIdOf(req.params.id);
    const body = completeSchema.safeParse(req.body ?? {});
    if (!body.success) {
      throw new HttpError(400, 'ValidationError', describeIssues(body.error), {
        hint: 'Body: {} or {"parts": [{"partNumber": 1, "etag": "…"}]}',
      });
    }
    return deps.uploads.complete(id, callerOf(req), body.data.parts);
  });
}
