-- Up Migration
-- Issue 30: the transcript of a video, one row per timed segment (times are seconds of the
-- video, already corrected for the audio chunk a segment was heard in). Written by the index
-- saga together with the video's row, read by GET /videos/:id/transcript, the captions and the
-- full-text half of hybrid search. `ts_config` is the text-search configuration of the detected
-- language ('simple' when PostgreSQL has none for it), so stemming follows the language.
CREATE TABLE transcript_segments (
  video_id  text NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
  seq       integer NOT NULL,
  start_sec double precision NOT NULL CHECK (start_sec >= 0),
  end_sec   double precision NOT NULL CHECK (end_sec >= start_sec),
  text      text NOT NULL,
  language  text,
  ts_config regconfig NOT NULL DEFAULT 'simple',
  tsv       tsvector GENERATED ALWAYS AS (to_tsvector(ts_config, text)) STORED,
  PRIMARY KEY (video_id, seq)
);
CREATE INDEX transcript_segments_tsv_idx ON transcript_segments USING gin (tsv);

-- Down Migration
DROP TABLE transcript_segments;
