-- Up Migration
-- Issue 26: dead letters kept the full source URL (user:password@, signed query strings) of a
-- failed run's input. New entries keep only the redacted URL and its sealed form; this redacts
-- what older entries hold (scheme://host/path, "?…" when there was a query) and any URL in a message.
UPDATE dead_letters
SET input = jsonb_set(
  input, '{source,url}',
  to_jsonb(
    regexp_replace(input #>> '{source,url}', '^([A-Za-z][A-Za-z0-9+.-]*://)(?:[^/?#@]*@)?([^/?#]*)([^?#]*).*$', '\1\2\3')
    || CASE WHEN input #>> '{source,url}' ~ '^[^#]*\?' THEN '?…' ELSE '' END
  )
)
WHERE input #>> '{source,kind}' = 'url' AND input #> '{source,sealed}' IS NULL;
UPDATE dead_letters
SET message = regexp_replace(message, '([A-Za-z][A-Za-z0-9+.-]*://)(?:[^/?#@\s]*@)?([^/?#\s]*)([^?#\s]*)\S*', '\1\2\3', 'g')
WHERE message ~ '://';

-- Down Migration
-- Nothing to restore: the secrets are gone on purpose.
