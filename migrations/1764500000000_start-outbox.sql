-- Up Migration
-- Outbox for workflow starts (issue 19). The row is inserted before the start; when the start
-- cannot happen (Temporal down → 503, API crash) the row stays `start_state = 'pending'` and the
-- API's sweeper starts it once Temporal is back. Exactly once: the workflow id is unique per
-- video (REJECT_DUPLICATE / USE_EXISTING) and sweepers claim rows with FOR UPDATE SKIP LOCKED.
ALTER TABLE videos ADD COLUMN start_state text NOT NULL DEFAULT 'pending'
  CHECK (start_state IN ('pending', 'started'));
ALTER TABLE videos ADD COLUMN started_at timestamptz;
ALTER TABLE videos ADD COLUMN start_attempts integer NOT NULL DEFAULT 0;
-- A sweeper's short claim on a pending row, so replicas do not start the same row concurrently
-- (no row lock is held while Temporal is called).
ALTER TABLE videos ADD COLUMN start_lease_until timestamptz;
-- Rows that exist already were started by the API that inserted them (or finished).
UPDATE videos SET start_state = 'started', started_at = created_at WHERE status <> 'queued';
CREATE INDEX videos_pending_start_idx ON videos (created_at) WHERE start_state = 'pending';

-- Down Migration
DROP INDEX videos_pending_start_idx;
ALTER TABLE videos DROP COLUMN start_lease_until;
ALTER TABLE videos DROP COLUMN start_attempts;
ALTER TABLE videos DROP COLUMN started_at;
ALTER TABLE videos DROP COLUMN start_state;
