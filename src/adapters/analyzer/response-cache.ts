import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { UsageLedgerRepo, type AiCallCharge } from '../../db/usage-ledger-repo';

/**
 * Provider answers by input hash, in the main PostgreSQL: a retried activity (the worker died
 * after the provider answered, before Temporal heard of it), a re-analysis timer or a re-run
 * workflow reads the paid answer back instead of calling again. Keys hash everything that
 * shapes the answer: the input digests, the model and the prompt version.
 *
 * A paid answer is stored raw, before it is parsed, in the same transaction as its ledger row:
 * an answer that turns out unusable is still paid for, charged once, and never
 * bought again by accident.
 */
export interface CachedResponse<T> {
  value: T;
  inputTokens: number;
  outputTokens: number;
}

export interface ResponseCache {
  get<T>(key: string): Promise<CachedResponse<T> | undefined>;
  /** Stores the answer and, when given, its ledger row: both or neither. */
  put<T>(key: string, kind: string, model: string, entry: CachedResponse<T>, charge?: AiCallCharge): Promise<void>;
}

export function cacheKey(parts: readonly (string | number)[]): string {
  return createHash('sha256').update(parts.map(String).join('\u0000')).digest('hex');
}

export class PgResponseCache implements ResponseCache {
  constructor(
    private readonly pool: Pool,
    private readonly ledger = new UsageLedgerRepo(pool),
  ) {}

  async get<T>(key: string): Promise<CachedResponse<T> | undefined> {
    const { rows } = await this.pool.query<{ response: T; input_tokens: number; output_tokens: number }>(
      'SELECT response, input_tokens, output_tokens FROM ai_response_cache WHERE key = $1',
      [key],
    );
    const row = rows[0];
    return row ? { value: row.response, inputTokens: row.input_tokens, outputTokens: row.output_tokens } : undefined;
  }

  async put<T>(key: string, kind: string, model: string, entry: CachedResponse<T>, charge?: AiCallCharge): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO ai_response_cache (key, kind, model, response, input_tokens, output_tokens)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING`,
        [key, kind, model, JSON.stringify(entry.value), entry.inputTokens, entry.outputTokens],
      );
      if (charge) await this.ledger.chargeCall(client, charge);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}

/** For unit tests and the keyless default: same contract, process memory (charges kept in `charges`). */
export class MemoryResponseCache implements ResponseCache {
  private readonly map = new Map<string, CachedResponse<unknown>>();
  readonly charges: AiCallCharge[] = [];
  async get<T>(key: string): Promise<CachedResponse<T> | undefined> {
    return this.map.get(key) as CachedResponse<T> | undefined;
  }
  async put<T>(key: string, _kind: string, _model: string, entry: CachedResponse<T>, charge?: AiCallCharge): Promise<void> {
    if (!this.map.has(key)) this.map.set(key, entry);
    if (charge && !this.charges.some((c) => c.requestId === charge.requestId)) this.charges.push(charge);
  }
}
