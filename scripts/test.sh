#!/usr/bin/env bash
# README command 2: installs what is missing, typechecks, builds the worker entry points the
# integration tests spawn, then runs every test (in band: 2 cores, real Temporal + ffmpeg).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
npm run --silent typecheck
npm run --silent build
exec npx jest --runInBand "$@"
