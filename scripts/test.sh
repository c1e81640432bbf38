#!/usr/bin/env bash
# README command 2: installs what is missing, typechecks, builds the worker entry points the
# integration tests spawn, then runs every test (in band: 2 cores, real Temporal + ffmpeg).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
ensure_chromium
ensure_minio
ensure_docker_compose
cd "$ROOT"
npm run --silent typecheck
npm run --silent build
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
