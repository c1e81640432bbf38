-- Up Migration
-- Issue 17: the index saga, idempotent steps, the usage ledger and deletion.

-- A row is searchable only once both stores hold the video (the saga's last step sets it);
-- rows made ready before this migration were written after their vector point.
ALTER TABLE videos ADD COLUMN searchable_at timestamptz;
ALTER TABLE videos ADD COLUMN embedding_path text;
-- Tombstone: set when DELETE /videos/:id starts; search and GET never show the row again.
ALTER TABLE videos ADD COLUMN deleted_at timestamptz;
UPDATE videos SET searchable_at = updated_at WHERE status = 'ready';
CREATE INDEX videos_searchable_idx ON videos (searchable_at) WHERE searchable_at IS NOT NULL AND deleted_at IS NULL;

-- What a finished step produced, keyed by a hash of its input: a redelivered activity returns
-- this instead of doing the work again.
CREATE TABLE step_results (
  video_id    text NOT NULL,
  step        text NOT NULL,
  input_hash  text NOT NULL,
  output      jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (video_id, step, input_hash)
);

-- Every charge exactly once, however often the activity that records it runs.
CREATE TABLE usage_ledger (
  video_id    text NOT NULL,
  step        text NOT NULL,
  kind        text NOT NULL,
  quantity    double precision NOT NULL,
  details     jsonb NOT NULL DEFAULT '{}',
  charged_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT usage_ledger_once UNIQUE (video_id, step, kind)
);

-- Down Migration
DROP TABLE usage_ledger;
DROP TABLE step_results;
DROP INDEX videos_searchable_idx;
ALTER TABLE videos DROP COLUMN deleted_at;
ALTER TABLE videos DROP COLUMN embedding_path;
ALTER TABLE videos DROP COLUMN searchable_at;
