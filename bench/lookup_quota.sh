#!/usr/bin/env bash
# What one client gets from the lookup oracle under the default quota: one client sends
# POST /api/v1/certificates/lookup as fast as it can for SECONDS, reconnecting after each 429
# (the server closes a refused connection); prints answered and refused counts per second.
# usage: bash bench/lookup_quota.sh [SECONDS]      (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN="${1:-20}"
WORK="$(mktemp -d /tmp/zhicheng-bench.XXXXXX)"
BIN=target/release/zhicheng
PORT=18094
cargo build --release --locked --quiet
"$BIN" demo --registry-key "$WORK/registry.key" --database-url "sqlite://$WORK/db" --certificates 100 --examples "$WORK/examples" 2>/dev/null
"$BIN" serve --database-url "sqlite://$WORK/db" --listen "127.0.0.1:$PORT" --registry-key "$WORK/registry.key" --log-key "$WORK/log.key" 2>/dev/null &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
python3 - "$PORT" "$SECONDS_RUN" <<'PY'
import http.client, json, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
body = json.dumps({"number": "22-2024-000001", "name": "张三"}).encode()
counts, first_refusal, n, c, start = {}, None, 0, None, time.time()
while time.time() - start < seconds:
    if c is None:
        c = http.client.HTTPConnection("127.0.0.1", port)
    try:
        c.request("POST", "/api/v1/certificates/lookup", body, {"content-type": "application/json"})
        r = c.getresponse(); r.read()
    except (http.client.HTTPException, OSError):
        c.close(); c = None; continue
    n += 1
    counts[r.status] = counts.get(r.status, 0) + 1
    if r.status == 429:
        first_refusal = first_refusal or (n, round(time.time() - start, 3), r.getheader("retry-after"))
        c.close(); c = None
elapsed = time.time() - start
answered = n - counts.get(429, 0)
print(f"{n} lookups in {elapsed:.1f} s from one client: statuses {counts}")
print(f"answered {answered} ({answered / elapsed:.2f}/s); refused {counts.get(429, 0)} ({counts.get(429, 0) / elapsed:.0f}/s)")
print(f"first 429 at lookup {first_refusal[0]}, {first_refusal[1]} s in, Retry-After {first_refusal[2]} s" if first_refusal else "no 429")
PY
