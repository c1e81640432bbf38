-- Up Migration
-- Client uploads (issue 26). One row per POST /uploads: the object key is unguessable and unique
-- per upload (uploads/<videoId>/<random upload id>), the row binds it to the video id it will
-- become and to the API key that asked for it. Completion pins the object's ETag/version, which
-- the worker checks when it fetches. Multipart uploads keep their store-side id here, so a
-- client can resume after a dropped connection or an API restart.
CREATE TABLE uploads (
  id text PRIMARY KEY,
  video_id text NOT NULL,
  owner_key_id text NOT NULL,
  object_key text NOT NULL UNIQUE,
  content_type text NOT NULL,
  size_bytes bigint NOT NULL CHECK (size_bytes > 0),
  state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'completed', 'aborted')),
  multipart_id text,
  part_size bigint,
  etag text,
  version_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  completed_at timestamptz
);
-- At most one live upload per video id: a second caller cannot open another one for it.
CREATE UNIQUE INDEX uploads_live_video_idx ON uploads (video_id) WHERE state <> 'aborted';
-- The retention sweep finds abandoned uploads by age.
CREATE INDEX uploads_open_expiry_idx ON uploads (expires_at) WHERE state = 'open';

-- Down Migration
DROP TABLE uploads;
