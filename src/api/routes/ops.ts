import rateLimit from '@fastify/rate-limit';
import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Pool } from 'pg';
import { ErrorType } from '../../errors';
import { temporalDeadlineIn, withTemporalDeadline } from '../../temporal/deadline';
import type { AdmissionController } from '../admission';
import { HttpError } from '../http-error';
import type { ApiMetrics } from '../metrics';

export interface OpsDeps {
  client: Client;
  pool: Pool;
  admission: AdmissionController;
  metrics: ApiMetrics;
  /** Requests per window per client; 0 disables the per-client limit. */
  rateLimit: { max: number; windowMs: number };
  lagAlertMs: number;
}

const OPS_PATHS = new Set(['/metrics', '/healthz', '/readyz', '/health']);

/**
 * Operations surface of the API, one plugin registered from app.ts:
 * - per-client request-rate limit (@fastify/rate-limit; keyed by the authenticated key, else the address);
 * - admission control on POST /videos (429 + Retry-After, see admission.ts);
 * - GET /metrics (Prometheus), GET /healthz (liveness + lag signal), GET /readyz (Temporal + DB).
 * Wrapped with fastify-plugin so its hooks apply to every route of the app.
 */
export const registerOpsRoutes = fp(async (app: FastifyInstance, deps: OpsDeps) => {
  if (deps.rateLimit.max > 0) {
    await app.register(rateLimit, {
      // Not global: its onRoute hook would miss the routes app.ts declared before this plugin loaded.
      global: false,
      max: deps.rateLimit.max,
      timeWindow: deps.rateLimit.windowMs,
      allowList: (req: FastifyRequest) => OPS_PATHS.has(req.url.split('?')[0] ?? ''),
      keyGenerator: clientKey,
      errorResponseBuilder: (req, ctx) => {
        deps.metrics.rateLimited.inc();
        const retryAfterSec = Math.max(1, Math.ceil(ctx.ttl / 1000));
        const err = new HttpError(
          429,
          ErrorType.RateLimited,
          `more than ${ctx.max} requests in ${Math.round(deps.rateLimit.windowMs / 1000)} s from this client`,
          { hint: `Slow down; retry after ${retryAfterSec} s (Retry-After).`, headers: { 'retry-after': String(retryAfterSec) } },
        );
        return Object.assign(err, { statusCode: 429 });
      },
    });
    app.addHook('onRequest', app.rateLimit());
  }

  app.addHook('preHandler', async (req) => {
    if (req.method !== 'POST' || req.routeOptions.url !== '/videos') return;
    const verdict = await deps.admission.check();
    if (verdict.admit) return;
    deps.metrics.admissionRejections.inc({ reason: verdict.reason, queue: verdict.queue ?? '' });
    throw new HttpError(429, ErrorType.Overloaded, `not accepting new uploads right now: ${verdict.message}`, {
      hint: `Nothing was registered. Retry after ${verdict.retryAfterSec} s (Retry-After); the workers are catching up.`,
      headers: { 'retry-after': String(verdict.retryAfterSec) },
    });
  });

  // Probes and scrapers carry no API key: these three answer without one (no secrets in them).
  const probe = { config: { access: 'public' as const } };
  app.get('/metrics', probe, async (_req, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.header('content-type', deps.metrics.registry.contentType).send(text);
  });

  app.get('/healthz', probe, async () => {
    const m = await deps.admission.measure().catch(() => undefined);
    const lag = m
      ? Object.fromEntries(
          m.queues.map((q) => [
            q.queue,
            { backlogCount: q.backlogCount, backlogAgeSec: q.backlogAgeMs / 1000, overThreshold: q.backlogAgeMs > deps.lagAlertMs },
          ]),
        )
      : null;
    const scaleOut = m ? m.queues.filter((q) => q.backlogAgeMs > deps.lagAlertMs).map((q) => q.queue) : [];
    return { ok: true, role: 'api', lagThresholdSec: deps.lagAlertMs / 1000, lag, scaleOut };
  });

  app.get('/readyz', probe, async (_req, reply) => {
    const [database, temporal] = await Promise.all([
      check(() => deps.pool.query('SELECT 1').then(() => undefined)),
      check(() =>
        withTemporalDeadline(deps.client, () => deps.client.workflowService.getSystemInfo({}), temporalDeadlineIn(2_000)).then(
          () => undefined,
        ),
      ),
    ]);
    const ready = database.ok && temporal.ok;
    return reply.status(ready ? 200 : 503).send({ ready, role: 'api', checks: { database, temporal } });
  });
});

/** Readiness probes answer within ~2 s whatever the dependency does. */
export async function check(fn: () => Promise<void>, timeoutMs = 2_500): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message.split('\n')[0] };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One identity per request: the key auth verified (its hook runs before this one), else the
 * address. Never a header the caller chooses freely: a random header per request would be a
 * fresh bucket per request. Failed authentications are limited by auth itself.
 */
function clientKey(req: FastifyRequest): string {
  return req.apiKey && req.apiKey.id !== 'auth-disabled' ? `key:${req.apiKey.id}` : `ip:${req.ip}`;
}
