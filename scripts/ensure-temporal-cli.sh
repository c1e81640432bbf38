#!/usr/bin/env bash
# Resolves a Temporal CLI (dev server + Web UI) and prints its absolute path on stdout.
# Order: $TEMPORAL_CLI → `temporal` on PATH → cached build → build from the Go module proxy.
# The SDK's own download cannot work on machines without general internet, so we build
# the official CLI with `go install` and cache it outside the clone (it is 250 MB).
set -euo pipefail

CLI_VERSION="v1.5.1"          # newer tags carry a go.mod `replace` and refuse `go install`
EXPECTED_SERVER="Server 1.29" # the CLI reports 0.0.0-DEV; the embedded server version is what matters
CACHE_DIR="${BIBLIO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/biblio}/temporal-cli-${CLI_VERSION}"
CACHED_BIN="$CACHE_DIR/temporal"

log() { echo "[temporal-cli] $*" >&2; }

usable() { # $1 = candidate binary
  [ -x "$1" ] && "$1" --version 2>/dev/null | grep -q "Server 1\."
}

if [ -n "${TEMPORAL_CLI:-}" ]; then
  if usable "$TEMPORAL_CLI"; then echo "$TEMPORAL_CLI"; exit 0; fi
  log "TEMPORAL_CLI=$TEMPORAL_CLI is not an executable Temporal CLI (\`$TEMPORAL_CLI --version\` must print a Server version)."
  exit 1
fi

if on_path=$(command -v temporal 2>/dev/null) && usable "$on_path"; then
  echo "$on_path"; exit 0
fi

if usable "$CACHED_BIN"; then echo "$CACHED_BIN"; exit 0; fi

# Go's official installer puts it in /usr/local/go without touching PATH.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; fi
if ! command -v go >/dev/null 2>&1; then
  log "No Temporal CLI found and Go is not installed to build one."
  log "Fix: install Go >= 1.25 (https://go.dev/dl) and re-run, or install the Temporal CLI and set TEMPORAL_CLI=/path/to/temporal."
  exit 1
fi

mkdir -p "$CACHE_DIR"
# One build at a time: a second caller waits for the first and then reuses its binary.
exec 9>"$CACHE_DIR/.lock"
flock 9
if usable "$CACHED_BIN"; then echo "$CACHED_BIN"; exit 0; fi

log "building github.com/temporalio/cli@${CLI_VERSION} with $(go version | awk '{print $3}') (first run only, ~3 min)…"
tmp_bin=$(mktemp -d "$CACHE_DIR/.build.XXXXXX")
trap 'rm -rf "$tmp_bin"' EXIT
started=$(date +%s)
if ! GOBIN="$tmp_bin" GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@${CLI_VERSION}" >&2; then
  log "go install failed (see above). Set TEMPORAL_CLI=/path/to/temporal to use an existing CLI."
  exit 1
fi
if ! "$tmp_bin/temporal" --version | grep -q "$EXPECTED_SERVER"; then
  log "built binary reports '$("$tmp_bin/temporal" --version)', expected '$EXPECTED_SERVER'."
  exit 1
fi
mv "$tmp_bin/temporal" "$CACHED_BIN"
log "built in $(( $(date +%s) - started )) s → $CACHED_BIN ($("$CACHED_BIN" --version))"
echo "$CACHED_BIN"
