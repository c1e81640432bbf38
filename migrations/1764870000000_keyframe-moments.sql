-- Up Migration
-- What a video shows, one row per keyframe the analyzer described (the answer's `shots`,
-- bounded in src/adapters/analyzer/shots.ts): `at_sec` is the keyframe's second of the video.
-- Written by the index saga together with the video's row (a re-analysis replaces them), searched
-- by the full-text half of hybrid search, whose moments then land on the shot. The descriptions
-- answer an English prompt, so `ts_config` is 'english' (a column, as for transcript segments,
-- so the search query stays one shape). Rows go with the video's row.
CREATE TABLE keyframe_moments (
  video_id    text NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
  seq         integer NOT NULL,
  at_sec      double precision NOT NULL CHECK (at_sec >= 0),
  description text NOT NULL,
  ts_config   regconfig NOT NULL DEFAULT 'english',
  tsv         tsvector GENERATED ALWAYS AS (to_tsvector(ts_config, description)) STORED,
  PRIMARY KEY (video_id, seq)
);
CREATE INDEX keyframe_moments_tsv_idx ON keyframe_moments USING gin (tsv);

-- Down Migration
DROP TABLE keyframe_moments;
