#!/usr/bin/env bash
# Sourced by scripts/demo.sh and scripts/test.sh (the README's two commands); also runnable
# alone (`npm run setup`). Installs what the project needs or says exactly what is missing:
# Node >= 20.3, npm dependencies, ffmpeg/ffprobe, the Temporal CLI. Exports TEMPORAL_CLI.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { echo "[setup] $*" >&2; }
die() { echo "[setup] ERROR: $*" >&2; exit 1; }

ensure_node() {
  command -v node >/dev/null 2>&1 || die "Node.js is not installed. Install Node 20.3+ (22 or 24 LTS recommended)."
  local major minor
  IFS=. read -r major minor _ <<<"$(node -p 'process.versions.node')"
  if (( major < 20 || (major == 20 && minor < 3) )); then
    die "Node $(node -v) is too old: @temporalio/* 1.24 needs Node >= 20.3 (22 or 24 LTS recommended)."
  fi
}

ensure_npm_deps() {
  # Reinstall when the lock file changed since the last install (npm writes node_modules/.package-lock.json).
  if [ ! -f "$ROOT/node_modules/.package-lock.json" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    say "installing npm dependencies (npm ci)…"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error) >&2 || die "npm ci failed (see above)."
  fi
}

# Debian packages are installed only as root on a machine with apt (BIBLIO_NO_APT=1 opts out).
can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ -z "${BIBLIO_NO_APT:-}" ]; }
apt_install() {
  say "installing $* with apt-get…"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"; } >&2
}

ensure_ffmpeg() {
  if command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; then return; fi
  if can_apt; then
    apt_install ffmpeg || die "apt-get install ffmpeg failed (see above)."
    return
  fi
  die "ffmpeg/ffprobe not found on PATH. Install them (Debian/Ubuntu: sudo apt-get install ffmpeg; macOS: brew install ffmpeg) or set FFMPEG_PATH and FFPROBE_PATH."
}

# Only the tests need a browser (the Web UI check); a machine without one skips that test and says so.
ensure_chromium() {
  if command -v chromium >/dev/null 2>&1 || [ -n "${CHROMIUM_PATH:-}" ]; then return; fi
  if can_apt; then
    apt_install chromium || say "could not install chromium: the Web UI browser test will be skipped."
    return
  fi
  say "no chromium found: the Web UI browser test will be skipped (install chromium or set CHROMIUM_PATH)."
}

# The transcript test speaks with espeak-ng and hears with a real local speech model
# (PocketSphinx and its US English model, all Debian packages); without them it is skipped and says so.
ensure_speech() {
  if command -v espeak-ng >/dev/null 2>&1 && command -v pocketsphinx_continuous >/dev/null 2>&1; then return; fi
  if can_apt; then
    apt_install espeak-ng pocketsphinx pocketsphinx-en-us || say "could not install espeak-ng/pocketsphinx: the transcript test will be skipped."
    return
  fi
  say "no espeak-ng/pocketsphinx: the transcript test will be skipped (apt-get install espeak-ng pocketsphinx pocketsphinx-en-us)."
}

# The compose file is validated by a real Compose implementation in npm test (test/integration/compose.test.ts).
ensure_docker_compose() {
  if command -v docker-compose >/dev/null 2>&1; then return; fi
  if can_apt; then
    apt_install docker-compose || say "could not install docker-compose: the compose test checks the YAML structure only."
    return
  fi
  say "no docker-compose found: the compose test checks the YAML structure only (apt-get install docker-compose)."
}

ensure_temporal_cli() {
  local cli
  cli="$(bash "$ROOT/scripts/ensure-temporal-cli.sh")" || die "no Temporal CLI (see above)."
  export TEMPORAL_CLI="$cli"
}

# The S3 adapter's tests run against a real MinIO (called by test.sh, not the demo: a cold build takes ~4 min);
# without one they skip and say so.
ensure_minio() {
  local bin
  if bin="$(bash "$ROOT/scripts/ensure-minio.sh")"; then export MINIO_BIN="$bin"; else say "no MinIO: the S3 storage tests will be skipped."; fi
}

# The Helm chart's test (test/integration/helm-chart.test.ts) renders and lints deploy/helm/biblio with
# Helm v4 (called by test.sh, not the demo: a cold build takes minutes); without it that test fails.
ensure_helm() {
  local bin
  if bin="$(bash "$ROOT/scripts/ensure-helm.sh")"; then export HELM_BIN="$bin"; else say "no Helm: test/integration/helm-chart.test.ts will fail (see above)."; fi
}

ensure_node
ensure_npm_deps
if [ -n "${FFMPEG_PATH:-}" ] && [ -n "${FFPROBE_PATH:-}" ]; then :; else ensure_ffmpeg; fi
# .ci/run builds the Temporal CLI in the background meanwhile and comes back for it (BIBLIO_SETUP_LATER_TEMPORAL=1).
if [ -n "${BIBLIO_SETUP_LATER_TEMPORAL:-}" ]; then
  say "ready: node $(node -v), $(ffmpeg -version 2>/dev/null | head -n1 | cut -d' ' -f1-3); the Temporal CLI comes later"
else
  ensure_temporal_cli
  say "ready: node $(node -v), $(ffmpeg -version 2>/dev/null | head -n1 | cut -d' ' -f1-3), Temporal CLI $TEMPORAL_CLI"
fi
