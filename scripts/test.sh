#!/usr/bin/env bash
# README command 2 (`npm test`): installs what is missing, typechecks, builds the worker entry
# points the integration tests spawn, then runs every test layer (in band: 2 cores, real Temporal
# + ffmpeg) in two jest runs: the tests that need MinIO or Helm last, while those build.
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
    ensure_docker_compose
    if [ $# -eq 0 ]; then
      # MinIO and Helm are Go builds of several minutes each on a cold machine: they build in the
      # background at the lowest CPU priority while the tests that do not need them run.
      go_tools_log="$(mktemp)"
      (nice -n 19 bash "$ROOT/scripts/ensure-minio.sh" && nice -n 19 bash "$ROOT/scripts/ensure-helm.sh") >/dev/null 2>"$go_tools_log" &
      go_tools_pid=$!
    else
      ensure_minio
      ensure_helm
    fi
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
later_results="$(mktemp)"
trap 'rm -f "$results" "$later_results"' EXIT
status=0
if [ -n "${go_tools_pid:-}" ]; then
  # Two runs: first every test file that needs neither MinIO nor Helm, then (the builds done) the rest.
  later="$(grep -rlE "from '\.\./support/(minio|helm)'" test --include='*.test.ts' | sort)"
  first="$(npx jest --listTests | sed "s|^$ROOT/||" | grep -vxF "$later" | sort)"
  # shellcheck disable=SC2086 # one path per word
  npx jest --runInBand --json --outputFile="$results" $first || status=$?
  if ! wait "$go_tools_pid"; then cat "$go_tools_log" >&2; fi
  MINIO_BIN="$(bash "$ROOT/scripts/ensure-minio.sh" 2>/dev/null)" && export MINIO_BIN || echo "[test] no MinIO: the S3 tests will say so" >&2
  HELM_BIN="$(bash "$ROOT/scripts/ensure-helm.sh" 2>/dev/null)" && export HELM_BIN || echo "[test] no Helm: the chart test will fail" >&2
  # shellcheck disable=SC2086
  npx jest --runInBand --json --outputFile="$later_results" $later || status=$?
else
  npx jest --runInBand --json --outputFile="$results" "$@" || status=$?
fi
# One plain closing line that any CI can read: "jest: N passed, N failed, N skipped".
node "$ROOT/scripts/jest-summary.js" "$results" "$later_results" || echo "jest: no results (unreadable)"
exit "$status"
