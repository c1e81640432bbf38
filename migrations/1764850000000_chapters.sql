-- Up Migration
-- Issue 30: the video's chapters as people get them (start seconds snapped to scene cuts and
-- bounded by the duration, first at 0: src/media/chapters.ts), `[{"startSec": 0, "title": "…"}, …]`.
-- Written by the index saga with the row; read by the status document and GET /videos/:id/chapters.vtt.
-- NULL: no chapters (the offline analyzer, a stand-in, or rows of before the column). Goes with the row.
ALTER TABLE videos ADD COLUMN chapters jsonb;

-- Down Migration
ALTER TABLE videos DROP COLUMN chapters;
