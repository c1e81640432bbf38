import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { DeadLetterService } from '../app/dead-letter-service';
import type { Pool } from 'pg';
import { HttpError } from './http-error';
import { answerError } from './error-handler';
import { OutageTolerantKeys } from './outage-tolerant-keys';
import fp from 'fastify-plugin';
import { installInputHygiene } from './input-hygiene';
import { registerSecurityHeaders } from './security-headers';
import { answerClientError, answerFrameworkError } from './framework-errors';
import { registerDeadLetterRoutes } from './routes/dead-letters';
import { describeIssues, startVideoSchema, videoIdSchema } from './schemas';
import { registerSearchRoutes } from './routes/search';
import { registerVideoDeleteRoutes } from './routes/videos-delete';
import { registerReanalyzeRoutes } from './routes/videos-reanalyze';
import type { VideoService } from '../app/video-service';
import { registerOpsRoutes, type OpsDeps } from './routes/ops';
import { installAuth, type AuthOptions } from './auth';
import type { LocalObjectStorage } from '../adapters/storage/local-storage';
import type { ObjectStorage } from '../adapters/storage/port';
import { registerStorageRoutes } from './routes/storage';
import { registerUploadRoutes } from './routes/uploads';
import { UploadService, type UploadServiceDeps } from '../app/upload-service';
import { registerRefreshUrlRoutes } from './routes/refresh-url';
import { registerKeyRoutes } from './routes/keys';
import { registerDashboardRoutes } from './routes/dashboard';
import { registerVideosListRoutes } from './routes/videos-list';
import { registerHlsRoutes } from './routes/hls-files';
import { registerVideoTrackRoutes } from './routes/video-tracks';
import { VideoTracks } from '../app/video-tracks';
import { PublishedMedia } from '../app/published-media';
import { TranscriptService } from '../app/transcript-service';
import { registerTranscriptRoutes } from './routes/transcript';
import { VideoListService } from '../app/video-list-service';
import { registerUsageRoutes } from './routes/usage';
import { registerVideoEventRoutes } from './routes/video-events';
import { DEFAULT_MAX_WATCHERS } from '../app/status-watch-hub';
import { DEFAULT_PRICES, UsageReportService, type PriceTable } from '../app/usage-report';

/** Optional parts of the app: auth (default: keys in the service's DB), uploads, signed local transfers, refresh-url. */
export interface AccessOptions {
  auth?: AuthOptions;
  /** Uploads (bound to their caller; multipart above the threshold, default 64 MiB in 16 MiB parts). */
  uploads?: Omit<UploadServiceDeps, 'uploads' | 'videos' | 'multipartThresholdBytes' | 'multipartPartBytes'> &
    Partial<Pick<UploadServiceDeps, 'multipartThresholdBytes' | 'multipartPartBytes'>>;
  localStorage?: LocalObjectStorage;
  /** POST /videos/:id/refresh-url (operators hand a waiting run a new source URL). */
  refresh?: boolean;
}

/** Thin routes: validate at the edge, call the service, answer one status or error shape. */
export function buildApp(
  service: VideoService,
  opts: {
    logger?: FastifyServerOptions['logger'];
    deadLetters?: DeadLetterService;
    ops?: OpsDeps;
    /** Video list + media files (served from `storage`) + dashboard; without a pool only the dashboard is served. */
    library?: { pool: Pool; temporalUiUrl?: string; namespace?: string; storage: ObjectStorage };
    /** Prices of the cost report, GET /usage (served with `library`'s pool). */
    usagePrices?: PriceTable;
    /** Concurrent GET /videos/:id/events streams (served with `library`'s pool, which it LISTENs through). */
    maxEventStreams?: number;
  } & AccessOptions = {},
): FastifyInstance {
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: 64 * 1024,
    // The framework's own answers (a bad URL, a path id over the length limit, a request Node
    // could not parse) in the one error shape too.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });
  // Order matters: headers on every answer, then hostile input refused before auth looks up a
  // key, then auth, then the per-key rate limit (ops), which needs the key auth found.
  void app.register(registerSecurityHeaders, { storage: opts.library?.storage });
  void app.register(
    fp(async (root: FastifyInstance) => {
      installInputHygiene(root);
      installAuth(root, opts.auth ?? { keys: new OutageTolerantKeys(service.repos.apiKeys) });
    }),
  );
  const uploads = opts.uploads
    ? new UploadService({
        multipartThresholdBytes: 64 * 1024 ** 2,
        multipartPartBytes: 16 * 1024 ** 2,
        ...opts.uploads,
        uploads: service.repos.uploads,
        videos: service.repos.videos,
      })
    : undefined;
  if (opts.ops) void app.register(registerOpsRoutes, opts.ops);

  app.setErrorHandler(answerError);

  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send(
      new HttpError(404, 'RouteNotFound', `no route ${req.method} ${req.url.split('?')[0] ?? ''}`, {
        hint: 'See docs/api.md.',
      }).toBody(),
    ),
  );

  app.get('/health', { config: { access: 'public' } }, async () => ({ ok: true }));

  app.post('/videos', async (req, reply) => {
    const parsed = startVideoSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      throw new HttpError(400, 'ValidationError', describeIssues(parsed.error), {
        hint: 'Body: {"videoId"?: "[A-Za-z0-9_-]{1,64}", "source": {"kind": "file", "path": "…"} | {"kind": "url", "url": "https://…"}}',
      });
    }
    const { created, status } = await service.start(parsed.data, { caller: req.apiKey?.id, uploads });
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

  registerSearchRoutes(app, { search: service.searcher });
  registerVideoDeleteRoutes(app, { deletion: service.deletion });
  registerReanalyzeRoutes(app, { reanalysis: service.reanalysis });

  if (opts.deadLetters) registerDeadLetterRoutes(app, opts.deadLetters);
  if (opts.localStorage) registerStorageRoutes(app, { storage: opts.localStorage });
  if (uploads) registerUploadRoutes(app, { uploads });
  if (opts.refresh) registerRefreshUrlRoutes(app, { service });
  registerKeyRoutes(app, { keys: service.repos.apiKeys });
  if (opts.library) {
    const media = new PublishedMedia(opts.library);
    registerVideosListRoutes(app, { list: new VideoListService(opts.library), media });
    const transcripts = new TranscriptService(opts.library);
    registerHlsRoutes(app, { media, captions: transcripts });
    registerVideoTrackRoutes(app, { tracks: new VideoTracks(opts.library) });
    registerTranscriptRoutes(app, { transcripts });
    registerVideoEventRoutes(app, { service, pool: opts.library.pool, maxStreams: opts.maxEventStreams ?? DEFAULT_MAX_WATCHERS });
  }
  if (opts.library) {
    registerUsageRoutes(app, { usage: new UsageReportService(service.repos.usageLedger, opts.usagePrices ?? DEFAULT_PRICES) });
  }
  registerDashboardRoutes(app);

  return app;
}
