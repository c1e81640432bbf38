import type { Pool } from 'pg';
import type { Config } from '../../config';
import { BreakerAnalyzer } from './breaker-analyzer';
import { OfflineAnalyzer } from './offline-analyzer';
import { OpenAiAnalyzer } from './openai-analyzer';
import type { Analyzer } from './port';
import { createRateLimitGate, type RateLimitGate } from './rate-limit-gate';
import { PgResponseCache } from './response-cache';

export type { Analyzer } from './port';

/** OpenAI (or a compatible endpoint) when configured; otherwise the offline analyzer, which says it is not AI. */
export function createAnalyzer(config: Pick<Config, 'openai'>): Analyzer {
  return config.openai ? new OpenAiAnalyzer(config.openai) : new OfflineAnalyzer();
}

/**
 * The AI worker's analyzer: OpenAI behind the shared rate limit, the response cache and the
 * circuit breaker. The offline analyzer needs none of them.
 */
export function createResilientAnalyzer(
  config: Pick<Config, 'openai' | 'ai'>,
  pool: Pool,
): { analyzer: Analyzer; close: () => Promise<void> } {
  if (!config.openai) return { analyzer: new OfflineAnalyzer(), close: async () => undefined };
  const ai = config.ai;
  const gate: RateLimitGate = createRateLimitGate(
    {
      requestsPerWindow: ai.requestsPerWindow,
      tokensPerWindow: ai.tokensPerWindow,
      windowMs: ai.windowMs,
      maxWaitMs: ai.limiterMaxWaitMs,
      key: quotaKey(config.openai.baseURL, config.openai.apiKey),
    },
    { redisUrl: ai.redisUrl, pool },
  );
  // One analyzer per worker process: it remembers which optional routes the provider lacks.
  const inner = new OpenAiAnalyzer(config.openai, {
    transcribeModel: ai.transcribeModel,
    transcribeTimeoutMs: ai.transcribeTimeoutMs,
    transcribe: ai.transcribe,
    maxOutputTokens: ai.maxOutputTokens,
    gate,
    cache: new PgResponseCache(pool),
  });
  const analyzer = new BreakerAnalyzer(inner, { failures: ai.breakerFailures, halfOpenAfterMs: ai.breakerHalfOpenMs });
  return { analyzer, close: () => gate.close() };
}

/** One quota per endpoint and key; the key itself never reaches the store (only a short hash). */
function quotaKey(baseURL: string | undefined, apiKey: string | undefined): string {
  let h = 0x811c9dc5;
  for (const c of `${baseURL ?? 'openai'}|${apiKey ?? ''}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
  return `${new URL(baseURL ?? 'https://api.openai.com').host}:${(h >>> 0).toString(16)}`;
}
