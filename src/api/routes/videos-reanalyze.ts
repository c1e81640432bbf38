import type { FastifyInstance } from 'fastify';
import type { ReanalysisService } from '../../app/reanalysis-service';
import { HttpError } from '../http-error';
import { describeIssues, videoIdSchema } from '../schemas';

/**
 * POST /videos/:id/reanalyze (operator): 202 with `{videoId, action, workflowId}` once the video's
 * run was told to try now ('signalled') or workflow reanalyzeVideo runs ('started'). The analysis
 * itself is asynchronous: GET /videos/:id says `analysis: "complete"` when it is done.
 */
export function registerReanalyzeRoutes(app: FastifyInstance, deps: { reanalysis: ReanalysisService }): void {
  app.post<{ Params: { id: string } }>('/videos/:id/reanalyze', { config: { access: 'operator' } }, async (req, reply) => {
    const id = videoIdSchema.safeParse(req.params.id);
    if (!id.success) throw new HttpError(400, 'ValidationError', describeIssues(id.error));
    return reply.status(202).send(await deps.reanalysis.reanalyze(id.data));
  });
}
