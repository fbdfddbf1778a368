# Sourced by the PostgreSQL benchmarks (export.sh, match.sh) after they set PORT and PG_PORT:
# checks for root, builds the release binary, starts a throwaway cluster (ADMIN is its URL),
# and on exit stops the server (SERVER), the cluster and removes WORK.
[ "$(id -u)" = 0 ] || { echo "needs root to start PostgreSQL (.ci/start-postgres)" >&2; exit 1; }
WORK="$(mktemp -d /tmp/zhicheng-bench.XXXXXX)"
chmod 755 "$WORK"
BIN=target/release/zhicheng
cargo build --release --locked --quiet
ADMIN="$(ZHICHENG_TEST_PG_PORT=$PG_PORT bash .ci/start-postgres)"
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; bash .ci/stop-postgres "$PG_PORT" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
now() { date +%s.%N; }

# fresh_database NAME: an empty database on the cluster; prints its URL.
fresh_database() {
    psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >&2
    echo "${ADMIN%/*}/$1"
}

# serve_with_token URL: starts the server on URL (bulk quota off) in the background, sets SERVER,
# waits for it, and sets TOKEN to a fresh API key (reader) of hr-220000.
serve_with_token() {
    "$BIN" serve --bulk-requests-per-minute 0 --database-url "$1" --listen "127.0.0.1:$PORT" \
        --registry-key "$WORK/registry.key" --log-key "$WORK/log.key" 2>"$WORK/server.log" &
    SERVER=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
    TOKEN=$("$BIN" token create --authority hr-220000 --role reader --database-url "$1" 2>/dev/null)
}
