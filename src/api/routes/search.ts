import type { FastifyInstance } from 'fastify';
import type { SearchService } from '../../app/search-service';
import { HttpError } from '../http-error';
import { describeIssues, searchQuerySchema } from '../schemas';

const HINT = 'GET /search?q=words&limit=5&offset=0&mode=hybrid&minDuration=1&maxDuration=60&createdAfter=2026-01-01&tags=a,b';

/** GET /search: hybrid (full-text + semantic) search over fully indexed videos, with moments, filters and pagination. */
export function registerSearchRoutes(app: FastifyInstance, deps: { search: SearchService }): void {
  app.get('/search', async (req) => {
    const parsed = searchQuerySchema.safeParse(req.query);
    if (!parsed.success) throw new HttpError(400, 'ValidationError', describeIssues(parsed.error), { hint: HINT });
    const p = parsed.data;
    const page = await deps.search.search({
      q: p.q,
      limit: p.limit,
      offset: p.offset,
      mode: p.mode,
      minDurationSec: p.minDuration,
      maxDurationSec: p.maxDuration,
      createdFrom: p.createdAfter,
      createdTo: p.createdBefore,
      tags: p.tags,
    });
    return { query: p.q, ...page };
  });
}
