#!/usr/bin/env python3
"""The raw-insert baseline of the import benchmarks: the bare SQLite inserting the committee
rows of WORK/baseline.csv into WORK/baseline.db in one executemany transaction (WAL, synchronous
NORMAL, as zhicheng runs), with no checks, events, history or log. Prints rows per second.

usage: sqlite_baseline.py WORK
"""
import csv
import sqlite3
import sys
import time

work = sys.argv[1]
db = sqlite3.connect(f"{work}/baseline.db")
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=NORMAL")
db.execute("CREATE TABLE committees (id TEXT PRIMARY KEY, name TEXT, kind TEXT, unit_name TEXT, "
           "unit_credit_code TEXT, authority_id TEXT, region TEXT)")
rows = list(csv.reader(open(f"{work}/baseline.csv", encoding="utf-8")))
t0 = time.time()
with db:
    db.executemany("INSERT INTO committees VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
print(round(len(rows) / (time.time() - t0)))
