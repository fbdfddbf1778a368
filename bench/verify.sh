#!/usr/bin/env bash
# POST /api/v1/verify under load (wrk over loopback) against the demo registry on SQLite,
# beside the baseline measured in the same run: raw ed25519-dalek single-signature
# verification on one core (`zhicheng bench-baseline`). Appends a section to bench/RESULTS.md.
#
# usage: bash bench/verify.sh [SECONDS] [CONNECTIONS]      (defaults 10 and 16)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN="${1:-10}"
CONNECTIONS="${2:-16}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
WORK="$(mktemp -d /tmp/zhicheng-bench.XXXXXX)"
BIN=target/release/zhicheng
PORT=18181
cargo build --release --locked --quiet

DB="sqlite://$WORK/bench.db"
"$BIN" demo --registry-key "$WORK/registry.key" --database-url "$DB" --examples "$WORK/examples" 2>/dev/null
"$BIN" serve --database-url "$DB" --listen "127.0.0.1:$PORT" --registry-key "$WORK/registry.key" --log-key "$WORK/log.key" --verifications-per-minute 0 2>"$WORK/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

python3 -c "import json,sys; print(json.dumps({'credential': json.load(open(sys.argv[1]))}))" "$WORK/examples/valid.json" > "$WORK/body.json"
test "$(curl -s -X POST -H 'content-type: application/json' --data @"$WORK/body.json" "http://127.0.0.1:$PORT/api/v1/verify" | python3 -c 'import json,sys; print(json.load(sys.stdin)["verdict"])')" = valid
cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$WORK/body.json", "r"); wrk.body = f:read("*a"); f:close()
LUA

baseline=$("$BIN" bench-baseline --seconds 3)
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency -s "$WORK/post.lua" "http://127.0.0.1:$PORT/api/v1/verify" > "$WORK/wrk.txt"
rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
p50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")
errors=$(grep -E "Non-2xx|Socket errors" "$WORK/wrk.txt" || true)
rss=$(awk '/VmHWM/ {print $2 / 1024 " MB"}' "/proc/$SERVER/status")
ratio=$(python3 -c "print(f'{float(\"$rps\") / float(\"$baseline\"):.3f}×')")
{
    echo
    echo "## POST /api/v1/verify — $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -m); command: \`bash bench/verify.sh $SECONDS_RUN $CONNECTIONS\`."
    echo "Server: release build, demo registry (10,000 certificates) on SQLite, verifying \`data/examples/valid.json\` (all nine steps); wrk 2 threads, $CONNECTIONS connections, ${SECONDS_RUN} s, on the same 2 cores."
    echo "Baseline, same run: raw ed25519-dalek verification of one 64-byte message on one core."
    echo
    echo "| measure | value |"
    echo "|---|---|"
    echo "| baseline: raw Ed25519 verifications/s, one core | $baseline |"
    echo "| POST /api/v1/verify, requests/s | $rps |"
    echo "| ratio to the baseline | $ratio |"
    echo "| latency p50 / p99 | $p50 / $p99 |"
    echo "| server peak RSS | $rss |"
    [ -n "$errors" ] && echo "| wrk errors | $errors |"
} | tee -a bench/RESULTS.md
