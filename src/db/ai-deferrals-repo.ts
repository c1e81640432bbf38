import type { Pool } from 'pg';

/**
 * Why a video's analysis was last deferred. The workflow only carries AiDeferred's own type to
 * the stand-in analysis, so the analyze activity writes the real cause here and the stand-in
 * reads it to say it (billing, rate limit, outage, unsupported, unusable answers).
 */
export interface DeferralCauses {
  record(videoId: string, cause: string, message: string): Promise<void>;
  causeOf(videoId: string): Promise<string | undefined>;
}

export class AiDeferralsRepo implements DeferralCauses {
  constructor(private readonly pool: Pool) {}

  async record(videoId: string, cause: string, message: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO ai_deferrals (video_id, cause, message) VALUES ($1, $2, $3)
       ON CONFLICT (video_id) DO UPDATE SET cause = EXCLUDED.cause, message = EXCLUDED.message, deferred_at = now()`,
      [videoId, cause, message.slice(0, 500)],
    );
  }

  async causeOf(videoId: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ cause: string }>('SELECT cause FROM ai_deferrals WHERE video_id = $1', [videoId]);
    return rows[0]?.cause;
  }
}
