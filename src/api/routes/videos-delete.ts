import type { FastifyInstance } from 'fastify';
import type { DeletionService } from '../../app/deletion-service';
import { HttpError } from '../http-error';
import { describeIssues, videoIdSchema } from '../schemas';

/**
 * DELETE /videos/:id → 200 when the deletion saga finished within a few seconds, 202 while it
 * is still running (a store is down: it keeps retrying), 204 when there is nothing (left) to
 * delete — so a second DELETE is a no-op.
 */
export function registerVideoDeleteRoutes(app: FastifyInstance, deps: { deletion: DeletionService }): void {
  app.delete<{ Params: { id: string } }>('/videos/:id', { config: { access: 'operator' } }, async (req, reply) => {
    const id = videoIdSchema.safeParse(req.params.id);
    if (!id.success) throw new HttpError(400, 'ValidationError', describeIssues(id.error));
    const outcome = await deps.deletion.delete(id.data);
    if (outcome.state === 'absent') return reply.status(204).send();
    if (outcome.state === 'deleting') return reply.status(202).send({ videoId: id.data, deleted: false, workflowId: outcome.workflowId });
    return reply.status(200).send({ ...outcome.result, deleted: true });
  });
}
