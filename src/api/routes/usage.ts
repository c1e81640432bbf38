import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { UsageReportService } from '../../app/usage-report';
import { HttpError } from '../http-error';
import { describeIssues } from '../schemas';

const DAY_MS = 24 * 3600_000;
const DEFAULT_RANGE_DAYS = 30;
const MAX_RANGE_DAYS = 366;
const HINT = 'GET /usage?from=2026-12-01&to=2026-12-06 (UTC days, both included; or ISO times, `to` excluded); at most 366 days';

const when = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/, 'a date (YYYY-MM-DD) or an ISO time')
  .refine((s) => !Number.isNaN(Date.parse(s)), 'not a real date');
const usageQuery = z.object({ from: when.optional(), to: when.optional() }).strict();

const dateOnly = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s);

/** [from, to) from the query: a date-only `to` includes that whole UTC day; the default is the last 30 days. */
export function usageRange(q: { from?: string; to?: string }, now = new Date()): { from: Date; to: Date } {
  const to = q.to ? new Date(Date.parse(q.to) + (dateOnly(q.to) ? DAY_MS : 0)) : now;
  const from = q.from ? new Date(Date.parse(q.from)) : new Date(to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS);
  return { from, to };
}

/** The cost report: what the AI provider and the media step cost, per video and per day. Operators only. */
export function registerUsageRoutes(app: FastifyInstance, deps: { usage: UsageReportService }): void {
  app.get('/usage', { config: { access: 'operator' } }, async (req) => {
    const q = usageQuery.safeParse(req.query ?? {});
    if (!q.success) throw new HttpError(400, 'ValidationError', describeIssues(q.error), { hint: HINT });
    const { from, to } = usageRange(q.data);
    if (!(from < to)) throw new HttpError(400, 'ValidationError', '`from` must be before `to`', { hint: HINT });
    if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
      throw new HttpError(400, 'ValidationError', `the range is longer than ${MAX_RANGE_DAYS} days`, { hint: HINT });
    }
    return deps.usage.report(from, to);
  });
}
