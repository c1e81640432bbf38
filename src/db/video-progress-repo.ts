import type { Pool } from 'pg';
import type { PipelineState } from '../workflows/contracts';

/** What the workers last wrote about a video's run (migrations/1764845000000_video-progress.sql). */
export interface VideoProgress {
  videoId: string;
  runId: string;
  /** The workflow's state as its worker published it after its last change; null before the first. */
  state: PipelineState | null;
  stateAt: Date | null;
  /** The activity of the run a worker runs (or ran) last, its attempt and latest progress. */
  activity: string | null;
  attempt: number | null;
  phase: string | null;
  percent: number | null;
  activityAt: Date | null;
}

const COLUMNS = `video_id AS "videoId", run_id AS "runId", state, state_at AS "stateAt", activity, attempt, phase,
  percent, activity_at AS "activityAt"`;

/**
 * The change feed of running uploads. Writes never create a row for a video that is not there (a
 * deleted video stays deleted), and a write of another run replaces the older run's facts.
 */
export class VideoProgressRepo {
  constructor(private readonly pool: Pool) {}

  async get(videoId: string): Promise<VideoProgress | undefined> {
    const { rows } = await this.pool.query<VideoProgress>(`SELECT ${COLUMNS} FROM video_progress WHERE video_id = $1`, [videoId]);
    return rows[0];
  }

  /** The workflow's state after a change (pipeline worker). */
  async publishState(videoId: string, runId: string, state: PipelineState): Promise<void> {
    await this.pool.query(
      `INSERT INTO video_progress (video_id, run_id, state, state_at)
       SELECT id, $2, $3, now() FROM videos WHERE id = $1
       ON CONFLICT (video_id) DO UPDATE SET run_id = EXCLUDED.run_id, state = EXCLUDED.state, state_at = EXCLUDED.state_at,
         activity = CASE WHEN video_progress.run_id = EXCLUDED.run_id THEN video_progress.activity END,
         attempt = CASE WHEN video_progress.run_id = EXCLUDED.run_id THEN video_progress.attempt END,
         phase = CASE WHEN video_progress.run_id = EXCLUDED.run_id THEN video_progress.phase END,
         percent = CASE WHEN video_progress.run_id = EXCLUDED.run_id THEN video_progress.percent END,
         activity_at = CASE WHEN video_progress.run_id = EXCLUDED.run_id THEN video_progress.activity_at END`,
      [videoId, runId, JSON.stringify(state)],
    );
  }

  /** An activity attempt started, or reports progress (activity workers). */
  async publishActivity(
    videoId: string,
    runId: string,
    activity: { name: string; attempt: number; phase?: string; percent?: number },
  ): Promise<void> {
    await this.pool.query(
      `INSERT INTO video_progress (video_id, run_id, activity, attempt, phase, percent, activity_at)
       SELECT id, $2, $3, $4, $5, $6, now() FROM videos WHERE id = $1
       ON CONFLICT (video_id) DO UPDATE SET run_id = EXCLUDED.run_id, activity = EXCLUDED.activity, attempt = EXCLUDED.attempt,
         phase = EXCLUDED.phase, percent = EXCLUDED.percent, activity_at = EXCLUDED.activity_at,
         state = CASE WHEN video_progress.run_id = EXCLUDED.run_id THEN video_progress.state END,
         state_at = CASE WHEN video_progress.run_id = EXCLUDED.run_id THEN video_progress.state_at END`,
      [videoId, runId, activity.name, activity.attempt, activity.phase ?? null, activity.percent ?? null],
    );
  }
}
