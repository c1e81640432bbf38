#!/usr/bin/env bash
# `npm run test:cluster`: the integration smoke subset (the pipeline suite: every queue, the
# API, failures, outage answers) plus the history kill -9 chaos test, against a local Temporal
# cluster on PostgreSQL (scripts/cluster/start.sh) instead of the dev server. Outside `npm test`:
# the first run builds the server (~2–30 min depending on load) and the chaos test takes minutes.
# KEEP_CLUSTER=1 leaves the cluster running afterwards.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CLUSTER_DIR="${CLUSTER_DIR:-$ROOT/.biblio/cluster}"
eval "$(bash scripts/cluster/start.sh)"
export TEMPORAL_TARGET=cluster
[ "${KEEP_CLUSTER:-}" = 1 ] || trap 'bash scripts/cluster/stop.sh' EXIT
npm run --silent build
npx jest --runInBand test/integration/pipeline.test.ts test/cluster "$@"
