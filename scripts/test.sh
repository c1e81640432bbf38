#!/usr/bin/env bash
# README command 2 (`npm test`): installs what is missing, typechecks, builds the worker entry
# points the integration tests spawn, then runs every test layer in one jest run (in band: 2 cores,
# real Temporal + ffmpeg).
# `scripts/test.sh --layer <name> [jest args]` runs one layer with only what it needs
# (`npm run test:workflow`, `test:integration`, `test:e2e`; `npm run test:unit` is plain jest):
#   workflow     the Temporal CLI; no apt, no build (workflow code is bundled from src/)
#   integration  set-up (ffmpeg, Temporal CLI), Chromium, MinIO, Helm, docker-compose, the build
#   e2e          set-up, Chromium, the build
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

layer=""
if [ "${1:-}" = --layer ]; then
  layer="${2:?--layer needs a name: workflow, integration or e2e}"
  shift 2
fi

case "$layer" in
  "")
    source "$ROOT/scripts/setup.sh"
    ensure_chromium
    ensure_speech
    ensure_minio
    ensure_helm
    ensure_docker_compose
    npm run --silent typecheck
    npm run --silent build
    ;;
  workflow)
    TEMPORAL_CLI="$(bash "$ROOT/scripts/ensure-temporal-cli.sh")" || { echo "[test] no Temporal CLI (see above)." >&2; exit 1; }
    export TEMPORAL_CLI
    ;;
  integration)
    source "$ROOT/scripts/setup.sh"
    ensure_chromium
    ensure_minio
    ensure_helm
    ensure_docker_compose
    npm run --silent build
    ;;
  e2e)
    source "$ROOT/scripts/setup.sh"
    ensure_chromium
    ensure_speech
    npm run --silent build
    ;;
  *)
    echo "[test] unknown layer '$layer': workflow, integration or e2e (npm run test:unit for unit)" >&2
    exit 2
    ;;
esac
[ -z "$layer" ] || export TEST_LAYER="$layer"

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
status=0
npx jest --runInBand --json --outputFile="$results" "$@" || status=$?
# One plain closing line that any CI can read: "jest: N passed, N failed, N skipped".
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$results" 2>/dev/null || echo "jest: no results (it crashed before reporting)"
exit "$status"
