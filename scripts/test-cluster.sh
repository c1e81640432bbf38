#!/usr/bin/env bash
# `npm run test:cluster`: the integration smoke subset (the pipeline suite: every queue, the
# API, failures, outage answers), the multi-host topology (workers on separate network-namespace
# hosts sharing only Temporal, PostgreSQL and S3; root only, it says when it skips) plus the
# history kill -9 chaos test, against a local Temporal
# cluster on PostgreSQL (scripts/cluster/start.sh) instead of the dev server. Outside `npm test`:
# the first run builds the server (~2–30 min depending on load) and the chaos test takes minutes.
# KEEP_CLUSTER=1 leaves the cluster running afterwards.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CLUSTER_DIR="${CLUSTER_DIR:-$ROOT/.biblio/cluster}"
# The suite uses fixed video ids: start from empty Temporal databases, or a second run attaches to
# the first run's workflows. CLUSTER_KEEP_DATA=1 keeps them.
if [ "${CLUSTER_KEEP_DATA:-}" != 1 ]; then
  bash scripts/cluster/stop.sh >/dev/null 2>&1 || true
  db="${CLUSTER_DB:-biblio_temporal}"
  node -e '
    const { Client } = require("pg");
    const c = new Client({ host: process.env.PGHOST || "127.0.0.1", port: +(process.env.PGPORT || 5432),
      user: process.env.PGUSER || "postgres", password: process.env.PGPASSWORD || undefined, database: "postgres" });
    (async () => { await c.connect();
      for (const d of [process.argv[1], process.argv[1] + "_visibility"]) await c.query(`DROP DATABASE IF EXISTS "${d}" WITH (FORCE)`);
      await c.end(); })().catch((e) => { console.error("[test:cluster] could not reset the cluster databases:", e.message); process.exit(1); });
  ' "$db"
fi
eval "$(bash scripts/cluster/start.sh)"
export TEMPORAL_TARGET=cluster
[ "${KEEP_CLUSTER:-}" = 1 ] || trap 'bash scripts/cluster/stop.sh' EXIT
npm run --silent build
npx jest --runInBand test/integration/pipeline.test.ts test/integration/multi-host.test.ts test/cluster "$@"
