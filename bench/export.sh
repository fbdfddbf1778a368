#!/usr/bin/env bash
# Export benchmark (issue 15), on PostgreSQL (needs root for .ci/start-postgres):
# certificate statuses exported per second by GET /api/v1/exports/certificates (NDJSON, over
# loopback, read to the end by curl), beside the baseline of the same run: PostgreSQL's own
# `COPY (SELECT json_build_object(…) …) TO STDOUT` of the same rows, in the same order, with the
# same fields, read to the end by psql over TCP. Three rounds, alternating, best of each.
#
# The rows are made in SQL (generate_series): the export reads only a certificate's number,
# digest and status changes, so the credentials' text does not matter here; 1% are revoked.
# Appends a dated section to bench/RESULTS.md.
#
# usage: bash bench/export.sh [ROWS]      (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-1000000}"
PORT=18283
PG_PORT=55439
source bench/pg-setup.sh

URL="$(fresh_database exportbench)"
"$BIN" demo --database-url "$URL" --registry-key "$WORK/registry.key" --certificates 1000 --examples "$WORK/examples" 2>/dev/null
psql -q "$URL" <<SQL
INSERT INTO certificates (number, credential, credential_sha256, holder_name, issuer, status_authority, committee_id,
                          key_id, revocation_index, suspension_index, revocation_slot, suspension_slot, logged_at)
SELECT 'BENCH-' || lpad(i::text, 9, '0'), '{}', encode(sha256(i::text::bytea), 'hex'), '-', 'urn:bench', 'hr-220000',
       'cmt-bench', (SELECT id FROM issuer_keys ORDER BY id LIMIT 1), NULL, NULL, NULL, NULL, now()
FROM generate_series(1, $ROWS - 1000) AS i;
INSERT INTO certificate_status_changes (number, seq, action, reason, effective_at, logged_at)
SELECT number, 0, 'revoked', '基准测试', now(), now() FROM certificates
WHERE number LIKE 'BENCH-%' AND right(number, 2) = '00';
ANALYZE;
SQL
total=$(psql -tA "$URL" -c "SELECT count(*) FROM certificates")

# The same rows as JSON, by PostgreSQL itself (status changes are at most one a certificate here).
COPY_SQL="COPY (SELECT json_build_object('number', c.number, 'credential_sha256', c.credential_sha256,
  'state', COALESCE(s.action, 'active'), 'since', s.effective_at, 'reason', s.reason)
  FROM certificates c LEFT JOIN certificate_status_changes s ON s.number = c.number
  ORDER BY c.number COLLATE \"C\", s.seq) TO STDOUT"

serve_with_token "$URL"

# Each prints "seconds bytes lines".
count() { LC_ALL=C awk '{ b += length($0) + 1 } END { print b + 0, NR }'; }
ours() {
    local t0 t1 bytes
    t0=$(now)
    bytes=$(curl -sSf -H "authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/exports/certificates" | count)
    t1=$(now)
    echo "$(python3 -c "print($t1 - $t0)") $bytes"
}
baseline() {
    local t0 t1 bytes
    t0=$(now)
    bytes=$(psql -q "$URL" -c "$COPY_SQL" | count)
    t1=$(now)
    echo "$(python3 -c "print($t1 - $t0)") $bytes"
}
# Warm both (the table's pages in memory), and check each answers in full.
read -r _ _ lines_ours <<<"$(ours)"; read -r _ _ lines_base <<<"$(baseline)"
if [ "$lines_ours" != "$total" ] || [ "$lines_base" != "$total" ]; then
    echo "the export answered $lines_ours rows, the baseline $lines_base, of $total" >&2
    tail -20 "$WORK/server.log" >&2; exit 1
fi
best_ours=999999; best_base=999999
for round in 1 2 3; do
    read -r s bytes_ours lines <<<"$(ours)"; [ "$lines" = "$total" ] || { echo "round $round: $lines rows" >&2; exit 1; }
    best_ours=$(python3 -c "print(min($best_ours, $s))")
    read -r s bytes_base _ <<<"$(baseline)"; best_base=$(python3 -c "print(min($best_base, $s))")
done
rss=$(awk '/VmHWM/ {printf "%.0f MB", $2 / 1024}' "/proc/$SERVER/status")
ours_rate=$(python3 -c "print(round($total / $best_ours))")
base_rate=$(python3 -c "print(round($total / $best_base))")
ratio=$(python3 -c "print(f'{$best_base / $best_ours:.2f}×')")

{
    echo
    echo "## Export of certificate statuses, $(date -u +%Y-%m-%d) ($(nproc) cores)"
    echo
    echo "Command: \`bash bench/export.sh $ROWS\`. PostgreSQL, $total certificates (1% revoked); best of three"
    echo "rounds each, alternating, after one warm-up of each."
    echo
    echo "| what | rows/s | bytes | ratio to baseline |"
    echo "|---|---|---|---|"
    echo "| baseline: PostgreSQL \`COPY (SELECT json_build_object(…)) TO STDOUT\` through psql | $base_rate | $bytes_base | 1.00× |"
    echo "| \`GET /api/v1/exports/certificates\` (NDJSON, loopback, curl) | $ours_rate | $bytes_ours | $ratio |"
    echo
    echo "Server peak RSS over the whole run (the demo, the warm-up and three exports): $rss."
} | tee -a bench/RESULTS.md
