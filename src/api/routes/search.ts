import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { SearchService } from '../../app/search-service';
import { HttpError } from '../http-error';
import { describeIssues } from '../schemas';

const isoDate = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date or date-time')
  .transform((s) => new Date(s));

export const searchQuerySchema = z
  .object({
    q: z
      .string()
      .trim()
      .min(1, 'q (the search text) is required')
      .max(500, 'q must be at most 500 characters')
      // Only punctuation or symbols embed to noise: say so instead of returning noise.
      .refine((s) => /[\p{L}\p{N}]/u.test(s), 'q must contain at least one letter or digit'),
    limit: z.coerce.number().int().min(1).max(50).default(5),
    offset: z.coerce.number().int().min(0).max(900).default(0),
    // Only fully indexed videos are searchable; the filter exists so a client can say so explicitly.
    status: z.enum(['ready'], { message: 'status can only be "ready": only fully indexed videos are searchable' }).optional(),
    minDuration: z.coerce.number().min(0).max(1e7).optional(),
    maxDuration: z.coerce.number().min(0).max(1e7).optional(),
    createdFrom: isoDate.optional(),
    createdTo: isoDate.optional(),
    tags: z
      .string()
      .max(500)
      .transform((s) =>
        s
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
      )
      .optional(),
  })
  .strict()
  .refine((v) => v.minDuration === undefined || v.maxDuration === undefined || v.minDuration <= v.maxDuration, {
    message: 'minDuration must not exceed maxDuration',
  })
  .refine((v) => !v.createdFrom || !v.createdTo || v.createdFrom <= v.createdTo, { message: 'createdFrom must not be after createdTo' });

const HINT = 'GET /search?q=words&limit=5&offset=0&minDuration=1&maxDuration=60&createdFrom=2026-01-01&tags=a,b';

/** GET /search: semantic search over fully indexed videos, with filters and pagination. */
export function registerSearchRoutes(app: FastifyInstance, deps: { search: SearchService }): void {
  app.get('/search', async (req) => {
    const parsed = searchQuerySchema.safeParse(req.query);
    if (!parsed.success) throw new HttpError(400, 'ValidationError', describeIssues(parsed.error), { hint: HINT });
    const p = parsed.data;
    const page = await deps.search.search({
      q: p.q,
      limit: p.limit,
      offset: p.offset,
      minDurationSec: p.minDuration,
      maxDurationSec: p.maxDuration,
      createdFrom: p.createdFrom,
      createdTo: p.createdTo,
      tags: p.tags,
    });
    return { query: p.q, ...page };
  });
}
