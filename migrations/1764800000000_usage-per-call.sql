-- Up Migration
-- Issue 25: the usage ledger tells the truth per call. One row per paid AI request, written by
-- the AI activity at the moment of payment (before the answer is parsed), keyed by the
-- provider's request id so a re-recorded answer is charged once. For AI rows `kind` is the call
-- kind (chat, embedding, transcription) and `quantity` its billed units (tokens, or audio seconds
-- for transcription). Step charges without a request id (transcode's encoded_seconds) keep
-- their exactly-once key (video, step, kind).
ALTER TABLE usage_ledger ADD COLUMN model text;
ALTER TABLE usage_ledger ADD COLUMN request_id text;
ALTER TABLE usage_ledger ADD COLUMN input_tokens integer NOT NULL DEFAULT 0;
ALTER TABLE usage_ledger ADD COLUMN output_tokens integer NOT NULL DEFAULT 0;
-- Part of input_tokens (an estimate: providers do not report image tokens apart), not on top of it.
ALTER TABLE usage_ledger ADD COLUMN image_tokens integer NOT NULL DEFAULT 0;
ALTER TABLE usage_ledger ADD COLUMN audio_seconds double precision NOT NULL DEFAULT 0;

ALTER TABLE usage_ledger DROP CONSTRAINT usage_ledger_once;
CREATE UNIQUE INDEX usage_ledger_step_once ON usage_ledger (video_id, step, kind) WHERE request_id IS NULL;
CREATE UNIQUE INDEX usage_ledger_request_once ON usage_ledger (request_id) WHERE request_id IS NOT NULL;
-- The cost report reads by time range.
CREATE INDEX usage_ledger_charged_at_idx ON usage_ledger (charged_at);

-- Why a video's analysis was last deferred (AiDeferred carries only its own type through the
-- workflow): the stand-in summary names the real cause (billing, rate limit, outage, unsupported).
CREATE TABLE ai_deferrals (
  video_id    text PRIMARY KEY,
  cause       text NOT NULL,
  message     text NOT NULL DEFAULT '',
  deferred_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE ai_deferrals;
DROP INDEX usage_ledger_charged_at_idx;
DROP INDEX usage_ledger_request_once;
DROP INDEX usage_ledger_step_once;
DELETE FROM usage_ledger WHERE request_id IS NOT NULL;
ALTER TABLE usage_ledger ADD CONSTRAINT usage_ledger_once UNIQUE (video_id, step, kind);
ALTER TABLE usage_ledger DROP COLUMN audio_seconds;
ALTER TABLE usage_ledger DROP COLUMN image_tokens;
ALTER TABLE usage_ledger DROP COLUMN output_tokens;
ALTER TABLE usage_ledger DROP COLUMN input_tokens;
ALTER TABLE usage_ledger DROP COLUMN request_id;
ALTER TABLE usage_ledger DROP COLUMN model;
