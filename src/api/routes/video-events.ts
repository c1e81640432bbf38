import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { AppError } from '../../app/errors';
import { StatusWatchHub, type WatchRead, type Watcher } from '../../app/status-watch-hub';
import type { VideoService } from '../../app/video-service';
import { DELETED_EVENT, endsWatch, STATUS_EVENT, STATUS_EVENTS_RETRY_MS } from '../../contracts/status-events';
import { PgNotifications } from '../../db/pg-notifications';
import { ErrorType } from '../../errors';
import { HttpError, httpErrorOf } from '../http-error';
import { describeIssues, videoIdSchema } from '../schemas';

/** The channel migrations/1764845000000_video-progress.sql notifies with the video id on every write. */
const CHANNEL = 'video_progress';
/** A client that reads nothing for this long a backlog is dropped rather than buffered without end. */
const MAX_BUFFERED_BYTES = 256 * 1024;
const ENDING_RECHECK_MS = 1_000;

type Status = Awaited<ReturnType<VideoService['get']>>;

/**
 * GET /videos/:id/events: the status document as server-sent events, driven by PostgreSQL
 * notifications (src/app/status-watch-hub.ts), so a watcher costs Temporal nothing while the
 * workers' reports are fresh and the API one read per change for all its watchers of a video.
 * Same access as GET /videos/:id (viewer), and the key may come as `?access_token=` because
 * EventSource cannot send headers.
 */
export function registerVideoEventRoutes(
  app: FastifyInstance,
  deps: { service: Pick<VideoService, 'get'>; pool: Pool; maxStreams: number },
): void {
  const log = app.log.child({ component: 'status-events' });
  const hub = new StatusWatchHub<unknown>({
    read: (videoId) => watchRead(deps.service, videoId),
    maxWatchers: deps.maxStreams,
    onFirstWatcher: () => feed.start(),
    onReadError: (err, videoId) =>
      log.debug({ videoId, err: (err as Error).message }, 'status read for watchers failed; retried on the next change'),
  });
  const feed = new PgNotifications({
    connection: deps.pool.options,
    channel: CHANNEL,
    onNotify: (videoId) => hub.notify(videoId),
    onState: (up) => {
      hub.feedState(up);
      if (!up) log.warn('status notifications are down; watchers are re-read every few seconds until they reconnect');
    },
    onError: (err) => log.debug({ err: err.message }, 'status notification connection failed'),
  });
  // Open streams would hold app.close() forever: they end first, then the listening connection.
  app.addHook('preClose', async () => hub.close());
  app.addHook('onClose', async () => feed.stop());

  // No HEAD twin: it would open a stream with nobody to read it.
  app.get<{ Params: { id: string } }>(
    '/videos/:id/events',
    { config: { queryToken: true }, exposeHeadRoute: false },
    async (req, reply) => {
      const id = videoIdSchema.safeParse(req.params.id);
      if (!id.success) throw new HttpError(400, 'ValidationError', describeIssues(id.error));
      if (hub.full) throw tooManyStreams(deps.maxStreams);
      // Before any byte of the stream: 404, 503 and their bodies are exactly GET /videos/:id's.
      const doc = await deps.service.get(id.data);
      const initial: WatchRead<unknown> = { event: STATUS_EVENT, doc, final: endsWatch(doc) };

      const stream = new PassThrough();
      const watcher = sseWatcher(stream);
      const sub = initial.final ? undefined : hub.open(id.data, watcher, initial);
      if (!initial.final && !sub) throw tooManyStreams(deps.maxStreams);
      reply.raw.once('close', () => {
        sub?.close();
        stream.destroy();
      });
      stream.write(`retry: ${STATUS_EVENTS_RETRY_MS}\n\n`);
      // A reconnect that already has this very document is not sent it again (a final one is: the
      // client closes on it); the ids are the documents' hashes.
      if (initial.final || req.headers['last-event-id'] !== eventId(initial)) watcher.send(initial);
      else watcher.ping();
      if (initial.final) watcher.end();
      return (
        reply
          .header('content-type', 'text/event-stream; charset=utf-8')
          .header('cache-control', 'no-cache, no-transform')
          // nginx and kin buffer responses by default: each event must leave at once.
          .header('x-accel-buffering', 'no')
          .send(stream)
      );
    },
  );
}

/** The document for watchers: the status, or (404) that the video is gone; other errors are thrown. */
async function watchRead(service: Pick<VideoService, 'get'>, videoId: string): Promise<WatchRead<unknown>> {
  try {
    const doc: Status = await service.get(videoId);
    // A run that has failed records it (an activity) and then closes: neither notifies a change
    // of the document's status, so it is read again shortly until it says failed.
    const ending = doc.step === 'failed' && doc.status !== 'failed';
    return { event: STATUS_EVENT, doc, final: endsWatch(doc), ...(ending ? { recheckMs: ENDING_RECHECK_MS } : {}) };
  } catch (err) {
    if (err instanceof AppError && err.kind === 'not-found') return { event: DELETED_EVENT, doc: httpErrorOf(err).toBody(), final: true };
    throw err;
  }
}

function eventId(read: WatchRead<unknown>): string {
  return createHash('sha256').update(read.event).update(JSON.stringify(read.doc)).digest('base64url').slice(0, 16);
}

/** SSE framing (one `data:` line: JSON.stringify never writes a newline) onto the response stream. */
function sseWatcher(stream: PassThrough): Watcher<unknown> {
  const write = (text: string) => {
    if (stream.destroyed || stream.writableEnded) return;
    if (stream.writableLength > MAX_BUFFERED_BYTES) {
      stream.destroy();
      return;
    }
    stream.write(text);
  };
  return {
    send: (read) => write(`id: ${eventId(read)}\nevent: ${read.event}\ndata: ${JSON.stringify(read.doc)}\n\n`),
    ping: () => write(': keepalive\n\n'),
    end: () => {
      if (!stream.destroyed && !stream.writableEnded) stream.end();
    },
  };
}

function tooManyStreams(max: number): HttpError {
  return new HttpError(503, ErrorType.Overloaded, `this API process already serves ${max} status event streams`, {
    hint: 'Retry after Retry-After, poll GET /videos/:id meanwhile, or raise API_MAX_EVENT_STREAMS.',
    headers: { 'retry-after': '5' },
  });
}
