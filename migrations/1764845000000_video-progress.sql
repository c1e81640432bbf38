-- Up Migration
-- Issue 29: the status read path that costs Temporal nothing per poll. What a watcher sees of a
-- running upload, as the workers write it: the workflow's own state (step, steps, segments),
-- published by the pipeline worker after each change (a workflow sink), and the running
-- activity with its attempt and latest progress, written by the activity's worker. GET
-- /videos/:id answers from it while it is fresh and asks Temporal otherwise (src/app/row-status.ts).
-- Each write notifies channel video_progress with the video id (the change feed of watchers).
CREATE TABLE video_progress (
  video_id text PRIMARY KEY REFERENCES videos (id) ON DELETE CASCADE,
  run_id text NOT NULL,
  state jsonb,
  state_at timestamptz,
  activity text,
  attempt integer,
  phase text,
  percent real,
  activity_at timestamptz
);

CREATE FUNCTION video_progress_notify() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('video_progress', NEW.video_id);
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER video_progress_notify AFTER INSERT OR UPDATE ON video_progress
  FOR EACH ROW EXECUTE FUNCTION video_progress_notify();

-- Down Migration
DROP TABLE video_progress;
DROP FUNCTION video_progress_notify();
