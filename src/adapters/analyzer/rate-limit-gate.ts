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
 * - Adaptive: the provider's `x-ratelimit-remaining-*` headers tighten our count (atomic
 *   increments; never loosened: our count includes calls still in flight), a provider window that
 *   ends later than ours (a smaller real limit, a different window) moves ours to just after it,
 *   so ours never reopens while the provider's is still full; a 429's Retry-After blocks the key
 *   for every worker at once.
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

/**
 * Our window is this much longer than the provider's. Our window opens at our first reservation,
 * the provider's at that request's arrival (a few ms later), so ours closes after the provider's
 * as long as that delay is under the margin: a call admitted in our next window cannot land in
 * the provider's previous one. Costs margin/window of the quota (0.2 % of a minute); after the first answer of a window, ours is moved to end just after the provider's, whatever the delay.
 */
const RESET_MARGIN_MS = 100;
/** A provider window ending this much before ours describes an older window: ignored. */
const ALIGN_TOLERANCE_MS = 250;
/** Our window is moved later when the provider's (plus margin) ends this much after it. */
const EXTEND_THRESHOLD_MS = 20;
/** Moves a Redis key's expiry later, never earlier (PEXPIRE ... GT needs Redis 7; this works on 6). */
const EXTEND_LUA = `local t = redis.call('PTTL', KEYS[1]) if t >= 0 and t < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return t`;

export function createRateLimitGate(opts: RateLimitGateOptions, store: { redisUrl?: string; pool?: Pool }): RateLimitGate {
  let redis: Redis | undefined;
  // RateLimiterRedis floors every duration to whole seconds (EX), which would eat the margin and
  // end blocks early: with Redis, round durations up to whole seconds instead.
  const seconds = (ms: number): number => (store.redisUrl ? Math.ceil(ms / 1000) : ms / 1000);
  const durationSec = seconds(opts.windowMs + RESET_MARGIN_MS);
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
  // The limiter library has no "extend the window" call; these touch only its expiry field.
  const extendTo: ExtendTo = async (storeKey, until) => {
    if (redis) await redis.eval(EXTEND_LUA, 1, storeKey, String(Math.max(1, until - Date.now())));
    else await store.pool?.query('UPDATE ai_rate_limits SET expire = $2 WHERE key = $1 AND expire < $2', [storeKey, until]);
  };
  const req = make('req', opts.requestsPerWindow);
  const tok = make('tok', opts.tokensPerWindow);
  const key = opts.key;

  async function waitOrThrow(res: RateLimiterRes, deadline: number, signal: AbortSignal | undefined, what: string): Promise<void> {
    // A little jitter: waiters woken by the same window reset should not hit the store in lockstep.
    const wait = Math.max(1, res.msBeforeNext) + Math.floor(Math.random() * 50);
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
          await req.block(key, seconds(retryAfterMs));
          return;
        }
        if (!headers) return;
        await align(req, key, opts.requestsPerWindow, headers, 'requests', extendTo);
        await align(tok, key, opts.tokensPerWindow, headers, 'tokens', extendTo);
      } catch {
        // Adapting is best effort; the static limits still hold.
      }
    },

    async close() {
      redis?.disconnect();
    },
  };
}

type ExtendTo = (storeKey: string, untilEpochMs: number) => Promise<void>;

async function align(
  limiter: RateLimiterStoreAbstract,
  key: string,
  points: number,
  headers: Headers,
  kind: 'requests' | 'tokens',
  extendTo: ExtendTo,
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
  // Both adjustments are atomic and only ever tighten: an increment (never a read-modify-write
  // of the count, which would lose reservations made meanwhile by other workers) and an expiry
  // moved later, never earlier.
  if (target > used) await limiter.penalty(key, target - used);
  if (providerEnd > ourEnd + EXTEND_THRESHOLD_MS) await extendTo(limiter.getKey(key), Date.now() + providerEnd);
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
