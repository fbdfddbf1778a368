#!/usr/bin/env python3
"""Recomputes a zhicheng spot-check draw from public data alone, without zhicheng's code.

usage: recompute_draw.py DRAW.json ENTRY.json

DRAW.json   the registry's answer to GET /api/v1/draws/{id}
ENTRY.json  the registry's answer to GET /api/v1/log/entries?start=I&end=I+1, where I is the
            plan's log index (DRAW.json's plan.log_index)

It checks that the plan the registry shows is the plan its transparency log holds (a plan
changed after the fact is caught here), that the seed checkpoint comes after the plan, and
recomputes the draw: every eligible committee ranked by SHA-256(seed || plan id || "\\n" ||
committee id), the lowest `count`, where seed = SHA-256("zhicheng spot-check draw v1\\n" ||
the checkpoint note). It prints the drawn committees, one a line, and exits 0 when the
registry's answer agrees, 1 when it does not. (The note's Ed25519 signature is checked by any
C2SP signed-note verifier, e.g. `zhicheng log verify`; Python's standard library has none.)
"""
import hashlib
import json
import sys


def fail(message):
    print(f"MISMATCH: {message}", file=sys.stderr)
    sys.exit(1)


def main(draw_path, entry_path):
    with open(draw_path, encoding="utf-8") as f:
        draw = json.load(f)
    with open(entry_path, encoding="utf-8") as f:
        entries = json.load(f)["entries"]
    plan = draw["plan"]
    if len(entries) != 1 or entries[0]["index"] != plan["log_index"]:
        fail("ENTRY.json is not the single log entry at the plan's log index")
    entry = entries[0]["entry"]
    if entry["kind"] != "draw.planned" or entry["entity"]["id"] != plan["id"]:
        fail(f"log entry {plan['log_index']} is not the publication of plan {plan['id']}")
    logged = entry["payload"]["operation"]
    for field in ("name", "eligible", "count"):
        if logged.get(field) != plan.get(field):
            fail(f"the plan's {field} differs from what the log holds at index {plan['log_index']}")
    if entry["authority"] != plan["authority_id"]:
        fail("the plan's authority differs from the log's")

    checkpoint = draw.get("seed_checkpoint")
    if checkpoint is None:
        fail("the draw is not made yet: no checkpoint covers the plan")
    if checkpoint["size"] <= plan["log_index"]:
        fail("the seed checkpoint does not cover the plan")
    if not checkpoint["note"].startswith(checkpoint["note"].split("\n", 1)[0] + "\n" + str(checkpoint["size"]) + "\n"):
        fail("the checkpoint note does not state the size given")

    seed = hashlib.sha256(b"zhicheng spot-check draw v1\n" + checkpoint["note"].encode("utf-8")).digest()
    ranked = sorted(
        plan["eligible"],
        key=lambda c: hashlib.sha256(seed + plan["id"].encode("utf-8") + b"\n" + c.encode("utf-8")).digest(),
    )
    drawn = ranked[: plan["count"]]
    for committee in drawn:
        print(committee)
    if draw.get("seed") != seed.hex():
        fail("the registry's seed differs from the recomputed one")
    if draw.get("selected") != drawn:
        fail("the registry's selection differs from the recomputed one")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2])
