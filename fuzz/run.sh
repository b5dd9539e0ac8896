#!/usr/bin/env bash
# Run every fuzz target for SECONDS each (default 30) on the stable
# toolchain (cargo fuzz, no sanitizer). Seeds: fuzz/seeds/<target>
# (committed); the growing corpus: fuzz/corpus/<target> (not committed).
# Seeds: the generator (small CRLs, the first 300 entries of each sample CRL,
# indexes, records), the jobs, an OpenSSL
# CRL and every malformed fixture of engine/crl/tests/bad (kept in sync by a
# test). A crash stops the run, with the input in fuzz/artifacts/<target>/: turn it
# into a fixture with a test, fix, and keep it.
#
#   fuzz/run.sh            # 30 s per target (what .ci/run does)
#   fuzz/run.sh 600        # 10 minutes per target
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-30}"
command -v cargo-fuzz >/dev/null || cargo install --locked --quiet cargo-fuzz
export CARGO_TARGET_DIR="${CRLBATCH_FUZZ_TARGET_DIR:-$HOME/.cache/crlbatch/target-fuzz}"
mkdir -p logs
for t in crl_parse entries index_load job_file records keys_load; do
    mkdir -p "corpus/$t"
    if ! cargo fuzz run -s none "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"logs/$t.log" 2>&1; then
        tail -40 "logs/$t.log" >&2
        echo "fuzz/run.sh: $t found a crash (see fuzz/artifacts/$t/)" >&2
        exit 1
    fi
    runs=$(grep -m1 '^stat::number_of_executed_units' "logs/$t.log" | awk '{print $2}')
    echo "fuzz/run.sh: $t: ${runs:-?} executions in ${secs} s, no crash"
done
