"""Peer: the bulk check done in DuckDB from Parquet: the records, and the
revoked serials exported by the engine (`crlbatch export`). Normalises the
serial and key identifier text, left-joins both certificate roles, derives
the statuses and writes the records needing attention as zstd Parquet.
usage: duckdb_check.py RECORDS_GLOB REVOKED_PARQUET OUT_PARQUET AT_RFC3339 THREADS"""
import sys

import duckdb

records, revoked, out, at, threads = sys.argv[1:6]
con = duckdb.connect()
con.execute(f"SET threads = {int(threads)}")
kids = [r[0] for r in con.execute(f"SELECT DISTINCT issuer_kid FROM read_parquet('{revoked}')").fetchall()]
known = ", ".join(f"'{k}'" for k in kids)
norm = "coalesce(nullif(ltrim(lower(replace({c}, ':', '')), '0'), ''), '0')"
con.execute(f"""
COPY (
  WITH rec AS (
    SELECT ppid, local_user_id,
           lower(replace(auth_issuer_kid, ':', '')) AS akid, {norm.format(c='auth_serial')} AS aser, auth_not_after,
           lower(replace(sign_issuer_kid, ':', '')) AS skid, {norm.format(c='sign_serial')} AS sser, sign_not_after
    FROM read_parquet('{records}')
  ), r AS (SELECT * FROM read_parquet('{revoked}')),
  j AS (
    SELECT rec.*,
      CASE WHEN ra.serial IS NOT NULL THEN 'revoked'
           WHEN rec.auth_not_after < TIMESTAMPTZ '{at}' THEN 'expired'
           WHEN rec.akid IN ({known}) THEN 'good' ELSE 'unknown' END AS auth_status,
      ra.reason AS auth_reason, ra.revocation_time AS auth_revocation_time,
      CASE WHEN rec.skid IS NULL THEN NULL
           WHEN rs.serial IS NOT NULL THEN 'revoked'
           WHEN rec.sign_not_after < TIMESTAMPTZ '{at}' THEN 'expired'
           WHEN rec.skid IN ({known}) THEN 'good' ELSE 'unknown' END AS sign_status,
      rs.reason AS sign_reason, rs.revocation_time AS sign_revocation_time,
      rs.reason = 'affiliationChanged' AS basic_four_changed
    FROM rec
    LEFT JOIN r ra ON ra.issuer_kid = rec.akid AND ra.serial = rec.aser
    LEFT JOIN r rs ON rs.issuer_kid = rec.skid AND rs.serial = rec.sser
  )
  SELECT * FROM j WHERE auth_status <> 'good' OR coalesce(sign_status, 'good') <> 'good'
) TO '{out}' (FORMAT parquet, COMPRESSION zstd)
""")
print(con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0])
