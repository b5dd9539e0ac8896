"""Run every query snippet of docs/queries.md against a job's outputs, and
compute each question's answer independently with plain pyarrow and Python.

usage: queries.py DOC WORKDIR RECORDS

WORKDIR holds the job's outputs at out/nightly-type2/; snippets run with it as
the working directory. RECORDS is the job's records input: customers.csv (the
analyst's own table of the doc) is made from it in WORKDIR.

Snippets are the doc's fenced blocks with an info string `sql query=NAME`
(DuckDB SQL, run in a fresh in-memory connection) or `python query=NAME
lib=polars|pandas` (run in a fresh namespace; the last statement must be
print(X), and X, a DataFrame, is the answer). Any other sql or python block is
an error: nothing on the page goes untested.

Prints JSON: {"snippets": [{"query", "lib", "columns", "rows"}], "truth":
{NAME: {"columns", "rows"}}}, values normalized (dates and times as ISO text,
times in UTC; integral numbers as integers; missing values as null).
"""
import ast
import csv
import datetime as dt
import decimal
import glob
import json
import math
import os
import re
import sys
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq

OUT = "out/nightly-type2"
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)


def snippets(doc):
    found = []
    for m in FENCE.finditer(doc):
        info = m.group(1).split()
        lang = info[0] if info else ""
        attrs = dict(a.split("=", 1) for a in info[1:] if "=" in a)
        if lang not in ("sql", "python"):
            if lang not in ("", "text"):
                raise SystemExit(f"queries.py: a ```{lang} block cannot be run: use sql or python with query=NAME")
            continue
        if "query" not in attrs:
            raise SystemExit(f"queries.py: a ```{lang} block has no query=NAME, so it would go untested:\n{m.group(2)}")
        lib = "duckdb" if lang == "sql" else attrs.get("lib")
        if lib not in ("duckdb", "polars", "pandas"):
            raise SystemExit(f"queries.py: query {attrs['query']}: lib must be polars or pandas")
        found.append({"query": attrs["query"], "lib": lib, "code": m.group(2)})
    return found


def norm(v):
    if v is None:
        return None
    try:
        import pandas as pd

        if v is pd.NA or v is pd.NaT:
            return None
    except ImportError:
        pass
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):  # numpy scalars
        v = v.item()
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, float):
        if math.isnan(v):
            return None
        return int(v) if v.is_integer() else round(v, 9)
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            return v.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str):
        return v
    raise TypeError(f"unexpected value {v!r} of type {type(v)}")


def table(columns, rows):
    return {"columns": list(columns), "rows": [[norm(v) for v in r] for r in rows]}


def answer(x):
    """A DataFrame (DuckDB relation, Polars, pandas) as columns and rows."""
    mod = type(x).__module__
    if mod.startswith("polars"):
        import polars as pl

        if isinstance(x, pl.LazyFrame):
            x = x.collect()
        return table(x.columns, x.rows())
    if mod.startswith("pandas"):
        import pandas as pd

        if isinstance(x, pd.Series):
            x = x.to_frame()
        if not isinstance(x.index, pd.RangeIndex):
            x = x.reset_index(drop=False) if any(n is not None for n in x.index.names) else x
        return table([str(c) for c in x.columns], x.itertuples(index=False, name=None))
    raise TypeError(f"snippet answer is a {type(x)}, not a Polars or pandas DataFrame")


def run_python(code):
    tree = ast.parse(code)
    last = tree.body[-1] if tree.body else None
    ok = (
        isinstance(last, ast.Expr)
        and isinstance(last.value, ast.Call)
        and isinstance(last.value.func, ast.Name)
        and last.value.func.id == "print"
        and len(last.value.args) == 1
    )
    if not ok:
        raise SystemExit(f"queries.py: a python snippet must end with print(ANSWER):\n{code}")
    ns = {"__name__": "__snippet__"}
    exec(compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<snippet>", "exec"), ns)
    return answer(eval(compile(ast.Expression(last.value.args[0]), "<snippet>", "eval"), ns))


def run_sql(code):
    import duckdb

    con = duckdb.connect()
    rel = con.sql(code)
    return table(rel.columns, rel.fetchall())


# ---------------------------------------------------------------- the truth
# Plain pyarrow (file by file, no Hive discovery) and Python loops: no DuckDB,
# Polars or pandas.


def partitions(dataset):
    out = {}
    for d in sorted(glob.glob(f"{OUT}/{dataset}/run_date=*")):
        date = d.rsplit("=", 1)[1]
        rows = []
        for f in sorted(glob.glob(f"{d}/*.parquet")):
            rows.extend(pq.read_table(f).to_pylist())
        out[date] = rows
    return out


def truth(customers):
    summary = partitions("summary")
    results = partitions("results")
    rejects = partitions("rejects")
    dates = sorted(summary)
    latest = dates[-1]
    res = results.get(latest, [])
    t = {}

    acc = {}
    for r in summary[latest]:
        k = (r["role"], r["status"], r["reason"])
        c, b = acc.get(k, (0, 0))
        acc[k] = (c + r["count"], b + r["basic_four_changed"])
    t["verdicts"] = table(
        ["role", "status", "reason", "certificates", "basic_four_changed"], [(*k, *v) for k, v in acc.items()]
    )

    jst = ZoneInfo("Asia/Tokyo")
    t["basic-four"] = table(
        ["ppid", "local_user_id", "sign_serial", "revoked_on_jst", "new_since_previous_run"],
        [
            (r["ppid"], r["local_user_id"], r["sign_serial"], r["sign_revocation_time"].astimezone(jst).date(),
             r["new_since_previous_run"])
            for r in res
            if r["basic_four_changed"] is True
        ],
    )

    t["new-attention"] = table(
        ["ppid", "local_user_id", "auth_status", "sign_status", "detail"],
        [
            (r["ppid"], r["local_user_id"], r["auth_status"], r["sign_status"], r["detail"])
            for r in res
            if r["new_since_previous_run"]
        ],
    )

    rdates = sorted(results)
    key = ("ppid", "auth_issuer_kid", "auth_serial", "sign_issuer_kid", "sign_serial")
    dropped = []
    if len(rdates) >= 2:
        now = {tuple(r[k] for k in key) for r in results[rdates[-1]]}
        dropped = [
            (r["ppid"], r["auth_status"], r["sign_status"])
            for r in results[rdates[-2]]
            if tuple(r[k] for k in key) not in now
        ]
    t["dropped"] = table(["ppid", "auth_status", "sign_status"], dropped)

    with open(f"{OUT}/manifests/run_date={latest}/_manifest.json") as f:
        names = {i["kid"]: i["name"] for i in json.load(f)["issuers"]}
    acc = {}
    for r in res:
        # "auth: WHY", "sign: WHY" or "auth: WHY; sign: WHY"
        whys = {}
        for i, p in enumerate((r["detail"] or "").split("; sign: ", 1)):
            if i == 0 and p.startswith("auth: "):
                whys["auth"] = p[len("auth: "):]
            elif i == 0 and p.startswith("sign: "):
                whys["sign"] = p[len("sign: "):]
            elif i == 1:
                whys["sign"] = p
        for role in ("auth", "sign"):
            if r[f"{role}_status"] == "unknown":
                kid = r[f"{role}_issuer_kid"]
                k = (role, kid, names.get(kid), whys.get(role))
                acc[k] = acc.get(k, 0) + 1
    t["unknown"] = table(["role", "issuer_kid", "ca", "why", "certificates"], [(*k, n) for k, n in acc.items()])

    statuses = ["good", "revoked", "expired", "unknown"]
    acc = {}
    for d in dates:
        for r in summary[d]:
            row = acc.setdefault((dt.date.fromisoformat(d), r["role"]), dict.fromkeys(statuses, 0))
            row[r["status"]] += r["count"]
    t["trend"] = table(["run_date", "role", *statuses], [(*k, *(v[s] for s in statuses)) for k, v in acc.items()])

    by_ppid = {}
    for r in res:
        by_ppid.setdefault(r["ppid"], []).append(r)
    t["customers"] = table(
        ["customer_id", "branch", "auth_status", "sign_status", "basic_four_changed"],
        [
            (c["customer_id"], c["branch"], r["auth_status"], r["sign_status"], r["basic_four_changed"])
            for c in customers
            for r in by_ppid.get(c["ppid"], [])
        ],
    )

    acc = {}
    for r in rejects.get(latest, []):
        k = (r["file"], r["column_name"], r["error"])
        n, first = acc.get(k, (0, None))
        acc[k] = (n + 1, r["row"] if first is None else min(first, r["row"]))
    t["rejects"] = table(["file", "column_name", "error", "rows", "first_row"], [(*k, *v) for k, v in acc.items()])
    return t


def make_customers(records):
    """The doc's customers.csv: every third input record's PPID, plus one
    PPID of digits only (on no list) that a reader must keep as a string."""
    ppids = sorted(p for p in pq.read_table(records, columns=["ppid"]).column("ppid").to_pylist() if p)
    branches = ["Tokyo", "Osaka", "Sapporo", "Fukuoka"]
    customers = [
        {"customer_id": f"C{i:06d}", "ppid": p, "branch": branches[i % len(branches)]}
        for i, p in enumerate(ppids)
        if i % 3 == 0
    ]
    customers.append({"customer_id": "C999999", "ppid": "00000000000000000000000000000042", "branch": "Tokyo"})
    with open("customers.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["customer_id", "ppid", "branch"])
        w.writeheader()
        w.writerows(customers)
    return customers


def main():
    doc_path, workdir, records = sys.argv[1:4]
    records = os.path.abspath(records)
    with open(doc_path) as f:
        doc = f.read()
    os.chdir(workdir)
    customers = make_customers(records)
    out = []
    for s in snippets(doc):
        try:
            got = run_sql(s["code"]) if s["lib"] == "duckdb" else run_python(s["code"])
        except Exception as e:
            raise SystemExit(f"queries.py: query {s['query']} ({s['lib']}) failed: {type(e).__name__}: {e}") from e
        out.append({"query": s["query"], "lib": s["lib"], **got})
    print(json.dumps({"snippets": out, "truth": truth(customers)}))


if __name__ == "__main__":
    main()
