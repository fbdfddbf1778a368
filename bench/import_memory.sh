#!/usr/bin/env bash
# Peak server memory while one authority imports a LINES-line NDJSON file through the HTTP API
# (POST /api/v1/admin/import), on SQLite; and what other authorities see meanwhile: the latency
# of an authenticated read and the time a second write waits before its answer.
# Prints a Markdown section; append it to bench/RESULTS.md by hand or with `| tee -a`.
#
# usage: bash bench/import_memory.sh [LINES]     (default 400000: about 96 MB)
set -euo pipefail
cd "$(dirname "$0")/.."
LINES="${1:-400000}"
WORK="$(mktemp -d /tmp/zhicheng-bench.XXXXXX)"
BIN=target/release/zhicheng
PORT=18093
cargo build --release --locked --quiet
python3 bench/gen_import.py "$LINES" "$WORK/import.ndjson" "$WORK/baseline.csv"
DB="sqlite://$WORK/bench.db"
"$BIN" demo --registry-key "$WORK/registry.key" --database-url "$DB" --certificates 1000 --examples "$WORK/examples" 2>/dev/null
PUBLISHER=$("$BIN" token create --authority hr-220000 --role publisher --database-url "$DB" 2>/dev/null)
OTHER=$("$BIN" token create --authority hr-450000 --role publisher --database-url "$DB" 2>/dev/null)
"$BIN" serve --database-url "$DB" --listen "127.0.0.1:$PORT" --registry-key "$WORK/registry.key" --log-key "$WORK/log.key" 2>"$WORK/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
rss() { awk '/VmRSS/ {print $2}' "/proc/$SERVER/status"; }
before=$(rss)
peak=$before
( curl -s -o "$WORK/import.out" -w '%{http_code} %{time_total}\n' -X POST \
    -H "authorization: Bearer $PUBLISHER" -H 'content-type: application/x-ndjson' \
    --data-binary @"$WORK/import.ndjson" "http://127.0.0.1:$PORT/api/v1/admin/import" > "$WORK/import.status" ) &
IMPORT=$!
# During the import, every second: an authenticated read and a write by another authority.
n=0
: > "$WORK/reads"; : > "$WORK/writes"
while kill -0 "$IMPORT" 2>/dev/null; do
    now=$(rss); [ "$now" -gt "$peak" ] && peak=$now
    n=$((n + 1))
    if [ $((n % 10)) = 5 ]; then
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "authorization: Bearer $OTHER" \
            "http://127.0.0.1:$PORT/api/v1/admin/events?limit=1" >> "$WORK/reads"
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -X POST -H "authorization: Bearer $OTHER" \
            -H 'content-type: application/json' \
            -d "{\"subject\": {\"kind\": \"intermediary\", \"name\": \"某职称代评中介$n\"}, \"measure\": \"public_criticism\", \"region\": \"450000\", \"document_number\": \"桂人社罚〔2026〕$n号\", \"effective_from\": \"2026-01-05\", \"legal_basis\": \"职称评审管理暂行规定第四十条\", \"summary\": \"基准测试\"}" \
            "http://127.0.0.1:$PORT/api/v1/admin/sanctions" >> "$WORK/writes"
    fi
    sleep 0.1
done
summary() { sort "$1" | awk '{c[$1]++; if ($2 > m) m = $2} END {for (k in c) printf "%s×%d ", k, c[k]; printf "(max %.3f s)", m}'; }
sleep 1
after=$(rss)
echo
echo "## Import through the server — $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "Command: \`bash bench/import_memory.sh $LINES\` ($(du -m "$WORK/import.ndjson" | cut -f1) MB NDJSON, SQLite, release build, $(nproc) cores)."
echo
echo "| measure | value |"
echo "|---|---|"
echo "| import answer (status, seconds) | $(cat "$WORK/import.status") |"
echo "| server RSS before / peak / 1 s after (MB) | $((before / 1024)) / $((peak / 1024)) / $((after / 1024)) |"
echo "| another authority's authenticated reads during the import, one a second (status×count) | $(summary "$WORK/reads") |"
echo "| another authority's writes during the import, one a second (status×count) | $(summary "$WORK/writes") |"
