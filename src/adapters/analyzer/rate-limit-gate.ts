import { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, type RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import { ErrorType, failure } from '../../errors';

/**
 * The one rate limit every AI worker process shares: requests AND tokens per provider window,
 * kept in a store they all reach (Redis when REDIS_URL is set, else the main PostgreSQL), with
 * rate-limiter-flexible's atomic fixed windows rather than a hand-rolled bucket.
 *
 * - Reserve, then settle: a call reserves one request and its token estimate (prompt + images +
 *   max output) before it is sent; the response's `usage` settles the difference.
 * - Adaptive: the provider's `x-ratelimit-remaining-*`/`x-ratelimit-reset-*` headers tighten our
 *   count (never loosen it: our count includes calls still in flight) and move our window's end
 *   to just after the provider's, so our window never reopens while the provider's is still full;
 *   a 429's Retry-After blocks the key for every worker at once.
 * - Bounded wait: a caller waits for the window at most `maxWaitMs`; past that it gets a typed
 *   retryable `AiRateLimited` whose next retry delay is when the window reopens.
 */
export interface RateLimitGateOptions {
  requestsPerWindow: number;
  tokensPerWindow: number;
  windowMs: number;
  maxWaitMs: number;
  /** Names the quota (provider + account): workers sharing it share the key. */
  key: string;
}

export interface Reservation {
  tokens: number;
}

export interface RateLimitGate {
  acquire(estimatedTokens: number, signal?: AbortSignal): Promise<Reservation>;
  settle(r: Reservation, actualTokens: number | undefined): Promise<void>;
  /** Feeds the provider's rate-limit headers (any response) and Retry-After (429s) back into the limiter. */
  observe(headers: Headers | undefined, status: number, retryAfterMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A margin after the provider's reset so a call admitted in our new window arrives in its new window too. */
const RESET_MARGIN_MS = 150;
/** How far our window's end may differ from the provider's before we re-align it. */
const ALIGN_TOLERANCE_MS = 250;

export function createRateLimitGate(opts: RateLimitGateOptions, store: { redisUrl?: string; pool?: Pool }): RateLimitGate {
  let redis: Redis | undefined;
  const durationSec = opts.windowMs / 1000;
  const make = (what: 'req' | 'tok', points: number): RateLimiterStoreAbstract => {
    if (store.redisUrl) {
      redis ??= new Redis(store.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
      return new RateLimiterRedis({ storeClient: redis, points, duration: durationSec, keyPrefix: `biblio-ai-${what}` });
    }
    if (!store.pool) throw new Error('the AI rate limit needs REDIS_URL or a PostgreSQL pool');
    // The table comes from migration 1764300000000 (tableCreated: consume() fails until it exists).
    return new RateLimiterPostgres({
      storeClient: store.pool,
      storeType: 'pool',
      tableName: 'ai_rate_limits',
      tableCreated: true,
      clearExpiredByTimeout: false,
      points,
      duration: durationSec,
      keyPrefix: `biblio-ai-${what}`,
    });
  };
  const req = make('req', opts.requestsPerWindow);
  const tok = make('tok', opts.tokensPerWindow);
  const key = opts.key;

  async function waitOrThrow(res: RateLimiterRes, deadline: number, signal: AbortSignal | undefined, what: string): Promise<void> {
    // A little jitter: waiters woken by the same window reset should not hit the store in lockstep.
    const wait = Math.max(1, res.msBeforeNext) + Math.floor(Math.random() * 100);
    if (Date.now() + wait > deadline) {
      throw failure(
        ErrorType.AiRateLimited,
        `AI ${what} quota is used up for this window; reopens in ${Math.ceil(res.msBeforeNext / 1000)} s`,
        {
          details: { limiter: what, msBeforeNext: res.msBeforeNext },
          nextRetryDelayMs: wait,
        },
      );
    }
    await sleep(wait, signal);
  }

  return {
    async acquire(estimatedTokens, signal) {
      const deadline = Date.now() + opts.maxWaitMs;
      const tokens = Math.min(Math.max(1, Math.ceil(estimatedTokens)), opts.tokensPerWindow);
      for (;;) {
        signal?.throwIfAborted();
        try {
          await req.consume(key, 1);
        } catch (err) {
          if (!(err instanceof RateLimiterRes)) throw storeFailure(err);
          await waitOrThrow(err, deadline, signal, 'request');
          continue;
        }
        try {
          await tok.consume(key, tokens);
          return { tokens };
        } catch (err) {
          // Hand the request point back: we are not sending.
          await req.reward(key, 1).catch(() => undefined);
          if (!(err instanceof RateLimiterRes)) throw storeFailure(err);
          await waitOrThrow(err, deadline, signal, 'token');
        }
      }
    },

    async settle(r, actualTokens) {
      if (actualTokens === undefined || !Number.isFinite(actualTokens)) return;
      const diff = Math.round(actualTokens - r.tokens);
      try {
        if (diff > 0) await tok.penalty(key, diff);
        else if (diff < 0) await tok.reward(key, -diff);
      } catch {
        // Settling is an optimisation of the estimate; the reservation already stands.
      }
    },

    async observe(headers, status, retryAfterMs) {
      try {
        if (status === 429 && retryAfterMs !== undefined && retryAfterMs > 0) {
          await req.block(key, retryAfterMs / 1000);
          return;
        }
        if (!headers) return;
        await align(req, key, opts.requestsPerWindow, headers, 'requests');
        await align(tok, key, opts.tokensPerWindow, headers, 'tokens');
      } catch {
        // Adapting is best effort; the static limits still hold.
      }
    },

    async close() {
      redis?.disconnect();
    },
  };
}

async function align(
  limiter: RateLimiterStoreAbstract,
  key: string,
  points: number,
  headers: Headers,
  kind: 'requests' | 'tokens',
): Promise<void> {
  const limit = Number(headers.get(`x-ratelimit-limit-${kind}`));
  const remaining = Number(headers.get(`x-ratelimit-remaining-${kind}`));
  const resetMs = parseResetDuration(headers.get(`x-ratelimit-reset-${kind}`));
  if (!Number.isFinite(remaining) || resetMs === undefined) return;
  // When the provider's limit is lower than ours, its "remaining" counts from its limit.
  const providerUsed = (Number.isFinite(limit) && limit > 0 ? Math.min(limit, points) : points) - Math.max(0, remaining);
  const ours = await limiter.get(key);
  const used = ours?.consumedPoints ?? 0;
  const ourEnd = ours?.msBeforeNext ?? 0;
  const target = Math.max(used, providerUsed);
  const providerEnd = resetMs + RESET_MARGIN_MS;
  // A response that describes an earlier provider window (it ends well before ours) says nothing
  // about the current one: acting on it would block a fresh window.
  if (providerEnd < ourEnd - ALIGN_TOLERANCE_MS) return;
  if (providerEnd > ourEnd + ALIGN_TOLERANCE_MS) await limiter.set(key, target, providerEnd / 1000);
  else if (target > used) await limiter.penalty(key, target - used);
}

/** OpenAI's reset durations: "59.99s", "1ms", "6m0s", "1h2m3.5s"; a bare number is seconds. */
export function parseResetDuration(v: string | null): number | undefined {
  if (!v) return undefined;
  const t = v.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let ms = 0;
  let matched = '';
  for (const m of t.matchAll(re)) {
    const n = Number(m[1]);
    ms += m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
    matched += m[0];
  }
  return matched.length === t.length && matched.length > 0 ? ms : undefined;
}

function storeFailure(err: unknown): Error {
  return failure(ErrorType.AiUnavailable, `the AI rate-limit store is unreachable: ${err instanceof Error ? err.message : String(err)}`);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
