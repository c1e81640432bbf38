import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { DeletionService } from '../app/deletion-service';
import type { SearchService } from '../app/search-service';
import { HttpError } from './http-error';
import { registerSearchRoutes } from './routes/search';
import { registerVideoDeleteRoutes } from './routes/videos-delete';
import { describeIssues, startVideoSchema, videoIdSchema } from './schemas';
import type { VideoService } from './video-service';

/** Thin routes: validate at the edge, call the service, answer one status or error shape. */
export function buildApp(
  service: VideoService,
  opts: { logger?: FastifyServerOptions['logger']; search?: SearchService; deletion?: DeletionService } = {},
): FastifyInstance {
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 64 * 1024 });

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, req, reply) => {
    if (err instanceof HttpError) {
      if (err.opts.headers) void reply.headers(err.opts.headers);
      return reply.status(err.status).send(err.toBody());
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err }, 'unhandled error');
    const body = new HttpError(
      status,
      status === 500 ? 'InternalError' : 'BadRequest',
      // Never a stack trace; for 500s not even the message, which may carry internals.
      status === 500 ? 'the server failed to handle this request' : err.message,
      { hint: status === 500 ? 'Retry; if it persists, check the API logs.' : 'Send a JSON body; see README "HTTP API".' },
    ).toBody();
    return reply.status(status).send(body);
  });

  app.setNotFoundHandler((req, reply) =>
    reply
      .status(404)
      .send(new HttpError(404, 'RouteNotFound', `no route ${req.method} ${req.url}`, { hint: 'See README "HTTP API".' }).toBody()),
  );

  app.get('/health', async () => ({ ok: true }));

  app.post('/videos', async (req, reply) => {
    const parsed = startVideoSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      throw new HttpError(400, 'ValidationError', describeIssues(parsed.error), {
        hint: 'Body: {"videoId"?: "[A-Za-z0-9_-]{1,64}", "source": {"kind": "file", "path": "…"} | {"kind": "url", "url": "https://…"}}',
      });
    }
    const { created, status } = await service.start(parsed.data);
    return reply
      .status(created ? 202 : 200)
      .header('location', status.links.self)
      .send(status);
  });

  app.get<{ Params: { id: string } }>('/videos/:id', async (req) => {
    const id = videoIdSchema.safeParse(req.params.id);
    if (!id.success) throw new HttpError(400, 'ValidationError', describeIssues(id.error));
    return service.get(id.data);
  });

  if (opts.search) registerSearchRoutes(app, { search: opts.search });
  if (opts.deletion) registerVideoDeleteRoutes(app, { deletion: opts.deletion });

  return app;
}
