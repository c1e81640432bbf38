-- Up Migration
-- Issue 30: the full-text half of hybrid search over a video's own words (title, tags, summary);
-- its transcript is searched through transcript_segments.tsv (1764840000000_transcripts.sql).

-- The title as the analyzer saw it (src/workflows/decisions.ts titleOf): the source's last path
-- segment without its extension, punctuation made spaces so "garden_party.mp4" yields two words
-- (the parser would otherwise keep "party.mp4" as one file-name token).
CREATE FUNCTION video_search_title(source jsonb) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT regexp_replace(
    regexp_replace(
      regexp_replace(
        regexp_replace(coalesce(source->>'path', source->>'key', split_part(source->>'url', '?', 1), ''), '/+$', ''),
        '^.*/', ''),
      '\.[A-Za-z0-9]{1,5}$', ''),
    '[^[:alnum:]]+', ' ', 'g')
$$;

-- Title and tags weigh most (A), the summary less (B). IMMUTABLE so it can feed a stored
-- generated column: array_to_string is only STABLE in general, but on text[] its output never
-- depends on settings.
CREATE FUNCTION video_search_document(cfg regconfig, source jsonb, summary text, tags text[]) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector(cfg, video_search_title(source)), 'A')
      || setweight(to_tsvector(cfg, array_to_string(tags, ' ')), 'A')
      || setweight(to_tsvector(cfg, coalesce(summary, '')), 'B')
$$;

-- The language of the row's words. English: both analyzers write the summary and tags in
-- answer to an English prompt (the offline one by construction), whatever language is spoken;
-- the spoken language is the transcript's, per segment (transcript_segments.ts_config).
-- Adding the stored column rewrites `videos` once, under an exclusive lock (6 s for 100 000 rows
-- on the busy 2-core development machine); a summary a re-analysis changes updates it by itself.
ALTER TABLE videos ADD COLUMN text_config regconfig NOT NULL DEFAULT 'english';
ALTER TABLE videos ADD COLUMN text_tsv tsvector
  GENERATED ALWAYS AS (video_search_document(text_config, source, summary, tags)) STORED;
CREATE INDEX videos_text_tsv_idx ON videos USING gin (text_tsv);

-- Down Migration
DROP INDEX videos_text_tsv_idx;
ALTER TABLE videos DROP COLUMN text_tsv;
ALTER TABLE videos DROP COLUMN text_config;
DROP FUNCTION video_search_document(regconfig, jsonb, text, text[]);
DROP FUNCTION video_search_title(jsonb);
