-- Up Migration
-- API keys (issue 18). Only a SHA-256 of the key is stored: keys are 256-bit random tokens, so a
-- fast hash is enough (no password-style stretching needed) and a leaked table reveals no key.
CREATE TABLE api_keys (
  id          text PRIMARY KEY,
  name        text NOT NULL DEFAULT '',
  role        text NOT NULL CHECK (role IN ('viewer', 'uploader', 'operator')),
  key_hash    text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz,
  last_used_at timestamptz
);

-- Down Migration
DROP TABLE api_keys;
