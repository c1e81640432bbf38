import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { VideosRepo } from '../../db/videos-repo';
import { redactUrl } from '../../net/redact';
import type { SsrfPolicy } from '../../net/ssrf-guard';
import type { UrlSealer } from '../../security/sealed-url';
import { refreshSourceUrlSignal, statusQuery } from '../../workflows/messages';
import { HttpError } from '../http-error';
import { describeIssues, refreshUrlSchema, videoIdSchema } from '../schemas';
import { checkUrlSource } from '../source-checks';
import { isTemporalUnreachable, TEMPORAL_DEADLINE_MS, temporalUnavailable, withTemporalDeadline } from '../temporal-deadline';
import type { VideoService } from '../video-service';

export interface RefreshUrlDeps {
  client: Client;
  service: VideoService;
  ssrf: SsrfPolicy;
  /** The new URL travels sealed, like the start's (issue 26). */
  sealer: UrlSealer;
}

/**
 * POST /videos/:id/refresh-url {url}: operator-only. Sends signal `refreshSourceUrl` to a run
 * that waits for a new URL of its external source; the URL is validated (http(s), no control
 * characters, SSRF guard) first, and travels through history sealed for the media worker.
 */
export function registerRefreshUrlRoutes(app: FastifyInstance, deps: RefreshUrlDeps): void {
  app.post<{ Params: { id: string } }>('/videos/:id/refresh-url', { config: { access: 'operator' } }, async (req, reply) => {
    const id = videoIdSchema.safeParse(req.params.id);
    if (!id.success) throw new HttpError(400, 'ValidationError', describeIssues(id.error));
    const videoId = id.data;
    const body = refreshUrlSchema.safeParse(req.body ?? {});
    if (!body.success) {
      throw new HttpError(400, 'ValidationError', describeIssues(body.error), { videoId, hint: 'Body: {"url": "https://…"}' });
    }
    const row = await new VideosRepo(deps.service.pool).get(videoId);
    if (!row) throw new HttpError(404, 'VideoNotFound', `no video with id ${videoId}`, { videoId });
    if (row.source.kind !== 'url') {
      throw new HttpError(409, 'NotAnExternalSource', `video ${videoId} is not a URL source; its URL is refreshed by the workflow itself`, {
        videoId,
      });
    }
    await checkUrlSource(body.data.url, deps.ssrf, videoId);
    const handle = deps.client.workflow.getHandle(row.workflowId);
    // One deadline for the query and the signal (temporal-deadline.ts); unreachable → 503, not a misleading 409.
    const deadlineAt = Date.now() + TEMPORAL_DEADLINE_MS;
    const unreachable = (err: unknown) => {
      if (!isTemporalUnreachable(err)) return undefined;
      throw temporalUnavailable(`could not reach the run of video ${videoId}: ${(err as Error).message}`, { videoId });
    };
    const state = await withTemporalDeadline(deps.client, () => handle.query(statusQuery), deadlineAt).catch(unreachable);
    if (!state?.waitingForSource) {
      throw new HttpError(409, 'NotWaitingForSource', `video ${videoId} is not waiting for a new source URL`, {
        videoId,
        hint: 'Only a run whose status is waiting_for_source takes a new URL.',
      });
    }
    const offer = { url: redactUrl(body.data.url), sealed: deps.sealer.seal(body.data.url) };
    await withTemporalDeadline(deps.client, () => handle.signal(refreshSourceUrlSignal, offer), deadlineAt).catch((err: unknown) => {
      unreachable(err);
      throw err;
    });
    return reply.status(202).send(await deps.service.get(videoId));
  });
}
