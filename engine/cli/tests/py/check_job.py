"""Read a job's outputs back with DuckDB and pyarrow and compare them with the
generator's ground truth. Exits non-zero with a message on any difference;
prints a JSON summary of what it checked.

usage: check_job.py OUT_DIR EXPECTED_PARQUET SCHEMAS_DIR RUN_DATE [LOG_FILE]
"""
import json
import os
import stat
import sys

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

out, expected, schemas, run_date = sys.argv[1:5]
log_file = sys.argv[5] if len(sys.argv) > 5 else None
failures = []


def fail(msg):
    failures.append(msg)


con = duckdb.connect()
res = f"read_parquet('{out}/results/*/*.parquet', hive_partitioning=true)"
rej = f"read_parquet('{out}/rejects/*/*.parquet', hive_partitioning=true)"
summ = f"read_parquet('{out}/summary/*/*.parquet', hive_partitioning=true)"
exp = f"read_parquet('{expected}')"

# 1. Every record needing attention is in results, with exact values; no other record is.
q = f"""
with e as (
  select *, (auth_status <> 'good' or coalesce(sign_status, 'good') <> 'good') as attention
  from {exp} where reject_column is null
)
select
  count(*) filter (where e.attention and r.ppid is null) as missing,
  count(*) filter (where not e.attention and r.ppid is not null) as extra,
  count(*) filter (where r.ppid is not null and (
       r.auth_status is distinct from e.auth_status
    or r.auth_reason is distinct from e.auth_reason
    or r.auth_reason_code is distinct from e.auth_reason_code
    or r.auth_revocation_time is distinct from e.auth_revocation_time
    or r.auth_invalidity_time is distinct from e.auth_invalidity_time
    or r.sign_status is distinct from e.sign_status
    or r.sign_reason is distinct from e.sign_reason
    or r.sign_reason_code is distinct from e.sign_reason_code
    or r.sign_revocation_time is distinct from e.sign_revocation_time
    or r.sign_invalidity_time is distinct from e.sign_invalidity_time
    or r.basic_four_changed is distinct from e.basic_four_changed)) as wrong,
  count(*) filter (where e.attention) as attention,
  count(*) filter (where e.category = 'unknown_issuer' and r.auth_status = 'unknown' and r.detail like 'auth: unknown issuer %') as unknown_issuer_detail,
  count(*) filter (where e.category = 'unknown_issuer' and e.auth_status = 'unknown') as unknown_issuer
from e left join {res} r using (ppid)
"""
missing, extra, wrong, attention, uid, ui = con.execute(q).fetchone()
if missing or extra or wrong:
    sample = con.execute(f"""select e.ppid, e.category, e.auth_status, r.auth_status, e.sign_status, r.sign_status,
        e.auth_reason, r.auth_reason, e.basic_four_changed, r.basic_four_changed
        from {exp} e left join {res} r using (ppid) where e.reject_column is null and
        (r.auth_status is distinct from e.auth_status or r.sign_status is distinct from e.sign_status
         or r.basic_four_changed is distinct from e.basic_four_changed) limit 5""").fetchall()
    fail(f"results differ from ground truth: missing={missing} extra={extra} wrong={wrong} sample={sample}")
if uid != ui:
    fail(f"unknown-issuer details: {uid} of {ui}")

# 2. Rejected rows are in rejects, by file and row, with the column at fault, and not in results.
n_exp_rej = con.execute(f"select count(*) from {exp} where reject_column is not null").fetchone()[0]
n_rej = con.execute(f"select count(*) from {rej}").fetchone()[0]
matched = con.execute(f"""select count(*) from {exp} e join {rej} j
    on j.file = e.file and j.row = e.row and j.column_name = e.reject_column
    where e.reject_column is not null""").fetchone()[0]
leaked = con.execute(f"select count(*) from {exp} e join {res} r using (ppid) where e.reject_column is not null").fetchone()[0]
if not (n_exp_rej == n_rej == matched) or leaked:
    fail(f"rejects: expected {n_exp_rej}, written {n_rej}, matched {matched}, leaked into results {leaked}")
errors = [r[0] for r in con.execute(f"select distinct error from {rej} order by 1").fetchall()]

# 3. Summary counts add up to the records checked, per role.
checked = con.execute(f"select count(*) from {exp} where reject_column is null").fetchone()[0]
auth_total = con.execute(f"select sum(count) from {summ} where role = 'auth'").fetchone()[0]
if auth_total != checked:
    fail(f"summary auth total {auth_total} != checked {checked}")
b4c = con.execute(f"select sum(basic_four_changed) from {summ} where role = 'sign'").fetchone()[0]
b4c_exp = con.execute(f"select count(*) from {exp} where basic_four_changed and reject_column is null").fetchone()[0]
if b4c != b4c_exp:
    fail(f"summary basic_four_changed {b4c} != expected {b4c_exp}")

# 4. Schemas, metadata, compression, file modes (pyarrow).
pa_types = {
    "string": pa.string(),
    "timestamp_us_utc": pa.timestamp("us", tz="UTC"),
    "bool": pa.bool_(),
    "int32": pa.int32(),
    "int64": pa.int64(),
}
for dataset in ["results", "summary", "rejects"]:
    spec = json.load(open(os.path.join(schemas, f"{dataset}.schema.json")))
    want = pa.schema([pa.field(c["name"], pa_types[c["type"]], nullable=c["nullable"]) for c in spec["columns"]])
    d = os.path.join(out, dataset, f"run_date={run_date}")
    files = sorted(f for f in os.listdir(d) if f.endswith(".parquet"))
    if not files:
        fail(f"{dataset}: no part files")
    for f in files:
        path = os.path.join(d, f)
        pf = pq.ParquetFile(path)
        got = pf.schema_arrow
        if not got.remove_metadata().equals(want):
            fail(f"{dataset}/{f}: schema {got} != {want}")
        kv = {k.decode(): v.decode() for k, v in (pf.metadata.metadata or {}).items()}
        for key in ["schema_version", "engine_version", "run_id"]:
            if key not in kv:
                fail(f"{dataset}/{f}: key-value metadata lacks {key}")
        if kv.get("schema_version") != str(spec["schema_version"]):
            fail(f"{dataset}/{f}: schema_version {kv.get('schema_version')}")
        for rg in range(pf.metadata.num_row_groups):
            for c in range(pf.metadata.num_columns):
                comp = pf.metadata.row_group(rg).column(c).compression
                if comp != "ZSTD":
                    fail(f"{dataset}/{f}: column {c} compression {comp}")
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode & 0o027:
            fail(f"{dataset}/{f}: mode {oct(mode)} is wider than 0640")

# 5. No personal data in the manifest or the log.
ppids = [r[0] for r in con.execute(f"select ppid from {exp} using sample 500 rows").fetchall()]
luids = [r[0] for r in con.execute(f"select local_user_id from read_parquet('{os.path.dirname(os.path.dirname(expected))}/records/*.parquet') where local_user_id is not null using sample 500 rows").fetchall()]
texts = [open(os.path.join(out, "_manifest.json")).read()]
if log_file:
    texts.append(open(log_file).read())
for t in texts:
    for p in ppids + luids:
        if p and p in t:
            fail("personal data (a PPID or local user id) found in the manifest or log")
            break

manifest = json.load(open(os.path.join(out, "_manifest.json")))
if manifest["counts"]["rejected"] != n_exp_rej or manifest["counts"]["checked"] != checked:
    fail(f"manifest counts {manifest['counts']}")

print(json.dumps({"attention": attention, "checked": checked, "rejects": n_rej, "errors": errors, "failures": failures}))
sys.exit(1 if failures else 0)
