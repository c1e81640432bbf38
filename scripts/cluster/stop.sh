#!/usr/bin/env bash
# Stops what scripts/cluster/start.sh started, by the pids it saved. Data stays in PostgreSQL.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${CLUSTER_DIR:-$ROOT/.biblio/cluster}"
for svc in ui frontend worker matching history; do
  f="$DIR/$svc.pid"
  [ -f "$f" ] || continue
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
    echo "[cluster] stopped $svc (pid $pid)" >&2
  fi
  rm -f "$f"
done
