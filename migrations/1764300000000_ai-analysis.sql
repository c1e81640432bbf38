-- Up Migration
-- Issue 16. Provider responses by input hash (keyframe/audio digests + model + prompt version):
-- a retried or replayed analysis never pays twice for work already paid for.
CREATE TABLE ai_response_cache (
  key         text PRIMARY KEY,
  kind        text NOT NULL,
  model       text NOT NULL,
  response    jsonb NOT NULL,
  input_tokens  integer NOT NULL DEFAULT 0,
  output_tokens integer NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- The shared AI rate limit when no REDIS_URL is set (rate-limiter-flexible's RateLimiterPostgres
-- layout; created here so consume() works from the first call: tableCreated: true).
CREATE TABLE ai_rate_limits (
  key    varchar(255) PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);

-- Down Migration
DROP TABLE ai_rate_limits;
DROP TABLE ai_response_cache;
