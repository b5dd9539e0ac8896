#!/usr/bin/env python3
"""What a reader of a job's outputs sees for one run_date: for each dataset,
the number of files and rows and a digest of the rows (run_id and
new_since_previous_run left out: they differ between runs of the same
inputs). Every Parquet file must read whole (pyarrow); a partial file fails.
Also the latest manifest's run id and status.

    snapshot.py OUT_DIR RUN_DATE  -> one JSON object on stdout
"""
import hashlib
import json
import os
import sys

import pyarrow.parquet as pq

LEFT_OUT = {"run_id", "new_since_previous_run"}


def dataset(out, name, date):
    d = os.path.join(out, name, f"run_date={date}")
    if not os.path.isdir(d):
        return None
    names = sorted(os.listdir(d))
    for n in names:
        if not n.endswith(".parquet"):
            raise SystemExit(f"{name}: unexpected file {n!r} visible to readers")
    rows = []
    for n in names:
        t = pq.read_table(os.path.join(d, n))
        cols = [c for c in t.column_names if c not in LEFT_OUT]
        rows += [json.dumps([r[c] for c in cols], default=str) for r in t.select(cols).to_pylist()]
    rows.sort()
    h = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return {"files": len(names), "rows": len(rows), "digest": h}


def main():
    out, date = sys.argv[1], sys.argv[2]
    snap = {k: dataset(out, k, date) for k in ("results", "summary", "rejects")}
    m = os.path.join(out, "_manifest.json")
    if os.path.exists(m):
        with open(m) as f:
            man = json.load(f)
        snap["manifest"] = {"run_id": man["run_id"], "exit_code": man["exit_code"]}
    staging = os.path.join(out, ".staging")
    snap["staging_runs"] = len(os.listdir(staging)) if os.path.isdir(staging) else 0
    print(json.dumps(snap, sort_keys=True))


if __name__ == "__main__":
    main()
