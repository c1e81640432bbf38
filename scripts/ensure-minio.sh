#!/usr/bin/env bash
# Resolves a MinIO server (real S3-compatible storage for the S3 adapter's tests and the
# STORAGE_BACKEND=s3 set-up) and prints its absolute path on stdout.
# Order: $MINIO_BIN → `minio` on PATH → cached build → build from the Go module proxy.
# MinIO (AGPLv3) runs as a separate server process; nothing of it is linked into Biblio.
set -euo pipefail

MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c" # what @latest resolved to; ~4 min cold, 150 MB
CACHE_DIR="${BIBLIO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/biblio}/minio-${MINIO_VERSION}"
CACHED_BIN="$CACHE_DIR/minio"

log() { echo "[minio] $*" >&2; }

usable() { # $1 = candidate binary
  [ -x "$1" ] && "$1" --version >/dev/null 2>&1
}

if [ -n "${MINIO_BIN:-}" ]; then
  if usable "$MINIO_BIN"; then echo "$MINIO_BIN"; exit 0; fi
  log "MINIO_BIN=$MINIO_BIN is not an executable MinIO server."
  exit 1
fi

if on_path=$(command -v minio 2>/dev/null) && usable "$on_path"; then
  echo "$on_path"; exit 0
fi

if usable "$CACHED_BIN"; then echo "$CACHED_BIN"; exit 0; fi

# Callers that must not wait minutes for a build (the CI soak, while the build runs in the background).
if [ -n "${BIBLIO_MINIO_NO_BUILD:-}" ]; then
  log "MinIO is not built yet and BIBLIO_MINIO_NO_BUILD is set: not building it now."
  exit 1
fi

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; fi
if ! command -v go >/dev/null 2>&1; then
  log "No MinIO found and Go is not installed to build one."
  log "Fix: install Go (https://go.dev/dl) and re-run, or install MinIO and set MINIO_BIN=/path/to/minio."
  exit 1
fi

mkdir -p "$CACHE_DIR"
# One build at a time: a second caller waits for the first and then reuses its binary.
exec 9>"$CACHE_DIR/.lock"
flock 9
if usable "$CACHED_BIN"; then echo "$CACHED_BIN"; exit 0; fi

log "building github.com/minio/minio@${MINIO_VERSION} with $(go version | awk '{print $3}') (first run only, ~4 min)…"
tmp_bin=$(mktemp -d "$CACHE_DIR/.build.XXXXXX")
trap 'rm -rf "$tmp_bin"' EXIT
started=$(date +%s)
if ! GOBIN="$tmp_bin" GOFLAGS=-mod=mod go install "github.com/minio/minio@${MINIO_VERSION}" >&2; then
  log "go install failed (see above). Set MINIO_BIN=/path/to/minio to use an existing server."
  exit 1
fi
if ! usable "$tmp_bin/minio"; then
  log "the built binary does not run: $tmp_bin/minio"
  exit 1
fi
mv "$tmp_bin/minio" "$CACHED_BIN"
log "built in $(( $(date +%s) - started )) s → $CACHED_BIN"
echo "$CACHED_BIN"
