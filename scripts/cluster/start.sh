#!/usr/bin/env bash
# Starts a production-shaped Temporal cluster on this machine, without Docker:
#   PostgreSQL persistence (default + visibility databases, schemas applied by temporal-sql-tool),
#   frontend / history / matching / worker as four separate server processes, 4 history shards,
#   and the standalone Web UI. Prints `export TEMPORAL_ADDRESS=…` lines on stdout.
# Idempotent: a second run with the cluster up changes nothing. Stop with scripts/cluster/stop.sh.
#
# Settings (environment): CLUSTER_DIR (.biblio/cluster), CLUSTER_PORT_BASE (17000: frontend gRPC on
# BASE+233, UI on BASE+1233), CLUSTER_DB (biblio_temporal; visibility: <db>_visibility),
# CLUSTER_SHARDS (4; fixed once the database exists), PGHOST/PGPORT/PGUSER/PGPASSWORD.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${CLUSTER_DIR:-$ROOT/.biblio/cluster}"
BASE="${CLUSTER_PORT_BASE:-17000}"
DB="${CLUSTER_DB:-biblio_temporal}"
SHARDS="${CLUSTER_SHARDS:-4}"
PG_HOST="${PGHOST:-127.0.0.1}"; PG_PORT="${PGPORT:-5432}"; PG_USER="${PGUSER:-postgres}"; PG_PASSWORD="${PGPASSWORD:-}"
FRONTEND=$((BASE + 233)); HTTP=$((BASE + 243)); HISTORY=$((BASE + 234)); MATCHING=$((BASE + 235)); WORKER=$((BASE + 239))
UI_PORT=$((BASE + 1233))
log() { echo "[cluster] $*" >&2; }

BIN="$(bash "$ROOT/scripts/cluster/build.sh")"
CLI="$(bash "$ROOT/scripts/ensure-temporal-cli.sh")"
mkdir -p "$DIR/ui" "$DIR/dynamicconfig"

cat > "$DIR/dynamicconfig/dynamic.yaml" <<YAML
# Edit and wait 10 s: the server polls this file. Keys: docs.temporal.io/references/dynamic-configuration
matching.longPollExpirationInterval:
  - value: "${CLUSTER_LONG_POLL:-60s}"
YAML

cat > "$DIR/config.yaml" <<YAML
log:
  stdout: true
  level: ${CLUSTER_LOG_LEVEL:-warn}
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: ${SHARDS}
  datastores:
    default:
      sql: &sql
        pluginName: postgres12
        databaseName: ${DB}
        connectAddr: "${PG_HOST}:${PG_PORT}"
        connectProtocol: tcp
        user: "${PG_USER}"
        password: "${PG_PASSWORD}"
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: 1h
    visibility:
      sql:
        <<: *sql
        databaseName: ${DB}_visibility
        maxConns: 5
        maxIdleConns: 5
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
services:
  frontend:
    rpc: { grpcPort: ${FRONTEND}, membershipPort: $((FRONTEND + 700)), bindOnLocalHost: true, httpPort: ${HTTP} }
  history:
    rpc: { grpcPort: ${HISTORY}, membershipPort: $((HISTORY + 700)), bindOnLocalHost: true }
  matching:
    rpc: { grpcPort: ${MATCHING}, membershipPort: $((MATCHING + 700)), bindOnLocalHost: true }
  worker:
    rpc: { grpcPort: ${WORKER}, membershipPort: $((WORKER + 700)), bindOnLocalHost: true }
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "127.0.0.1:${FRONTEND}"
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: "${DIR}/dynamicconfig/dynamic.yaml"
  pollInterval: 10s
YAML

cat > "$DIR/ui/development.yaml" <<YAML
temporalGrpcAddress: 127.0.0.1:${FRONTEND}
host: 127.0.0.1
port: ${UI_PORT}
enableUi: true
defaultNamespace: default
cors:
  unsafeAllowAllOrigins: true
YAML

sqltool() { "$BIN/temporal-sql-tool" --plugin postgres12 --ep "$PG_HOST" -p "$PG_PORT" -u "$PG_USER" ${PG_PASSWORD:+--pw "$PG_PASSWORD"} "$@"; }
for db in "$DB" "${DB}_visibility"; do
  schema=temporal; [ "$db" = "${DB}_visibility" ] && schema=visibility
  if sqltool --db "$db" create >/dev/null 2>&1; then
    log "created database $db"
    sqltool --db "$db" setup-schema -v 0.0 >>"$DIR/schema.log" 2>&1
  fi
  sqltool --db "$db" update-schema --schema-name "postgresql/v12/$schema" >>"$DIR/schema.log" 2>&1 || { log "schema update of $db failed: see $DIR/schema.log"; exit 1; }
done

alive() { [ -f "$DIR/$1.pid" ] && kill -0 "$(cat "$DIR/$1.pid")" 2>/dev/null; }
start_service() { # $1 = frontend|history|matching|worker
  if alive "$1"; then return; fi
  setsid "$BIN/temporal-server" --config-file "$DIR/config.yaml" --allow-no-auth start --service "$1" \
    >>"$DIR/$1.log" 2>&1 < /dev/null &
  echo $! > "$DIR/$1.pid"
  log "started $1 (pid $!)"
}
for svc in history matching frontend worker; do start_service "$svc"; done

for _ in $(seq 1 120); do
  if "$CLI" operator cluster health --address "127.0.0.1:${FRONTEND}" 2>/dev/null | grep -q SERVING; then break; fi
  sleep 0.5
done
"$CLI" operator cluster health --address "127.0.0.1:${FRONTEND}" | grep -q SERVING || { log "frontend not serving; see $DIR/*.log"; exit 1; }
if ! "$CLI" operator namespace describe -n default --address "127.0.0.1:${FRONTEND}" >/dev/null 2>&1; then
  "$CLI" operator namespace create -n default --retention 72h --address "127.0.0.1:${FRONTEND}" >/dev/null
  log "created namespace default"
fi
# A new namespace takes a few seconds to reach every service's cache.
for _ in $(seq 1 60); do
  if "$CLI" workflow list -n default --address "127.0.0.1:${FRONTEND}" --limit 1 >/dev/null 2>&1; then break; fi
  sleep 0.5
done

if ! alive ui; then
  setsid "$BIN/temporal-ui-server" --root "$DIR" --config ui --env development start >>"$DIR/ui.log" 2>&1 < /dev/null &
  echo $! > "$DIR/ui.pid"
  log "started Web UI on http://127.0.0.1:${UI_PORT} (pid $!)"
fi
echo "export TEMPORAL_ADDRESS=127.0.0.1:${FRONTEND}"
echo "export TEMPORAL_NAMESPACE=default"
echo "export TEMPORAL_UI_URL=http://127.0.0.1:${UI_PORT}"
