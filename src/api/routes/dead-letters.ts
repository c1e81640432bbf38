import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { DeadLetterService } from '../../app/dead-letter-service';
import type { DeadLetterListResponse } from '../../contracts/http';
import { HttpError } from '../http-error';
import { describeIssues } from '../schemas';

const listQuery = z
  .object({
    state: z.enum(['open', 'replayed', 'discarded']).optional(),
    type: z
      .string()
      .regex(/^[A-Za-z0-9_]{1,64}$/)
      .optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    before: z
      .string()
      .regex(/^\d{1,18}$/)
      .optional(),
  })
  .strict();

const idParam = z.string().regex(/^\d{1,18}$/, 'a dead-letter id is a number');

/** The dead-letter queue: list, inspect, replay (Temporal reset), discard. */
export function registerDeadLetterRoutes(app: FastifyInstance, service: DeadLetterService): void {
  app.get('/dead-letters', async (req): Promise<DeadLetterListResponse> => {
    const q = listQuery.safeParse(req.query ?? {});
    if (!q.success) {
      throw new HttpError(400, 'ValidationError', describeIssues(q.error), {
        hint: 'GET /dead-letters?state=open|replayed|discarded&type=ErrorType&limit=50&before=<id>',
      });
    }
    const items = await service.list({ state: q.data.state, errorType: q.data.type, limit: q.data.limit, beforeId: q.data.before });
    return { items, next: items.length === q.data.limit ? `/dead-letters?before=${items.at(-1)?.id}` : null };
  });

  const withId = (raw: string): string => {
    const id = idParam.safeParse(raw);
    if (!id.success) throw new HttpError(400, 'ValidationError', describeIssues(id.error));
    return id.data;
  };

  app.get<{ Params: { id: string } }>('/dead-letters/:id', async (req) => service.get(withId(req.params.id)));
  app.post<{ Params: { id: string } }>('/dead-letters/:id/replay', async (req, reply) =>
    reply.status(202).send(await service.replay(withId(req.params.id))),
  );
  app.post<{ Params: { id: string } }>('/dead-letters/:id/discard', async (req) => service.discard(withId(req.params.id)));
}
