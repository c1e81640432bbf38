#!/usr/bin/env bash
# Resolves a Helm v4 CLI (renders and lints deploy/helm/biblio in the unit tests) and prints its
# absolute path on stdout.
# Order: $HELM_BIN → `helm` v4 on PATH → cached build → build from the Go module proxy.
# Helm's own installer downloads from get.helm.sh, which machines with only package-registry
# access cannot reach, so we build the official CLI with `go install` and cache it outside the clone.
set -euo pipefail

HELM_VERSION="v4.3.2" # cold build 2026-12-06: 5 min 20 s CPU, 16 min 44 s wall on 2 cores shared with other builds
CACHE_DIR="${BIBLIO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/biblio}/helm-${HELM_VERSION}"
CACHED_BIN="$CACHE_DIR/helm"

log() { echo "[helm] $*" >&2; }

usable() { # $1 = candidate binary; the chart uses apiVersion v2 and is tested with Helm 4
  [ -x "$1" ] && "$1" version --short 2>/dev/null | grep -q '^v4\.'
}

if [ -n "${HELM_BIN:-}" ]; then
  if usable "$HELM_BIN"; then echo "$HELM_BIN"; exit 0; fi
  log "HELM_BIN=$HELM_BIN is not an executable Helm v4 (\`$HELM_BIN version --short\` must print v4.x)."
  exit 1
fi

if on_path=$(command -v helm 2>/dev/null) && usable "$on_path"; then
  echo "$on_path"; exit 0
fi

if usable "$CACHED_BIN"; then echo "$CACHED_BIN"; exit 0; fi

# Go's official installer puts it in /usr/local/go without touching PATH.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; fi
if ! command -v go >/dev/null 2>&1; then
  log "No Helm v4 found and Go is not installed to build one."
  log "Fix: install Go (https://go.dev/dl) and re-run, or install Helm v4 and set HELM_BIN=/path/to/helm."
  exit 1
fi

mkdir -p "$CACHE_DIR"
# One build at a time: a second caller waits for the first and then reuses its binary.
exec 9>"$CACHE_DIR/.lock"
flock 9
if usable "$CACHED_BIN"; then echo "$CACHED_BIN"; exit 0; fi

log "building helm.sh/helm/v4@${HELM_VERSION} with $(go version | awk '{print $3}') (first run only, ~5 min of CPU)…"
tmp_bin=$(mktemp -d "$CACHE_DIR/.build.XXXXXX")
trap 'rm -rf "$tmp_bin"' EXIT
started=$(date +%s)
if ! GOBIN="$tmp_bin" GOFLAGS=-mod=mod go install "helm.sh/helm/v4/cmd/helm@${HELM_VERSION}" >&2; then
  log "go install failed (see above). Set HELM_BIN=/path/to/helm to use an existing Helm v4."
  exit 1
fi
if ! usable "$tmp_bin/helm"; then
  log "built binary reports '$("$tmp_bin/helm" version --short 2>&1)', expected ${HELM_VERSION}."
  exit 1
fi
mv "$tmp_bin/helm" "$CACHED_BIN"
log "built in $(( $(date +%s) - started )) s → $CACHED_BIN ($("$CACHED_BIN" version --short))"
echo "$CACHED_BIN"
