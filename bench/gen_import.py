#!/usr/bin/env python3
"""Writes a bulk-import file for the benchmarks: N/2 committees (create_committee) and a
grant for each (grant_authorization), all in Changchun (220100), for authority hr-220000 of
the demo registry. Also writes the same committees as CSV rows for the raw-insert baseline.

usage: gen_import.py LINES OUT.ndjson OUT-baseline.csv [FIRST]
(FIRST: the number of the first committee, so several files can be imported one after another)
"""
import json
import sys

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def credit_code(seed: int) -> str:
    """A valid unified social credit code (GB 32100 check character)."""
    first17 = f"51220100{seed % 1_000_000_000:09d}"
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS))
    return first17 + ALPHABET[(31 - total % 31) % 31]


def main() -> None:
    lines, ndjson_path, csv_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    first = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    half = lines // 2
    with open(ndjson_path, "w", encoding="utf-8") as out, open(csv_path, "w", encoding="utf-8") as raw:
        for i in range(first, first + half):
            committee = {
                "op": "create_committee", "id": f"bench-{i:07d}", "name": f"基准评审委员会{i:07d}",
                "kind": "intermediate",
                "organizing_unit": {"name": f"基准单位{i:07d}", "credit_code": credit_code(10_000 + i)},
                "region": "220100",
            }
            out.write(json.dumps(committee, ensure_ascii=False) + "\n")
            raw.write(f"bench-{i:07d},基准评审委员会{i:07d},intermediate,基准单位{i:07d},{credit_code(10_000 + i)},hr-220000,220100\n")
        for i in range(first, first + half):
            grant = {
                "op": "grant_authorization", "committee_id": f"bench-{i:07d}", "series": "ENGINEERING",
                "levels": ["intermediate"], "scope": {"regions": ["220100"]},
                "valid_from": "2025-01-01", "valid_until": "2027-12-31",
                "document_number": f"吉人社函〔2025〕{i}号",
            }
            out.write(json.dumps(grant, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
