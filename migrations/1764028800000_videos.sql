-- Up Migration
-- One row per upload. Inserted by the API *before* the workflow starts: the unique id is the
-- lasting guard against a second run (Temporal forgets workflow ids after retention).
CREATE TABLE videos (
  id                text PRIMARY KEY,
  source            jsonb NOT NULL,
  workflow_id       text NOT NULL UNIQUE,
  status            text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'ready', 'failed')),
  rendition_path    text,
  thumbnail_path    text,
  duration_sec      double precision,
  width             integer,
  height            integer,
  summary           text,
  tags              text[] NOT NULL DEFAULT '{}',
  analyzer          text,
  model             text,
  dim               integer,
  offline_analysis  boolean,
  vector_collection text,
  error_type        text,
  error_message     text,
  failed_step       text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX videos_status_idx ON videos (status, updated_at DESC);

-- Down Migration
DROP TABLE videos;
