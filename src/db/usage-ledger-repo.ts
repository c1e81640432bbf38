import type { Pool, PoolClient } from 'pg';

type Queryable = Pool | PoolClient;

/** Step charges (one per video and step): `ai_tokens` is the whole-analysis row of before paid requests were charged one by one, kept for old data. */
export type UsageKind = 'ai_tokens' | 'encoded_seconds';
/** What one paid AI request was. */
export type AiCallKind = 'chat' | 'embedding' | 'transcription';

export interface UsageCharge {
  videoId: string;
  step: string;
  kind: UsageKind;
  quantity: number;
  details?: Record<string, unknown>;
}

/** One paid provider request, recorded when its answer arrived (before it was parsed). */
export interface AiCallCharge {
  videoId: string;
  step: string;
  kind: AiCallKind;
  model: string;
  /** The provider's request id (x-request-id): the row's unique key, so re-recording charges once. */
  requestId: string;
  inputTokens: number;
  outputTokens: number;
  /** Estimated image tokens, already counted in inputTokens. */
  imageTokens: number;
  audioSeconds: number;
  details?: Record<string, unknown>;
}

export interface UsageRow extends Required<UsageCharge> {
  chargedAt: Date;
}

/** Ledger sums for one (video, UTC day, kind, model): what the cost report prices. */
export interface UsageGroup {
  videoId: string;
  day: string;
  kind: string;
  model: string | null;
  calls: number;
  quantity: number;
  inputTokens: number;
  outputTokens: number;
  imageTokens: number;
  audioSeconds: number;
}

/**
 * The usage ledger. Step charges are exactly-once by (video, step, kind); paid AI requests by
 * the provider's request id (one row per request, however often it is recorded).
 */
export class UsageLedgerRepo {
  constructor(private readonly pool: Pool) {}

  /** True when this call recorded the charge, false when it was already there. */
  async charge(db: Queryable, c: UsageCharge): Promise<boolean> {
    const res = await db.query(
      `INSERT INTO usage_ledger (video_id, step, kind, quantity, details) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (video_id, step, kind) WHERE request_id IS NULL DO NOTHING`,
      [c.videoId, c.step, c.kind, c.quantity, JSON.stringify(c.details ?? {})],
    );
    return res.rowCount === 1;
  }

  /** True when this call recorded the request, false when its request id was already there. */
  async chargeCall(db: Queryable, c: AiCallCharge): Promise<boolean> {
    // Billed units: audio seconds for transcription (whisper bills by length), tokens otherwise.
    const quantity = c.kind === 'transcription' && c.audioSeconds > 0 ? c.audioSeconds : c.inputTokens + c.outputTokens;
    const res = await db.query(
      `INSERT INTO usage_ledger
         (video_id, step, kind, quantity, details, model, request_id, input_tokens, output_tokens, image_tokens, audio_seconds)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (request_id) WHERE request_id IS NOT NULL DO NOTHING`,
      [
        c.videoId,
        c.step,
        c.kind,
        quantity,
        JSON.stringify(c.details ?? {}),
        c.model,
        c.requestId,
        c.inputTokens,
        c.outputTokens,
        c.imageTokens,
        c.audioSeconds,
      ],
    );
    return res.rowCount === 1;
  }

  async forVideo(videoId: string): Promise<UsageRow[]> {
    const { rows } = await this.pool.query<UsageRow>(
      `SELECT video_id AS "videoId", step, kind, quantity, details, charged_at AS "chargedAt"
       FROM usage_ledger WHERE video_id = $1 ORDER BY step, kind, charged_at`,
      [videoId],
    );
    return rows;
  }

  /** Sums per (video, UTC day, kind, model) of the rows charged in [from, to). */
  async groups(from: Date, to: Date): Promise<UsageGroup[]> {
    const { rows } = await this.pool.query<UsageGroup>(
      `SELECT video_id AS "videoId",
              to_char(charged_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
              kind,
              model,
              count(*)::int AS calls,
              sum(quantity)::float8 AS quantity,
              sum(input_tokens)::float8 AS "inputTokens",
              sum(output_tokens)::float8 AS "outputTokens",
              sum(image_tokens)::float8 AS "imageTokens",
              sum(audio_seconds)::float8 AS "audioSeconds"
       FROM usage_ledger
       WHERE charged_at >= $1 AND charged_at < $2
       GROUP BY 1, 2, 3, 4
       ORDER BY 2, 1, 3, 4`,
      [from, to],
    );
    return rows;
  }
}
