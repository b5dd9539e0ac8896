//! `crlbatch run` end to end on generated records: outputs read back with
//! DuckDB and pyarrow (tests/py/check_job.py) against the generator's ground
//! truth; re-runs, stale and rejected CRLs, and every bad-input case.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const AT: &str = "2026-11-26T03:00:00Z";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crlbatch")).env("CRLBATCH_LOG_FORMAT", "text").args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn python(args: &[&str]) -> Output {
    Command::new("python3").args(args).output().expect("python3 with duckdb and pyarrow (scripts/test installs them)")
}

const JOB: &str = r#"
name = "nightly-test"
schedule = "30 2 * * *"
timezone = "Asia/Tokyo"

[[ca]]
name = "sign-2023"
cert = "ca/sign-2023.der"
crl = ["crl/sign-2023.crl"]

[[ca]]
name = "sign-2019"
cert = "ca/sign-2019.der"
crl = ["crl/sign-2019.crl"]

[[ca]]
name = "auth-2023"
cert = "ca/auth-2023.der"
crl = ["crl/auth-2023.crl"]

[[ca]]
name = "auth-2019"
cert = "ca/auth-2019.der"
crl = ["crl/auth-2019.crl"]

[input]
records = "records"

[output]
dir = "out"
"#;

/// A generated PKI with records and a job file in a fresh folder.
fn setup(records: u64, files: usize) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().to_owned();
    let o = run(&[
        "gen",
        "--out",
        root.to_str().unwrap(),
        "--seed",
        "3",
        "--entries",
        "5000",
        "--records",
        &records.to_string(),
        "--record-files",
        &files.to_string(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(root.join("job.toml"), JOB).unwrap();
    (d, root)
}

fn manifest(root: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(root.join("out/_manifest.json")).unwrap()).unwrap()
}

fn duck(sql: &str) -> String {
    let o = python(&["-c", &format!("import duckdb; print(duckdb.sql(\"\"\"{sql}\"\"\").fetchall())")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

#[test]
fn run_matches_ground_truth_and_reruns_cleanly() {
    let (_d, root) = setup(30_000, 3);
    let job = root.join("job.toml");
    let o = run(&["run", job.to_str().unwrap(), "--at", AT]);
    assert!(o.status.success(), "{}", stderr(&o));
    let log = root.join("run.log");
    std::fs::write(&log, &o.stderr).unwrap();
    let check = common::repo().join("engine/cli/tests/py/check_job.py");
    let out = root.join("out");
    let expected = root.join("expected/expected.parquet");
    let schemas = common::repo().join("schemas");
    let c = python(&[
        check.to_str().unwrap(),
        out.to_str().unwrap(),
        expected.to_str().unwrap(),
        schemas.to_str().unwrap(),
        "2026-11-26",
        log.to_str().unwrap(),
    ]);
    let report = String::from_utf8_lossy(&c.stdout).into_owned();
    assert!(c.status.success(), "{report}\n{}", String::from_utf8_lossy(&c.stderr));
    let v: Value = serde_json::from_str(report.trim()).unwrap();
    assert!(v["attention"].as_u64().unwrap() > 5_000, "{v}");
    assert!(v["rejects"].as_u64().unwrap() > 50, "{v}");
    assert_eq!(
        v["errors"],
        serde_json::json!([
            "missing required value",
            "serial number has 21 octets of magnitude (maximum 20)",
            "serial number is not hexadecimal"
        ])
    );

    let m1 = manifest(&root);
    common::assert_valid("manifest.schema.json", &m1);
    assert_eq!(m1["exit_code"], 0);
    assert_eq!(m1["run_date"], "2026-11-26");
    assert_eq!(m1["counts"]["records"], 30_000);
    assert_eq!(m1["input"]["files"].as_array().unwrap().len(), 3);
    assert!(m1["issuers"].as_array().unwrap().iter().all(|i| i["index"] == "built" && i["usable"] == true));
    assert_eq!(m1["counts"]["new_since_previous_run"], m1["counts"]["attention"]);
    let run1 = m1["run_id"].as_str().unwrap().to_owned();

    // Same date again: the partition is replaced, indexes are reused, and
    // nothing is new since the previous run.
    let o = run(&["run", job.to_str().unwrap(), "--at", "2026-11-26T05:00:00Z"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m2 = manifest(&root);
    assert_ne!(m2["run_id"], run1.as_str());
    assert!(m2["issuers"].as_array().unwrap().iter().all(|i| i["index"] == "reused"), "{}", m2["issuers"]);
    assert_eq!(m2["counts"]["new_since_previous_run"], 0);
    assert_eq!(m2["counts"]["attention"], m1["counts"]["attention"]);
    let res = format!("read_parquet('{}/results/*/*.parquet', hive_partitioning=true)", out.display());
    assert_eq!(
        duck(&format!("select count(distinct run_id), min(run_id) = '{}', count(*) filter (where new_since_previous_run) from {res}", m2["run_id"].as_str().unwrap())),
        "[(1, True, 0)]"
    );
    // No staging left behind.
    assert_eq!(std::fs::read_dir(out.join(".staging")).map(|d| d.count()).unwrap_or(0), 0);
    // The per-date manifest equals the latest one.
    let dated: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifests/run_date=2026-11-26/_manifest.json")).unwrap())
            .unwrap();
    assert_eq!(dated["run_id"], m2["run_id"]);
}

#[test]
fn stale_and_rejected_crls_never_give_good() {
    let (_d, root) = setup(3_000, 1);
    let job = root.join("job.toml");
    // After nextUpdate every verdict needs a fresh CRL: unknown or expired.
    let o = run(&["run", job.to_str().unwrap(), "--at", "2026-11-28T00:00:00Z"]);
    assert_eq!(o.status.code(), Some(75), "{}", stderr(&o));
    let out = root.join("out");
    let res = format!("read_parquet('{}/results/*/*.parquet', hive_partitioning=true)", out.display());
    assert_eq!(
        duck(&format!("select count(*) filter (where auth_status in ('good', 'revoked') or sign_status in ('good', 'revoked')) from {res}")),
        "[(0,)]"
    );
    assert_eq!(
        duck(&format!("select count(*) filter (where auth_status = 'unknown' and detail like 'auth: stale CRL (nextUpdate 2026-11-26T15:00:00Z)%') > 2000 from {res}")),
        "[(True,)]"
    );
    let m = manifest(&root);
    common::assert_valid("manifest.schema.json", &m);
    assert_eq!(m["status"], "stale_crl");
    assert_eq!(m["run_date"], "2026-11-28");

    // A tampered CRL on the next day: rejected, the last good one is kept.
    let crl = root.join("crl/auth-2023.crl");
    let mut bytes = std::fs::read(&crl).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0x01; // inside the signature
    std::fs::write(&crl, &bytes).unwrap();
    let o = run(&["run", job.to_str().unwrap(), "--at", AT]);
    assert_eq!(o.status.code(), Some(65), "{}", stderr(&o));
    let m = manifest(&root);
    let auth = m["issuers"].as_array().unwrap().iter().find(|i| i["name"] == "auth-2023").unwrap().clone();
    assert_eq!(auth["index"], "last_good");
    assert_eq!(auth["usable"], true);
    assert!(auth["detail"].as_str().unwrap().contains("signature does not verify"), "{auth}");

    // Without a last good index, the issuer's certificates are unknown.
    std::fs::remove_dir_all(out.join("_state")).unwrap();
    let o = run(&["run", job.to_str().unwrap(), "--at", AT]);
    assert_eq!(o.status.code(), Some(65));
    let kid = auth["kid"].as_str().unwrap();
    assert_eq!(
        duck(&format!(
            "select count(*) filter (where auth_status = 'good') = 0, count(*) filter (where auth_status = 'unknown' and detail like 'auth: CRL rejected: %signature does not verify%') > 0 from {res} where auth_issuer_kid = '{kid}'"
        )),
        "[(True, True)]"
    );
}

#[test]
fn bad_inputs_get_one_line_errors_and_publish_nothing() {
    let (_d, root) = setup(500, 1);
    let job = root.join("job.toml");
    let bad = root.join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    let script = format!(
        r#"
import pyarrow as pa, pyarrow.parquet as pq
t = pq.read_table('{records}')
pq.write_table(t.drop_columns(['auth_serial']), '{bad}/missing.parquet')
pq.write_table(t.set_column(t.schema.get_field_index('auth_serial'), 'auth_serial', pa.array(range(t.num_rows), pa.int64())), '{bad}/wrongtype.parquet')
open('{bad}/text.parquet', 'w').write('ppid,auth_serial\n1,2\n')
"#,
        records = root.join("records/part-00000.parquet").display(),
        bad = bad.display()
    );
    let o = python(&["-c", &script]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cases = [
        ("missing.parquet", 65, "missing required column \"auth_serial\""),
        ("wrongtype.parquet", 65, "column \"auth_serial\" has type Int64, expected a string"),
        ("text.parquet", 65, "not a Parquet file"),
        ("nonexistent", 66, "cannot read records"),
    ];
    for (file, code, msg) in cases {
        let path = bad.join(file);
        std::fs::write(&job, JOB.replace("records = \"records\"", &format!("records = \"{}\"", path.display())))
            .unwrap();
        let o = run(&["run", job.to_str().unwrap(), "--at", AT]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(code), "{file}: {e}");
        let last = e.lines().last().unwrap();
        assert!(
            last.starts_with("crlbatch: error: ") && last.contains(&path.display().to_string()) && last.contains(msg),
            "{file}: {last}"
        );
        assert!(!root.join("out/results").exists(), "{file}: nothing may be published");
        // Only the run lock may be there: no index, no fetched CRL.
        let indexed = std::fs::read_dir(root.join("out/_state"))
            .map(|d| d.flatten().filter(|e| e.file_name() != "run.lock").count())
            .unwrap_or(0);
        assert_eq!(indexed, 0, "{file}: a bad records input fails before any CRL is indexed");
    }
    // A job file with a typo: exit 78 with the line.
    std::fs::write(&job, JOB.replace("[output]\ndir", "[output]\ndri")).unwrap();
    let o = run(&["run", job.to_str().unwrap(), "--at", AT]);
    assert_eq!(o.status.code(), Some(78));
    assert!(stderr(&o).contains("unknown field `dri`") && stderr(&o).contains("line"), "{}", stderr(&o));
    let o = run(&["validate", job.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(78));
    std::fs::write(&job, JOB.replace("Asia/Tokyo", "Mars/Olympus")).unwrap();
    let o = run(&["validate", job.to_str().unwrap()]);
    assert!(stderr(&o).contains("timezone \"Mars/Olympus\" is not an IANA time zone"), "{}", stderr(&o));
    std::fs::write(&job, format!("{JOB}\n[check]\nkey_buffer_keys = 0\n")).unwrap();
    let o = run(&["validate", job.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(78));
    let want = format!("{}: [check] key_buffer_keys = 0: use 1024 to 268435456 (default 1048576)", job.display());
    assert!(stderr(&o).lines().any(|l| l.ends_with(&want)), "{}", stderr(&o));
    std::fs::write(&job, JOB).unwrap();
    let o = run(&["validate", job.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn emit_all_writes_every_checked_record() {
    let (_d, root) = setup(2_000, 2);
    let job = root.join("job.toml");
    let o = run(&["run", job.to_str().unwrap(), "--at", AT, "--emit", "all", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(m["counts"]["emitted"], m["counts"]["checked"]);
    assert_eq!(m["outputs"]["results"]["rows"], m["counts"]["checked"]);
    let res = format!("read_parquet('{}/out/results/*/*.parquet', hive_partitioning=true)", root.display());
    assert_eq!(duck(&format!("select count(*) = {} from {res}", m["counts"]["checked"])), "[(True,)]");
    // First run: new since the previous run exactly when the record needs
    // attention (any role not good); good records are written with false.
    let attention = "(auth_status <> 'good' or coalesce(sign_status, 'good') <> 'good')";
    let q = format!(
        "select count(*) filter (where new_since_previous_run <> {attention}), \
         count(*) filter (where new_since_previous_run), count(*) filter (where not {attention}) from {res}"
    );
    let new = m["counts"]["new_since_previous_run"].as_u64().unwrap();
    assert_eq!(new, m["counts"]["attention"].as_u64().unwrap());
    let good = m["counts"]["checked"].as_u64().unwrap() - new;
    assert!(new > 0 && good > 0);
    assert_eq!(duck(&q), format!("[(0, {new}, {good})]"));
    // The same records again: nothing is new, in the counts and in every row.
    let o = run(&["run", job.to_str().unwrap(), "--at", AT, "--emit", "all", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(m["counts"]["new_since_previous_run"], 0);
    assert_eq!(duck(&format!("select count(*) filter (where new_since_previous_run) from {res}")), "[(0,)]");
}

#[test]
fn job_files_match_the_job_schema() {
    let jobs: Vec<PathBuf> = std::fs::read_dir(common::repo().join("jobs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    assert!(!jobs.is_empty());
    for path in jobs {
        let v: toml::Value = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let json = serde_json::to_value(v).unwrap();
        common::assert_valid("job.schema.json", &json);
    }
    let test_job: toml::Value = toml::from_str(JOB).unwrap();
    common::assert_valid("job.schema.json", &serde_json::to_value(test_job).unwrap());
}

#[test]
fn a_changed_crl_with_the_same_size_and_mtime_is_noticed() {
    let (_d, root) = setup(500, 1);
    let job = root.join("job.toml");
    let o = run(&["run", job.to_str().unwrap(), "--at", AT]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Same size, same mtime (copied from a reference), different bytes.
    let crl = root.join("crl/sign-2023.crl");
    let reference = root.join("reference");
    std::fs::copy(&crl, &reference).unwrap();
    let mut bytes = std::fs::read(&crl).unwrap();
    let n = bytes.len();
    bytes[n - 20] ^= 0x01;
    std::fs::write(&crl, &bytes).unwrap();
    let touch = Command::new("touch").arg("-r").arg(&reference).arg(&crl).status().unwrap();
    assert!(touch.success());
    let o = run(&["run", job.to_str().unwrap(), "--at", AT]);
    assert_eq!(o.status.code(), Some(65), "{}", stderr(&o));
    let m = manifest(&root);
    let sign = m["issuers"].as_array().unwrap().iter().find(|i| i["name"] == "sign-2023").unwrap().clone();
    assert_eq!(sign["index"], "last_good", "{sign}");
    // Restoring the original bytes (new ctime, same content): reused after a hash check.
    std::fs::copy(&reference, &crl).unwrap();
    let o = run(&["run", job.to_str().unwrap(), "--at", AT]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = manifest(&root);
    assert!(m["issuers"].as_array().unwrap().iter().all(|i| i["index"] == "reused"), "{}", m["issuers"]);
}

/// Found by fuzzing (fuzz/fuzz_targets/records.rs): a Parquet page whose
/// definition levels run past their buffer made the arrow decoder panic.
/// Now: one line naming the file and row group, exit 65, nothing published.
#[test]
fn corrupt_parquet_pages_are_an_error_not_a_crash() {
    let (_d, root) = setup(10, 1);
    let records = root.join("records");
    std::fs::remove_dir_all(&records).unwrap();
    std::fs::create_dir_all(&records).unwrap();
    let bad = records.join("corrupt.parquet");
    std::fs::copy(common::repo().join("engine/cli/tests/fixtures/records-corrupt-def-levels.parquet"), &bad).unwrap();
    let o = run(&["run", root.join("job.toml").to_str().unwrap(), "--at", AT]);
    assert_eq!(o.status.code(), Some(65), "{}", stderr(&o));
    assert_eq!(
        stderr(&o).lines().last().unwrap(),
        format!(
            "crlbatch: error: {}: row group 0: malformed Parquet data (the decoder failed: offset + len out of bounds)",
            bad.display()
        )
    );
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert!(!root.join("out/results").exists());

    // A dictionary page declaring 2,013,265,920 values in 1,440 bytes: the
    // decoder would reserve 32 GB for the string views and the process
    // would abort (a fuzz find); refused before decoding.
    std::fs::copy(common::repo().join("engine/cli/tests/fixtures/records-dictionary-count-overflow.parquet"), &bad)
        .unwrap();
    let o = run(&["run", root.join("job.toml").to_str().unwrap(), "--at", AT]);
    assert_eq!(o.status.code(), Some(65), "{}", stderr(&o));
    assert_eq!(
        stderr(&o).lines().last().unwrap(),
        format!(
            "crlbatch: error: {}: row group 0: malformed Parquet data: column \"ppid\": dictionary page declares \
             2013265920 values in 1440 bytes",
            bad.display()
        )
    );
    assert!(!root.join("out/results").exists());
}

/// `output.metrics`: a Prometheus text file, valid exposition format, with
/// the run's figures; the last success time survives a failing run.
#[test]
fn metrics_file_follows_the_exposition_format_and_the_manifest() {
    let (_d, root) = setup(2_000, 1);
    let job = root.join("job.toml");
    let text = std::fs::read_to_string(&job)
        .unwrap()
        .replace("dir = \"out\"", "dir = \"out\"\nmetrics = \"metrics/crlbatch.prom\"");
    std::fs::write(&job, text).unwrap();
    let o = run(&["run", job.to_str().unwrap(), "--at", AT]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = manifest(&root);
    let prom = std::fs::read_to_string(root.join("metrics/crlbatch.prom")).unwrap();
    // Every line: a HELP/TYPE comment or `name{labels} value`.
    let mut samples: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
    for line in prom.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (key, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = key.split_once('{').unwrap();
        assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{line}");
        assert!(labels.ends_with('}') && labels.contains("job=\"nightly-test\""), "{line}");
        samples.insert(key.to_owned(), value.parse().unwrap());
    }
    let get = |k: &str| *samples.get(k).unwrap_or_else(|| panic!("{k} missing in\n{prom}"));
    assert_eq!(get("crlbatch_run_exit_code{job=\"nightly-test\"}"), 0.0);
    assert_eq!(
        get("crlbatch_records{job=\"nightly-test\",outcome=\"checked\"}"),
        m["counts"]["checked"].as_f64().unwrap()
    );
    assert_eq!(
        get("crlbatch_records{job=\"nightly-test\",outcome=\"attention\"}"),
        m["counts"]["attention"].as_f64().unwrap()
    );
    let finished = get("crlbatch_run_last_completion_timestamp_seconds{job=\"nightly-test\"}");
    assert_eq!(get("crlbatch_run_last_success_timestamp_seconds{job=\"nightly-test\"}"), finished);
    let kid = m["issuers"][0]["kid"].as_str().unwrap();
    let name = m["issuers"][0]["name"].as_str().unwrap();
    assert_eq!(get(&format!("crlbatch_issuer_usable{{job=\"nightly-test\",issuer=\"{name}\",kid=\"{kid}\"}}")), 1.0);
    let src = m["issuers"][0]["crls"][0]["source"].as_str().unwrap();
    // thisUpdate 2026-11-25T15:00Z, evaluation 2026-11-26T03:00Z: 12 hours old.
    assert_eq!(
        get(&format!(
            "crlbatch_crl_age_seconds{{job=\"nightly-test\",issuer=\"{name}\",kid=\"{kid}\",source=\"{src}\"}}"
        )),
        43_200.0
    );
    let verdicts: f64 = samples.iter().filter(|(k, _)| k.starts_with("crlbatch_verdicts{")).map(|(_, v)| v).sum();
    assert!(verdicts >= m["counts"]["checked"].as_f64().unwrap());
    // A run that does not succeed (stale CRLs) keeps the last success time.
    let o = run(&["run", job.to_str().unwrap(), "--at", "2026-11-28T03:00:00Z"]);
    assert_eq!(o.status.code(), Some(75), "{}", stderr(&o));
    let prom2 = std::fs::read_to_string(root.join("metrics/crlbatch.prom")).unwrap();
    assert!(
        prom2.contains(&format!("crlbatch_run_last_success_timestamp_seconds{{job=\"nightly-test\"}} {finished}")),
        "{prom2}"
    );
    assert!(prom2.contains("crlbatch_run_exit_code{job=\"nightly-test\"} 75"), "{prom2}");
    // No personal data: no PPID-like 32-hex strings.
    assert!(!prom2.split(|c: char| !c.is_ascii_hexdigit()).any(|w| w.len() == 32), "{prom2}");
}

#[test]
fn environment_overrides_paths_and_says_so() {
    let (_d, root) = setup(2000, 1);
    let job = root.join("job.toml");
    let elsewhere = root.join("elsewhere");
    let metrics = root.join("m.prom");
    let o = Command::new(env!("CARGO_BIN_EXE_crlbatch"))
        .env("CRLBATCH_LOG_FORMAT", "text")
        .env("CRLBATCH_OUTPUT_DIR", &elsewhere)
        .env("CRLBATCH_METRICS", &metrics)
        .env("CRLBATCH_RECORDS", "")
        .args(["run", job.to_str().unwrap(), "--at", AT])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(elsewhere.join("_manifest.json").is_file());
    assert!(!root.join("out").exists(), "the file's output.dir is not used");
    assert!(std::fs::read_to_string(&metrics).unwrap().contains("crlbatch_run_last_completion_timestamp_seconds"));
    let e = stderr(&o);
    assert!(e.contains("crlbatch: job setting overridden by the environment variable=CRLBATCH_OUTPUT_DIR"), "{e}");
    assert!(e.contains("variable=CRLBATCH_METRICS") && !e.contains("variable=CRLBATCH_RECORDS"), "{e}");

    let o = Command::new(env!("CARGO_BIN_EXE_crlbatch"))
        .env("CRLBATCH_OUTPUT_DIR", &elsewhere)
        .args(["validate", job.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("note: overridden by the environment: CRLBATCH_OUTPUT_DIR"));

    // A value that is not UTF-8 is an error, not "unset".
    let o = Command::new(env!("CARGO_BIN_EXE_crlbatch"))
        .env("CRLBATCH_LOG_FORMAT", "text")
        .env("CRLBATCH_OUTPUT_DIR", <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"/tmp/\xff"))
        .args(["run", job.to_str().unwrap(), "--at", AT])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(78), "{}", stderr(&o));
    assert!(stderr(&o).ends_with("CRLBATCH_OUTPUT_DIR is not valid UTF-8\n"), "{}", stderr(&o));

    let o = Command::new(env!("CARGO_BIN_EXE_crlbatch"))
        .env("CRLBATCH_LOG_FORMAT", "text")
        .env("CRLBATCH_TLS_CA_FILE", root.join("missing.pem"))
        .args(["run", job.to_str().unwrap(), "--at", AT])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(78), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.starts_with(&format!(
            "crlbatch: error: {}: CRLBATCH_TLS_CA_FILE={}",
            job.display(),
            root.join("missing.pem").display()
        )),
        "{e}"
    );
}

#[test]
fn string_columns_in_other_arrow_forms_give_the_same_results() {
    // Results take `ppid` and `local_user_id` straight from the input's
    // string views; a file whose Arrow schema makes them a dictionary and a
    // large string takes the copying path. Both must write the same rows.
    let (_d, root) = setup(3_000, 1);
    let o = run(&["run", root.join("job.toml").to_str().unwrap(), "--at", AT]);
    assert!(o.status.success(), "{}", stderr(&o));
    let script = format!(
        r#"
import pyarrow as pa, pyarrow.parquet as pq, os
t = pq.read_table("{root}/records")
t = t.set_column(t.schema.get_field_index("ppid"), "ppid", t["ppid"].cast(pa.string()).dictionary_encode())
t = t.set_column(t.schema.get_field_index("local_user_id"), "local_user_id", t["local_user_id"].cast(pa.large_string()))
os.makedirs("{root}/records2")
pq.write_table(t, "{root}/records2/part-00000.parquet")
print(pq.read_schema("{root}/records2/part-00000.parquet").field("ppid").type)
"#,
        root = root.display()
    );
    let c = python(&["-c", &script]);
    assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
    assert_eq!(String::from_utf8_lossy(&c.stdout).trim(), "dictionary<values=string, indices=int32, ordered=0>");
    std::fs::write(
        root.join("job2.toml"),
        JOB.replace("records = \"records\"", "records = \"records2\"").replace("dir = \"out\"", "dir = \"out2\""),
    )
    .unwrap();
    let o = run(&["run", root.join("job2.toml").to_str().unwrap(), "--at", AT]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cols = "ppid, local_user_id, auth_serial, auth_status, sign_serial, sign_status, basic_four_changed";
    let res = |out: &str| format!("select {cols} from read_parquet('{}/{out}/results/*/*.parquet')", root.display());
    let n = duck(&format!("select count(*) from ({})", res("out")));
    assert_ne!(n, "[(0,)]");
    assert_eq!(duck(&format!("select count(*) from ({})", res("out2"))), n);
    assert_eq!(duck(&format!("select count(*) from ({} except all {})", res("out"), res("out2"))), "[(0,)]");
    assert_eq!(duck(&format!("select count(*) from ({} except all {})", res("out2"), res("out"))), "[(0,)]");
    // Nulls kept as nulls.
    let nulls = |out: &str| duck(&format!("select count(*) from ({}) where local_user_id is null", res(out)));
    assert_eq!(nulls("out"), nulls("out2"));
}

/// `new_since_previous_run` is the same whether a worker's keys stay in
/// memory or spill small sorted runs (`[check] key_buffer_keys`),
/// and so is the keys file left for the next run, byte for byte.
#[test]
fn spilled_keys_give_the_same_flags_and_keys_file() {
    let (_d, root) = setup(30_000, 3);
    // Run 1 sees two of the three record files, run 2 all three: records of
    // the third file needing attention are new, the others carried over.
    let part = root.join("records-part");
    std::fs::create_dir_all(&part).unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("records")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in &files[..2] {
        std::fs::copy(f, part.join(f.file_name().unwrap())).unwrap();
    }
    let mut manifests = Vec::new();
    for (name, extra) in [("big", ""), ("small", "\n[check]\nkey_buffer_keys = 1024\n")] {
        let out = format!("dir = \"out-{name}\"");
        let first = JOB.replace("records = \"records\"", "records = \"records-part\"").replace("dir = \"out\"", &out);
        let second = JOB.replace("dir = \"out\"", &out);
        for (i, text) in [first, second].iter().enumerate() {
            let job = root.join(format!("job-{name}-{i}.toml"));
            std::fs::write(&job, format!("{text}{extra}")).unwrap();
            let o = run(&["run", job.to_str().unwrap(), "--at", AT]);
            assert!(o.status.success(), "{name} {i}: {}", stderr(&o));
            let m: Value =
                serde_json::from_slice(&std::fs::read(root.join(format!("out-{name}/_manifest.json"))).unwrap())
                    .unwrap();
            manifests.push(m["counts"].clone());
        }
        // Nothing left beside the keys file.
        let mut state: Vec<String> = std::fs::read_dir(root.join(format!("out-{name}/_state")))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("keys"))
            .collect();
        state.sort();
        assert_eq!(state, ["flagged.keys"], "{name}");
    }
    let (big, small) = (&manifests[..2], &manifests[2..]);
    assert_eq!(big, small);
    assert_eq!(big[0]["new_since_previous_run"], big[0]["attention"]);
    let (new, attention) = (big[1]["new_since_previous_run"].as_u64().unwrap(), big[1]["attention"].as_u64().unwrap());
    assert!(new > 1_000 && attention > new + 1_000, "{}", big[1]);
    assert_eq!(
        std::fs::read(root.join("out-big/_state/flagged.keys")).unwrap(),
        std::fs::read(root.join("out-small/_state/flagged.keys")).unwrap()
    );
    let res = |name: &str| {
        format!(
            "(select ppid, auth_serial, sign_serial, new_since_previous_run from read_parquet('{}/out-{name}/results/*/*.parquet'))",
            root.display()
        )
    };
    assert_eq!(
        duck(&format!(
            "select (select count(*) from {b}), (select count(*) from (select * from {b} except select * from {s})), \
             (select count(*) from {s} where new_since_previous_run)",
            b = res("big"),
            s = res("small")
        )),
        format!("[({attention}, 0, {new})]")
    );
    // Against the truth: new exactly on the records of the file run 1 did
    // not see.
    assert_eq!(
        duck(&format!(
            "select count(*) filter (where new_since_previous_run <> (ppid in (select ppid from read_parquet('{}')))) \
             from {}",
            files[2].display(),
            res("big")
        )),
        "[(0,)]"
    );
}
