#!/usr/bin/env bash
# Import-rate benchmark: `zhicheng import` of a LINES-line NDJSON file (committees and their
# grants) into the demo registry, on SQLite and on PostgreSQL, against a baseline measured in
# the same run: the raw database inserting the same committee rows with no validation, no
# events and no history (SQLite: one executemany transaction; PostgreSQL: COPY).
# Appends a dated section to bench/RESULTS.md.
#
# usage: bash bench/import.sh [LINES]        (default 100000; PostgreSQL needs root, see .ci/start-postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
LINES="${1:-100000}"
WORK="$(mktemp -d /tmp/zhicheng-bench.XXXXXX)"
chmod 755 "$WORK"
BIN=target/release/zhicheng

cargo build --release --locked --quiet
python3 bench/gen_import.py "$LINES" "$WORK/import.ndjson" "$WORK/baseline.csv"

now() { date +%s.%N; }
rate() { python3 -c "print(round($1 / ($3 - $2)))"; }

# --- SQLite
SQLITE="sqlite://$WORK/bench.db"
"$BIN" demo --registry-key "$WORK/registry.key" --database-url "$SQLITE" 2>/dev/null
t0=$(now); "$BIN" import "$WORK/import.ndjson" --authority hr-220000 --database-url "$SQLITE" 2>/dev/null; t1=$(now)
sqlite_rate=$(rate "$LINES" "$t0" "$t1")
sqlite_base=$(python3 bench/sqlite_baseline.py "$WORK")

# --- PostgreSQL
pg_rate="n/a"; pg_base="n/a"
if [ "$(id -u)" = 0 ]; then
    ADMIN="$(ZHICHENG_TEST_PG_PORT=55439 bash .ci/start-postgres)"
    BASE="${ADMIN%/postgres}"
    psql -q "$ADMIN" -c "CREATE DATABASE bench" -c "CREATE DATABASE baseline"
    "$BIN" demo --registry-key "$WORK/registry.key" --database-url "$BASE/bench" 2>/dev/null
    t0=$(now); "$BIN" import "$WORK/import.ndjson" --authority hr-220000 --database-url "$BASE/bench" 2>/dev/null; t1=$(now)
    pg_rate=$(rate "$LINES" "$t0" "$t1")
    psql -q "$BASE/baseline" -c "CREATE TABLE committees (id TEXT PRIMARY KEY, name TEXT, kind TEXT, unit_name TEXT, unit_credit_code TEXT, authority_id TEXT, region TEXT)"
    rows=$(wc -l < "$WORK/baseline.csv")
    t0=$(now); psql -q "$BASE/baseline" -c "\\copy committees FROM '$WORK/baseline.csv' WITH (FORMAT csv)"; t1=$(now)
    pg_base=$(rate "$rows" "$t0" "$t1")
    bash .ci/stop-postgres 55439
fi

ratio() { python3 -c "import sys; a, b = sys.argv[1:]; print('n/a' if 'n/a' in (a, b) else f'{float(a) / float(b):.2f}×')" "$1" "$2"; }
{
    echo
    echo "## Import rate — $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -m); command: \`bash bench/import.sh $LINES\`."
    echo "File: $LINES lines ($((LINES / 2)) create_committee + $((LINES / 2)) grant_authorization), applied as one all-or-nothing transaction by \`zhicheng import\` (release build), demo registry loaded first."
    echo "Baseline, same run: the bare database inserting the $((LINES / 2)) committee rows alone (no checks, no events, no authorizations): SQLite executemany in one transaction, PostgreSQL COPY."
    echo
    echo "| database | zhicheng import, lines/s | baseline raw insert, rows/s | ratio |"
    echo "|---|---|---|---|"
    echo "| SQLite | $sqlite_rate | $sqlite_base | $(ratio "$sqlite_rate" "$sqlite_base") |"
    echo "| PostgreSQL | $pg_rate | $pg_base | $(ratio "$pg_rate" "$pg_base") |"
} | tee -a bench/RESULTS.md
rm -rf "$WORK"
