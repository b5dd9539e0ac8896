#!/usr/bin/env bash
# Peer: what an analyst would script without crlbatch: dump each CRL with
# `openssl crl -text`, turn the dump into a CSV of (issuer_kid, serial,
# reason), then the same DuckDB join (duckdb_check.py) over that table.
# usage: openssl_dump_check.sh OUT_DIR AT RECORDS_GLOB KID=CRL...
set -euo pipefail
out=$1; at=$2; records=$3; shift 3
here=$(cd "$(dirname "$0")" && pwd)
csv="$out/revoked.csv"
echo "issuer_kid,serial,reason,revocation_time" > "$csv"
for pair in "$@"; do
    kid=${pair%%=*}; crl=${pair#*=}
    openssl crl -inform DER -in "$crl" -noout -text | awk -v kid="$kid" '
        /Serial Number:/ { if (s != "") print kid "," s "," r ",";
                           s = tolower($3); sub(/^0+/, "", s); if (s == "") s = "0"; r = ""; next }
        /CRL Reason Code:/ { getline; gsub(/^ +| +$/, ""); r = $0; next }
        END { if (s != "") print kid "," s "," r "," }' >> "$csv"
done
python3 -c "
import duckdb, sys
duckdb.execute(\"COPY (SELECT issuer_kid, serial, CASE reason WHEN 'Affiliation Changed' THEN 'affiliationChanged' ELSE reason END AS reason, NULL::TIMESTAMPTZ AS revocation_time FROM read_csv('$csv', header=true, all_varchar=true)) TO '$out/revoked.parquet' (FORMAT parquet)\")
"
python3 "$here/duckdb_check.py" "$records" "$out/revoked.parquet" "$out/flagged.parquet" "$at" 2
