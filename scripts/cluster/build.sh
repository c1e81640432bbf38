#!/usr/bin/env bash
# Builds (once, cached outside the clone) the pieces of a production-shaped Temporal cluster:
# the server (go.temporal.io/server cmd/server), its SQL schema tool (cmd/tools/sql) and the
# standalone Web UI (temporalio/ui-server). Prints the cache directory on stdout.
# Pinned: newer server tags need a Go toolchain newer than the one this machine pins.
set -euo pipefail

SERVER_VERSION="v1.30.4"
UI_VERSION="v2.42.1"
CACHE_DIR="${BIBLIO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/biblio}/temporal-cluster-${SERVER_VERSION}"

log() { echo "[cluster-build] $*" >&2; }

built() { [ -x "$CACHE_DIR/temporal-server" ] && [ -x "$CACHE_DIR/temporal-sql-tool" ] && [ -x "$CACHE_DIR/temporal-ui-server" ]; }

if built; then echo "$CACHE_DIR"; exit 0; fi
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; fi
if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed: install Go >= 1.25 (https://go.dev/dl) to build the Temporal server."
  exit 1
fi

mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.lock"
flock 9
if built; then echo "$CACHE_DIR"; exit 0; fi

tmp=$(mktemp -d "$CACHE_DIR/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
started=$(date +%s)
log "building go.temporal.io/server@${SERVER_VERSION} (server + sql tool) and ui-server@${UI_VERSION} (first run only, ~2-3 min)…"
mkdir -p "$tmp/server" "$tmp/ui"
GOBIN="$tmp/server" GOFLAGS=-mod=mod go install \
  "go.temporal.io/server/cmd/server@${SERVER_VERSION}" "go.temporal.io/server/cmd/tools/sql@${SERVER_VERSION}" >&2
GOBIN="$tmp/ui" GOFLAGS=-mod=mod go install "github.com/temporalio/ui-server/v2/cmd/server@${UI_VERSION}" >&2
mv "$tmp/server/sql" "$CACHE_DIR/temporal-sql-tool"
mv "$tmp/ui/server" "$CACHE_DIR/temporal-ui-server"
mv "$tmp/server/server" "$CACHE_DIR/temporal-server"
log "built in $(( $(date +%s) - started )) s → $CACHE_DIR"
echo "$CACHE_DIR"
