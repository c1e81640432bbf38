-- Up Migration
-- The dead-letter queue: one row per video whose workflow failed for good. A replay that fails
-- again reopens the same row (failures + 1), so the list never shows one video twice.
CREATE TABLE dead_letters (
  id               bigserial PRIMARY KEY,
  video_id         text NOT NULL UNIQUE,
  workflow_id      text NOT NULL,
  run_id           text,
  step             text NOT NULL,
  error_type       text NOT NULL,
  message          text NOT NULL,
  -- Attempts of the failed step in the last failed run (null when Temporal could not tell us).
  attempts         integer,
  -- How many runs of this video ended here (1 + failed replays).
  failures         integer NOT NULL DEFAULT 1,
  input            jsonb,
  state            text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'replayed', 'discarded')),
  replayed_run_id  text,
  first_failed_at  timestamptz NOT NULL DEFAULT now(),
  last_failed_at   timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dead_letters_state_idx ON dead_letters (state, last_failed_at DESC);
CREATE INDEX dead_letters_type_idx ON dead_letters (error_type, last_failed_at DESC);

-- Down Migration
DROP TABLE dead_letters;
