-- Up Migration
-- Worker liveness: a faster detector of a dead media worker than the heartbeat timeout.
-- Each media worker process holds a lease, renewed about once a second and always stamped with
-- the database's clock (now()), never the worker's; each media activity attempt it runs is
-- listed with its lease and its Temporal identifiers. A watchdog (src/workers/liveness.ts)
-- claims the attempts of an expired lease (DELETE … RETURNING: one process gets each) and fails
-- them by task token, so Temporal retries them at once instead of waiting out the timeout, on
-- the rescue queue, so the retry does not wait behind queued work.
CREATE TABLE worker_leases (
  id uuid PRIMARY KEY,
  identity text NOT NULL,
  acquired_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX worker_leases_expires_at ON worker_leases (expires_at);

CREATE TABLE leased_attempts (
  -- The attempt's own token: failing by it can only ever fail this attempt, never its retry.
  task_token bytea PRIMARY KEY,
  lease_id uuid NOT NULL REFERENCES worker_leases (id) ON DELETE CASCADE,
  workflow_id text NOT NULL,
  run_id text NOT NULL,
  activity_id text NOT NULL,
  activity_type text NOT NULL,
  attempt integer NOT NULL,
  -- Where the watchdog moves the retry: a queue every media worker polls with a spare slot.
  rescue_queue text,
  started_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX leased_attempts_lease_id ON leased_attempts (lease_id);

-- Down Migration
DROP TABLE leased_attempts;
DROP TABLE worker_leases;
