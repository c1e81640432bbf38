-- Up Migration
-- Issue 25: re-analysis on demand. The row says whether its analysis is the real one or a
-- stand-in ('delayed': the provider was unavailable; 'failed': it refused), so
-- GET /videos?status=delayed finds videos to re-analyse after their run has ended; and it keeps
-- the media step's output (paths + probed facts, a few hundred bytes) so a re-analysis needs
-- neither the ended run's history (gone after the namespace retention) nor a new transcode.
ALTER TABLE videos ADD COLUMN analysis_state text CHECK (analysis_state IN ('complete', 'delayed', 'failed'));
ALTER TABLE videos ADD COLUMN media jsonb;
-- Rows indexed before this migration: the stand-in analysis said so in its tags.
UPDATE videos SET analysis_state = CASE
    WHEN 'analysis-delayed' = ANY(tags) THEN 'delayed'
    WHEN 'analysis-refused' = ANY(tags) THEN 'failed'
    ELSE 'complete' END
  WHERE analyzer IS NOT NULL;
CREATE INDEX videos_analysis_delayed_idx ON videos (created_at DESC, id DESC)
  WHERE analysis_state = 'delayed' AND deleted_at IS NULL;

-- Down Migration
DROP INDEX videos_analysis_delayed_idx;
ALTER TABLE videos DROP COLUMN media;
ALTER TABLE videos DROP COLUMN analysis_state;
