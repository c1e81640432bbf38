import { createHash } from 'node:crypto';
import type { Pool } from 'pg';

/**
 * Provider responses by input hash, in the main PostgreSQL: a retried activity (the worker
 * died after the provider answered, before Temporal heard of it) or a re-run workflow reads
 * the paid answer back instead of calling again. Keys hash everything that shapes the answer:
 * the input digests, the model and the prompt version.
 */
export interface CachedResponse<T> {
  value: T;
  inputTokens: number;
  outputTokens: number;
}

export interface ResponseCache {
  get<T>(key: string): Promise<CachedResponse<T> | undefined>;
  put<T>(key: string, kind: string, model: string, entry: CachedResponse<T>): Promise<void>;
}

export function cacheKey(parts: readonly (string | number)[]): string {
  return createHash('sha256').update(parts.map(String).join('\u0000')).digest('hex');
}

export class PgResponseCache implements ResponseCache {
  constructor(private readonly pool: Pool) {}

  async get<T>(key: string): Promise<CachedResponse<T> | undefined> {
    const { rows } = await this.pool.query<{ response: T; input_tokens: number; output_tokens: number }>(
      'SELECT response, input_tokens, output_tokens FROM ai_response_cache WHERE key = $1',
      [key],
    );
    const row = rows[0];
    return row ? { value: row.response, inputTokens: row.input_tokens, outputTokens: row.output_tokens } : undefined;
  }

  async put<T>(key: string, kind: string, model: string, entry: CachedResponse<T>): Promise<void> {
    await this.pool.query(
      `INSERT INTO ai_response_cache (key, kind, model, response, input_tokens, output_tokens)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING`,
      [key, kind, model, JSON.stringify(entry.value), entry.inputTokens, entry.outputTokens],
    );
  }
}

/** For unit tests and the keyless default: same contract, process memory. */
export class MemoryResponseCache implements ResponseCache {
  private readonly map = new Map<string, CachedResponse<unknown>>();
  async get<T>(key: string): Promise<CachedResponse<T> | undefined> {
    return this.map.get(key) as CachedResponse<T> | undefined;
  }
  async put<T>(key: string, _kind: string, _model: string, entry: CachedResponse<T>): Promise<void> {
    if (!this.map.has(key)) this.map.set(key, entry);
  }
}
