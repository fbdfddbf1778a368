#!/usr/bin/env bash
# Transparency-log benchmark, on SQLite and (as root) PostgreSQL:
#  1. leaves appended per second: LEAVES events published through `zhicheng import` in files of
#     CHUNK lines (each line is one event, hence one leaf, hashed and tiled in the same
#     transaction), beside the baseline of the same run: the bare database inserting the same
#     committee rows with no checks, no events and no log;
#  2. inclusion-proof latency once the log holds LEAVES leaves: wrk over loopback on
#     GET /api/v1/log/proof/inclusion at random indexes, beside the same server answering
#     GET /api/v1/log/key (a static text: the stack's ceiling without the database).
# Appends a dated section to bench/RESULTS.md.
#
# usage: bash bench/log.sh [LEAVES] [CHUNK] [SECONDS]     (defaults 1000000, 100000, 10)
set -euo pipefail
cd "$(dirname "$0")/.."
LEAVES="${1:-1000000}"
CHUNK="${2:-100000}"
SECONDS_RUN="${3:-10}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
WORK="$(mktemp -d /tmp/zhicheng-bench.XXXXXX)"
chmod 755 "$WORK"
BIN=target/release/zhicheng
PORT=18282
cargo build --release --locked --quiet

now() { date +%s.%N; }
for ((first = 0; first * 2 < LEAVES; first += CHUNK / 2)); do
    python3 bench/gen_import.py "$CHUNK" "$WORK/import-$first.ndjson" "$WORK/baseline-$first.csv" "$first"
done
cat "$WORK"/baseline-*.csv > "$WORK/baseline.csv"

# Publishes every file into DATABASE_URL; prints leaves per second.
append_rate() {
    local url="$1" t0 t1
    "$BIN" demo --registry-key "$WORK/registry.key" --database-url "$url" --certificates 1000 --examples "$WORK/examples" 2>/dev/null
    t0=$(now)
    for f in $(ls "$WORK"/import-*.ndjson | sort -t- -k2 -n); do
        "$BIN" import "$f" --authority hr-220000 --database-url "$url" >/dev/null 2>&1
    done
    t1=$(now)
    python3 -c "print(round($LEAVES / ($t1 - $t0)))"
}

# Starts a server on DATABASE_URL, loads it with wrk; prints "rps p50 p99 rps_key p50_key p99_key rss".
proof_latency() {
    local url="$1"
    "$BIN" serve --database-url "$url" --listen "127.0.0.1:$PORT" --registry-key "$WORK/registry.key" --log-key "$WORK/log.key" 2>"$WORK/server.log" &
    local server=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/log/checkpoint" >/dev/null && break; sleep 0.2; done
    local size
    size=$(curl -sf "http://127.0.0.1:$PORT/log/checkpoint" | sed -n 2p)
    cat > "$WORK/proof.lua" <<LUA
math.randomseed(42)
request = function()
  return wrk.format("GET", "/api/v1/log/proof/inclusion?index=" .. math.random(0, $size - 1) .. "&size=$size")
end
LUA
    curl -sf "http://127.0.0.1:$PORT/api/v1/log/proof/inclusion?index=$((size / 2))&size=$size" >/dev/null
    wrk -t2 -c16 -d"${SECONDS_RUN}s" --latency -s "$WORK/proof.lua" "http://127.0.0.1:$PORT" > "$WORK/proof.txt"
    wrk -t2 -c16 -d"${SECONDS_RUN}s" --latency "http://127.0.0.1:$PORT/api/v1/log/key" > "$WORK/key.txt"
    local rss
    rss=$(awk '/VmHWM/ {printf "%.0f MB", $2 / 1024}' "/proc/$server/status")
    kill "$server"; wait "$server" 2>/dev/null || true
    for f in proof key; do
        if grep -qE "Non-2xx|Socket errors" "$WORK/$f.txt"; then echo "wrk errors in $f:" >&2; cat "$WORK/$f.txt" >&2; fi
        printf '%s %s %s ' "$(awk '/Requests\/sec/ {print $2}' "$WORK/$f.txt")" "$(awk '$1 == "50%" {print $2}' "$WORK/$f.txt")" "$(awk '$1 == "99%" {print $2}' "$WORK/$f.txt")"
    done
    echo "${rss// /_} $size"
}

# --- SQLite
SQLITE="sqlite://$WORK/bench.db"
sqlite_rate=$(append_rate "$SQLITE")
sqlite_base=$(python3 bench/sqlite_baseline.py "$WORK")
read -r s_rps s_p50 s_p99 s_krps s_kp50 s_kp99 s_rss s_size <<<"$(proof_latency "$SQLITE")"
sqlite_db_mb=$(du -m "$WORK/bench.db" | cut -f1)

# --- PostgreSQL
pg_rate="n/a"; pg_base="n/a"; p_rps="n/a"; p_p50="n/a"; p_p99="n/a"; p_krps="n/a"; p_kp50="n/a"; p_kp99="n/a"; p_rss="n/a"; p_size="n/a"
if [ "$(id -u)" = 0 ]; then
    ADMIN="$(ZHICHENG_TEST_PG_PORT=55438 bash .ci/start-postgres)"
    BASE="${ADMIN%/postgres}"
    psql -q "$ADMIN" -c "CREATE DATABASE bench" -c "CREATE DATABASE baseline"
    pg_rate=$(append_rate "$BASE/bench")
    psql -q "$BASE/baseline" -c "CREATE TABLE committees (id TEXT PRIMARY KEY, name TEXT, kind TEXT, unit_name TEXT, unit_credit_code TEXT, authority_id TEXT, region TEXT)"
    rows=$(wc -l < "$WORK/baseline.csv")
    t0=$(now); psql -q "$BASE/baseline" -c "\\copy committees FROM '$WORK/baseline.csv' WITH (FORMAT csv)"; t1=$(now)
    pg_base=$(python3 -c "print(round($rows / ($t1 - $t0)))")
    read -r p_rps p_p50 p_p99 p_krps p_kp50 p_kp99 p_rss p_size <<<"$(proof_latency "$BASE/bench")"
    bash .ci/stop-postgres 55438
fi

ratio() { python3 -c "import sys; a, b = sys.argv[1:]; print('n/a' if 'n/a' in (a, b) else f'{float(a) / float(b):.2f}×')" "$1" "$2"; }
{
    echo
    echo "## Transparency log — $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -m); command: \`bash bench/log.sh $LEAVES $CHUNK $SECONDS_RUN\`."
    echo "Appending: $LEAVES events (create_committee + grant_authorization) published by \`zhicheng import\` in files of $CHUNK lines, each file one transaction that also writes every event's leaf, its tiles and the entity links. Baseline, same run: the bare database inserting the $((LEAVES / 2)) committee rows alone (no checks, events, history or log): SQLite executemany, PostgreSQL COPY."
    echo "Proofs: the server (release) with the log at the size shown, wrk 2 threads, 16 connections, ${SECONDS_RUN} s, random indexes; baseline, same server and run: GET /api/v1/log/key (static text, no database)."
    echo
    echo "| database | leaves appended/s | baseline raw insert, rows/s | ratio | log size | inclusion proofs/s | p50 / p99 | baseline /api/v1/log/key req/s, p50 / p99 | ratio | server peak RSS |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    echo "| SQLite | $sqlite_rate | $sqlite_base | $(ratio "$sqlite_rate" "$sqlite_base") | $s_size | $s_rps | $s_p50 / $s_p99 | $s_krps, $s_kp50 / $s_kp99 | $(ratio "$s_rps" "$s_krps") | ${s_rss//_/ } |"
    echo "| PostgreSQL | $pg_rate | $pg_base | $(ratio "$pg_rate" "$pg_base") | $p_size | $p_rps | $p_p50 / $p_p99 | $p_krps, $p_kp50 / $p_kp99 | $(ratio "$p_rps" "$p_krps") | ${p_rss//_/ } |"
    echo
    echo "SQLite database file at that size: ${sqlite_db_mb} MB."
} | tee -a bench/RESULTS.md
rm -rf "$WORK"
