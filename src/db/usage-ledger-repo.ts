import type { Pool, PoolClient } from 'pg';

type Queryable = Pool | PoolClient;

export type UsageKind = 'ai_tokens' | 'encoded_seconds';

export interface UsageCharge {
  videoId: string;
  step: string;
  kind: UsageKind;
  quantity: number;
  details?: Record<string, unknown>;
}

export interface UsageRow extends Required<UsageCharge> {
  chargedAt: Date;
}

/** The ledger's unique (video, step, kind) key makes every charge exactly-once. */
export class UsageLedgerRepo {
  constructor(private readonly pool: Pool) {}

  /** True when this call recorded the charge, false when it was already there. */
  async charge(db: Queryable, c: UsageCharge): Promise<boolean> {
    const res = await db.query(
      `INSERT INTO usage_ledger (video_id, step, kind, quantity, details) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT ON CONSTRAINT usage_ledger_once DO NOTHING`,
      [c.videoId, c.step, c.kind, c.quantity, JSON.stringify(c.details ?? {})],
    );
    return res.rowCount === 1;
  }

  async forVideo(videoId: string): Promise<UsageRow[]> {
    const { rows } = await this.pool.query<UsageRow>(
      `SELECT video_id AS "videoId", step, kind, quantity, details, charged_at AS "chargedAt"
       FROM usage_ledger WHERE video_id = $1 ORDER BY step, kind`,
      [videoId],
    );
    return rows;
  }
}
