#!/usr/bin/env bash
# README command 1: a sample video through the whole pipeline on embedded defaults.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
npm run --silent build >&2
exec node dist/demo/main.js "$@"
