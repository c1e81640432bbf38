-- Up Migration
-- GET /videos lists newest first with keyset pagination on (created_at, id).
CREATE INDEX IF NOT EXISTS videos_created_idx ON videos (created_at DESC, id DESC);

-- Down Migration
DROP INDEX IF EXISTS videos_created_idx;
