#!/usr/bin/env bash
# Bulk name matching benchmark (issue 15), on PostgreSQL (needs root for .ci/start-postgres):
# 10,000 queries (exact committee names, look-alikes of them, unrelated company names, web
# domains) against the demo registry grown to COMMITTEES synthetic committees (each a committee
# and an organizing unit to match: twice as many names), through POST /api/v1/bulk/match.
#
#  - throughput: the 10,000 lines in one request, best of three (after one that builds the index);
#  - latency: 200 requests of 50 lines each, one after another: p50 and p99;
#  - baseline, same run: PostgreSQL's own fuzzy matching, pg_trgm with a GIN index, the first
#    BASE_QUERIES of the same queries against the committees' names alone (`name % q ORDER BY
#    name <-> q LIMIT 5`), in one SQL statement through psql (all 10,000 would take hours at this size).
# Appends a dated section to bench/RESULTS.md.
#
# usage: bash bench/match.sh [COMMITTEES] [BASE_QUERIES]     (defaults 100000, 100)
set -euo pipefail
cd "$(dirname "$0")/.."
COMMITTEES="${1:-100000}"
BASE_QUERIES="${2:-100}"
PORT=18284
PG_PORT=55440
source bench/pg-setup.sh

URL="$(fresh_database matchbench)"
"$BIN" demo --database-url "$URL" --registry-key "$WORK/registry.key" --committees "$COMMITTEES" --certificates 1000 --examples "$WORK/examples" 2>/dev/null
names=$(psql -tA "$URL" -c "SELECT count(*) * 2 FROM committees")
psql -tA "$URL" -c "SELECT name FROM committees ORDER BY md5(id) LIMIT 8000" > "$WORK/names.txt"
psql -tA "$URL" -c "SELECT d FROM committees, jsonb_array_elements_text(domains::jsonb) AS d ORDER BY md5(id) LIMIT 1000" > "$WORK/domains.txt"
python3 - "$WORK" "$BASE_QUERIES" <<'PY'
import random, sys
work = sys.argv[1]
random.seed(15)
names = open(f"{work}/names.txt", encoding="utf-8").read().split("\n")
names = [n for n in names if n]
domains = [d for d in open(f"{work}/domains.txt", encoding="utf-8").read().split("\n") if d]
traditional = str.maketrans("评审职称专业技术员会术卫档", "評審職稱專業技術員會術衛檔")
def look_alike(n):
    kind = random.randrange(3)
    if kind == 0:
        return n.translate(traditional)
    if kind == 1:
        return n.replace("委员会", "服务中心").replace("评审", "评定")
    return "中国" + n[2:] if len(n) > 4 else n
queries = []
for i in range(10000):
    r = i % 10
    if r < 4:
        queries.append(random.choice(names))
    elif r < 7:
        queries.append(look_alike(random.choice(names)))
    elif r < 9:
        queries.append(f"{random.choice('东南西北中')}{random.choice('华信达通诚')}{random.choice('科技咨询教育人才')}有限公司")
    else:
        queries.append(random.choice(domains) if domains else "zc.example.cn")
open(f"{work}/queries.txt", "w", encoding="utf-8").write("\n".join(queries) + "\n")
for k in range(200):
    open(f"{work}/small-{k}.txt", "w", encoding="utf-8").write("\n".join(queries[k * 50:(k + 1) * 50]) + "\n")
# The baseline's queries, as SQL data.
with open(f"{work}/queries.sql", "w", encoding="utf-8") as f:
    f.write("CREATE TEMP TABLE q (line int, name text);\nCOPY q FROM STDIN;\n")
    for i, q in enumerate(queries[:int(sys.argv[2])]):
        f.write(f"{i + 1}\t{q.replace(chr(92), chr(92) * 2)}\n")
    f.write("\\.\n")
PY

serve_with_token "$URL"
match() { curl -sSf -H "authorization: Bearer $TOKEN" -H "content-type: text/plain" --data-binary @"$1" "http://127.0.0.1:$PORT/api/v1/bulk/match"; }

lines=$(match "$WORK/queries.txt" | wc -l)   # builds the index
[ "$lines" = 10000 ] || { echo "answered $lines lines" >&2; exit 1; }
match "$WORK/queries.txt" > "$WORK/answers.ndjson"
exact=$(grep -c '"exact":\[{' "$WORK/answers.ndjson" || true)
alike=$(grep -c '"look_alikes":\[{' "$WORK/answers.ndjson" || true)

psql -q "$URL" -c "CREATE EXTENSION IF NOT EXISTS pg_trgm" -c "CREATE INDEX IF NOT EXISTS committees_name_trgm ON committees USING gin (name gin_trgm_ops)" -c "ANALYZE committees"
BASELINE_SQL="SELECT count(*) FROM q CROSS JOIN LATERAL (SELECT id FROM committees c WHERE c.name % q.name ORDER BY c.name <-> q.name LIMIT 5) m"
baseline() {
    local t0 t1
    t0=$(now)
    { cat "$WORK/queries.sql"; echo "$BASELINE_SQL;"; } | psql -qtA "$URL" > "$WORK/baseline.out"
    t1=$(now)
    python3 -c "print($t1 - $t0)"
}
ours() {
    local t0 t1
    t0=$(now)
    match "$WORK/queries.txt" > /dev/null
    t1=$(now)
    python3 -c "print($t1 - $t0)"
}
best_ours=$(ours)
best_base=$(baseline)
for round in 2 3; do best_ours=$(python3 -c "print(min($best_ours, $(ours)))"); done
base_found=$(tail -1 "$WORK/baseline.out")

: > "$WORK/latency.txt"
for k in $(seq 0 199); do
    t0=$(now); match "$WORK/small-$k.txt" > /dev/null; t1=$(now)
    python3 -c "print(($t1 - $t0) * 1000)" >> "$WORK/latency.txt"
done
read -r p50 p99 <<<"$(python3 -c "
import sys
v = sorted(float(x) for x in open('$WORK/latency.txt'))
print(f'{v[len(v) // 2]:.1f} {v[int(len(v) * 0.99) - 1]:.1f}')")"
rss=$(awk '/VmHWM/ {printf "%.0f MB", $2 / 1024}' "/proc/$SERVER/status")
ours_rate=$(python3 -c "print(round(10000 / $best_ours))")
base_rate=$(python3 -c "print(f'{$BASE_QUERIES / $best_base:.1f}')")
ratio=$(python3 -c "print(f'{(10000 / $best_ours) / ($BASE_QUERIES / $best_base):.0f}×')")

{
    echo
    echo "## Bulk name matching, $(date -u +%Y-%m-%d) ($(nproc) cores)"
    echo
    echo "Command: \`bash bench/match.sh $COMMITTEES $BASE_QUERIES\`. PostgreSQL; $names names to match against (every committee's and"
    echo "organizing unit's); 10,000 queries: 40% exact committee names, 30% look-alikes (traditional characters,"
    echo "服务中心 for 委员会, a changed prefix), 20% unrelated company names, 10% web domains. Ours best of three rounds, the baseline (first $BASE_QUERIES queries) once."
    echo
    echo "| what | queries/s | ratio to baseline |"
    echo "|---|---|---|"
    echo "| baseline: pg_trgm, GIN index, committee names only, top 5 by distance, one SQL statement | $base_rate | 1.00× |"
    echo "| \`POST /api/v1/bulk/match\`, 10,000 lines in one request (committees, units, sanctioned subjects) | $ours_rate | $ratio |"
    echo
    echo "Latency of 50-line requests, one after another (200): p50 $p50 ms, p99 $p99 ms. Found: $exact exact, $alike"
    echo "with look-alikes (zhicheng); $base_found candidate rows (pg_trgm). Server peak RSS: $rss."
} | tee -a bench/RESULTS.md
