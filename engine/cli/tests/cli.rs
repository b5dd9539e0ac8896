//! The `crlbatch` binary end to end: generated PKI, exit codes, one-line
//! errors, JSON outputs, and agreement with OpenSSL.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

mod common;

const AT: &str = "2026-11-26T03:00:00Z";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_crlbatch"));
    c.env("CRLBATCH_LOG_FORMAT", "text");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// A generated PKI shared by the tests of this file (2,000 entries per CA).
fn pki() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, p) = DIR.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("pki");
        let o = run(&["gen", "--out", p.to_str().unwrap(), "--seed", "11", "--entries", "2000"]);
        assert!(o.status.success(), "{}", stderr(&o));
        (d, p)
    });
    p
}

/// `crlbatch index --ca CA --crl CRL --out OUT --at AT` on the shared PKI.
fn index_into(ca: &str, crl: &str, out: &Path, at: &str) -> Output {
    run(&["index", "--ca", &file(ca), "--crl", &file(crl), "--out", out.to_str().unwrap(), "--at", at])
}

fn file(rel: &str) -> String {
    pki().join(rel).to_str().unwrap().to_owned()
}

fn gen_json() -> Value {
    serde_json::from_slice(&std::fs::read(pki().join("gen.json")).unwrap()).unwrap()
}

#[test]
fn inspect_json_summary() {
    let o = run(&["inspect", &file("crl/sign-2023.crl"), "--ca", &file("ca/sign-2023.der"), "--at", AT, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    common::assert_valid("inspect.schema.json", &v);
    let g = gen_json();
    common::assert_valid("gen.schema.json", &g);
    let ca = g["cas"].as_array().unwrap().iter().find(|c| c["name"] == "sign-2023").unwrap();
    assert_eq!(
        v["issuer"],
        "C=JP, O=JPKI, OU=JPKI for digital signature, OU=Japan Agency for Local Authority Information Systems"
    );
    assert_eq!(v["authority_key_id"], ca["kid"]);
    assert_eq!(v["crl_number"], 1);
    assert_eq!(v["this_update"], "2026-11-25T15:00:00Z");
    assert_eq!(v["next_update"], "2026-11-26T15:00:00Z");
    assert_eq!(v["entries"], 2000);
    assert_eq!(v["signature"], "valid");
    assert_eq!(v["delta"], false);
    assert_eq!(v["idp"], Value::Null);
    assert_eq!(v["fresh"], true);
    let reasons = v["reasons"].as_object().unwrap();
    let total: u64 =
        reasons.values().map(|n| n.as_u64().unwrap()).sum::<u64>() + v["entries_without_reason"].as_u64().unwrap();
    assert_eq!(total, 2000);
    // affiliationChanged dominates a signing CRL.
    let ac = reasons["affiliationChanged"].as_u64().unwrap();
    assert!(reasons.values().all(|n| n.as_u64().unwrap() <= ac));
    // Without --ca the signature is not checked.
    let o = run(&["inspect", &file("crl/auth-2023.crl"), "--json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["signature"], "not_checked");
    assert!(v["reasons"]["certificateHold"].as_u64().unwrap() > 0);
}

#[test]
fn inspect_exit_codes_and_one_line_errors() {
    // Wrong CA generation: data error, one line.
    let o = run(&["inspect", &file("crl/sign-2023.crl"), "--ca", &file("ca/sign-2019.der"), "--at", AT]);
    assert_eq!(o.status.code(), Some(65));
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.starts_with("crlbatch: error: ") && e.contains("authorityKeyIdentifier"), "{e}");
    // Stale: temporary failure.
    let o = run(&[
        "inspect",
        &file("crl/sign-2023.crl"),
        "--ca",
        &file("ca/sign-2023.der"),
        "--at",
        "2026-11-27T00:00:00Z",
    ]);
    assert_eq!(o.status.code(), Some(75));
    assert!(stderr(&o).contains("stale CRL (nextUpdate 2026-11-26T15:00:00Z)"));
    // Malformed: data error naming the byte.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.crl");
    let mut bytes = std::fs::read(file("crl/sign-2023.crl")).unwrap();
    bytes.truncate(5000);
    std::fs::write(&bad, &bytes).unwrap();
    let o = run(&["inspect", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(65));
    assert!(stderr(&o).contains("CRL is truncated: the structure needs"), "{}", stderr(&o));
    // HTML instead of a CRL.
    std::fs::write(&bad, b"<html>503</html>").unwrap();
    let o = run(&["inspect", bad.to_str().unwrap()]);
    assert_eq!(
        stderr(&o),
        format!(
            "crlbatch: error: {}: not a DER CRL: the first byte is 0x3c, expected 0x30 (SEQUENCE)\n",
            bad.display()
        )
    );
    // Missing file.
    let o = run(&["inspect", "/nonexistent/x.crl"]);
    assert_eq!(o.status.code(), Some(66));
}

#[test]
fn index_then_status_matches_inspect_and_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("idx");
    let o = run(&[
        "index",
        "--ca",
        &file("ca/sign-2023.der"),
        "--crl",
        &file("crl/sign-2023.crl"),
        "--out",
        out.to_str().unwrap(),
        "--at",
        AT,
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    common::assert_valid("index-summary.schema.json", &v);
    assert_eq!(v["entries"], 2000);
    let kid = v["issuer_kid"].as_str().unwrap().to_owned();
    assert!(Path::new(v["path"].as_str().unwrap()).ends_with(format!("{kid}.crlidx")));
    // By default the signed content identifies the CRL; the file's SHA-256
    // only on request (a second hash pass).
    assert!(v["crls"][0]["sha256"].is_null(), "{v}");
    assert_eq!(v["crls"][0]["tbs_digest"].as_str().unwrap().len(), 64);
    let o = run(&[
        "index",
        "--ca",
        &file("ca/sign-2023.der"),
        "--crl",
        &file("crl/sign-2023.crl"),
        "--out",
        dir.path().join("idx-sha").to_str().unwrap(),
        "--at",
        AT,
        "--json",
        "--file-digest",
        "sha256",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let w: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let dgst = Command::new("openssl").args(["dgst", "-sha256", "-r", &file("crl/sign-2023.crl")]).output().unwrap();
    let dgst = String::from_utf8(dgst.stdout).unwrap();
    assert_eq!(w["crls"][0]["sha256"].as_str().unwrap(), dgst.split_whitespace().next().unwrap());
    assert_eq!(w["crls"][0]["tbs_digest"], v["crls"][0]["tbs_digest"]);

    // Serials and reasons as OpenSSL prints them.
    let text = Command::new("openssl")
        .args(["crl", "-inform", "DER", "-noout", "-text", "-in", &file("crl/sign-2023.crl")])
        .output()
        .expect("openssl is installed by .ci/run");
    let text = String::from_utf8(text.stdout).unwrap();
    let mut expected: Vec<(String, Option<String>)> = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(l) = lines.next() {
        if let Some(s) = l.trim().strip_prefix("Serial Number: ") {
            let mut reason = None;
            while let Some(n) = lines.peek() {
                if n.trim().starts_with("Serial Number:") {
                    break;
                }
                let n = lines.next().unwrap();
                if n.contains("CRL Reason Code") {
                    reason = Some(lines.next().unwrap().trim().to_owned());
                }
            }
            expected.push((s.to_ascii_lowercase(), reason));
        }
    }
    assert_eq!(expected.len(), 2000);
    let list = dir.path().join("serials.txt");
    std::fs::write(&list, expected.iter().map(|(s, _)| s.clone() + "\n").collect::<String>()).unwrap();
    let o = run(&[
        "status",
        "--index",
        out.to_str().unwrap(),
        "--at",
        AT,
        "--serials-from",
        list.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let openssl_name = |r: &str| -> &'static str {
        match r {
            "Affiliation Changed" => "affiliationChanged",
            "Cessation Of Operation" => "cessationOfOperation",
            "Superseded" => "superseded",
            "Key Compromise" => "keyCompromise",
            "Certificate Hold" => "certificateHold",
            "Unspecified" => "unspecified",
            other => panic!("unexpected reason {other}"),
        }
    };
    for (line, (serial, reason)) in stdout(&o).lines().zip(&expected) {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["status"], "revoked");
        assert_eq!(v["serial"].as_str().unwrap(), serial.trim_start_matches('0'));
        assert_eq!(v["reason"].as_str(), reason.as_deref().map(openssl_name));
    }
    // OpenSSL agrees that the signature verifies.
    let pem = dir.path().join("ca.pem");
    let conv = Command::new("openssl")
        .args(["x509", "-inform", "DER", "-in", &file("ca/sign-2023.der"), "-out", pem.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(conv.status.success());
    let ver = Command::new("openssl")
        .args(["crl", "-inform", "DER", "-noout", "-in", &file("crl/sign-2023.crl"), "-CAfile", pem.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&ver.stderr).contains("verify OK"), "{:?}", ver);
}

#[test]
fn status_verdicts_and_serial_forms() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("idx");
    let o = index_into("ca/auth-2023.der", "crl/auth-2023.crl", &out, AT);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["inspect", &file("crl/auth-2023.crl"), "--json"]);
    assert!(o.status.success());
    // The first listed serial, in several input forms, and its neighbour.
    let text = Command::new("openssl")
        .args(["crl", "-inform", "DER", "-noout", "-text", "-in", &file("crl/auth-2023.crl")])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    let first = text.lines().find_map(|l| l.trim().strip_prefix("Serial Number: ")).unwrap().to_ascii_lowercase();
    let n = u64::from_str_radix(&first, 16).unwrap();
    let upper_colons = first
        .to_ascii_uppercase()
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(":");
    let padded = format!("0000{first}");
    let next = format!("{:x}", n - 1);
    let o = run(&[
        "status",
        "--index",
        out.to_str().unwrap(),
        "--at",
        AT,
        "--json",
        "--serial",
        &first,
        &upper_colons,
        &padded,
        &next,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for v in &lines {
        common::assert_valid("status.schema.json", v);
    }
    for v in &lines[..3] {
        assert_eq!(v["serial"], first.as_str());
        assert_eq!(v["status"], "revoked");
        assert!(v["revocation_time"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(lines[3]["status"], "good");
    assert_eq!(lines[3]["reason"], Value::Null);
    assert_eq!(lines[3]["detail"], Value::Null);
    // Stale at a later time: unknown with the reason.
    let o = run(&[
        "status",
        "--index",
        out.to_str().unwrap(),
        "--at",
        "2026-11-28T00:00:00Z",
        "--json",
        "--serial",
        &first,
    ]);
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["status"], "unknown");
    assert_eq!(v["detail"], "stale CRL (nextUpdate 2026-11-26T15:00:00Z)");
    // From CRLs directly, with a CA of the other generation: unknown, never good.
    let o = run(&[
        "status",
        "--ca",
        &file("ca/auth-2019.der"),
        "--crl",
        &file("crl/auth-2023.crl"),
        "--at",
        AT,
        "--json",
        "--serial",
        &next,
    ]);
    assert!(o.status.success());
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["status"], "unknown");
    assert!(v["detail"].as_str().unwrap().starts_with("CRL does not verify"));
    // A malformed serial names its position, not its value.
    let o = run(&["status", "--index", out.to_str().unwrap(), "--serial", "12", "xyz"]);
    assert_eq!(o.status.code(), Some(65));
    assert_eq!(stderr(&o), "crlbatch: error: --serial #2: serial number is not hexadecimal\n");
    // A serials file: comments and blank lines skipped, positions by line,
    // an overlong line refused without reading it whole.
    let list = dir.path().join("serials.txt");
    std::fs::write(&list, format!("# header\n\n{first}\nzz\n")).unwrap();
    let o = run(&["status", "--index", out.to_str().unwrap(), "--serials-from", list.to_str().unwrap()]);
    assert_eq!(stderr(&o), format!("crlbatch: error: {} line 4: serial number is not hexadecimal\n", list.display()));
    std::fs::write(&list, "0".repeat(100_000)).unwrap();
    let o = run(&["status", "--index", out.to_str().unwrap(), "--serials-from", list.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(65));
    assert_eq!(stderr(&o), format!("crlbatch: error: {} line 1: line too long\n", list.display()));
}

#[test]
fn corrupt_index_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("idx");
    let o = index_into("ca/sign-2019.der", "crl/sign-2019.crl", &out, AT);
    assert!(o.status.success(), "{}", stderr(&o));
    let path = std::fs::read_dir(&out).unwrap().next().unwrap().unwrap().path();
    let mut bytes = std::fs::read(&path).unwrap();
    // The metadata header is the documented JSON.
    let meta_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let meta: Value = serde_json::from_slice(&bytes[16..16 + meta_len]).unwrap();
    common::assert_valid("index-meta.schema.json", &meta);
    assert_eq!(&bytes[..8], b"CRLBIDX\0");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let o = run(&["status", "--index", out.to_str().unwrap(), "--at", AT, "--serial", "1"]);
    assert_eq!(o.status.code(), Some(65));
    assert!(stderr(&o).contains("index file is corrupt (checksum"), "{}", stderr(&o));
}

#[test]
fn index_refuses_stale_and_foreign_crls_and_keeps_the_previous_index() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("idx");
    let o = index_into("ca/sign-2023.der", "crl/sign-2023.crl", &out, AT);
    assert!(o.status.success());
    let path = std::fs::read_dir(&out).unwrap().next().unwrap().unwrap().path();
    let before = std::fs::read(&path).unwrap();
    let o = index_into("ca/sign-2023.der", "crl/sign-2023.crl", &out, "2026-12-01T00:00:00Z");
    assert_eq!(o.status.code(), Some(75));
    let o = index_into("ca/sign-2023.der", "crl/sign-2019.crl", &out, AT);
    assert_eq!(o.status.code(), Some(65));
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1, "no temporary files left behind");
    // Into a folder that did not exist: a rejected CRL leaves no folder (it
    // is made before the parse, for the index file written during it).
    let fresh = dir.path().join("fresh");
    let o = index_into("ca/sign-2023.der", "crl/sign-2019.crl", &fresh, AT);
    assert_eq!(o.status.code(), Some(65));
    assert!(!fresh.exists());
}

#[test]
fn gen_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    for p in [&a, &b] {
        let o = run(&[
            "gen",
            "--out",
            p.to_str().unwrap(),
            "--seed",
            "5",
            "--entries",
            "300",
            "--partitions",
            "3",
            "--only",
            "auth-2019",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    for rel in ["gen.json", "ca/auth-2019.der", "crl/auth-2019/p0001.crl", "crl/auth-2019/p0003.crl"] {
        assert_eq!(std::fs::read(a.join(rel)).unwrap(), std::fs::read(b.join(rel)).unwrap(), "{rel}");
    }
    let o = run(&["inspect", a.join("crl/auth-2019/p0002.crl").to_str().unwrap(), "--json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v["idp"]["distribution_point"][0],
        "DirName:C=JP, O=JPKI, OU=JPKI for user authentication, OU=CRL Distribution Points, OU=Aomori, CN=City0002 CRLDP"
    );
    // Partitions index together.
    let parts: Vec<String> =
        (1..=3).map(|i| a.join(format!("crl/auth-2019/p{i:04}.crl")).to_str().unwrap().to_owned()).collect();
    let out = dir.path().join("idx");
    let mut args = vec![
        "index",
        "--ca",
        a.join("ca/auth-2019.der").to_str().unwrap().to_owned().leak() as &str,
        "--out",
        out.to_str().unwrap(),
        "--at",
        AT,
        "--json",
        "--crl",
    ];
    for p in &parts {
        args.push(p);
    }
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["entries"], 300);
    assert_eq!(v["crls"].as_array().unwrap().len(), 3);
}

#[test]
fn bundled_sample_is_what_gen_makes() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["gen", "--out", dir.path().to_str().unwrap(), "--records", "10000"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sample = common::repo().join("data/sample");
    for rel in [
        "records/part-00000.parquet",
        "expected/expected.parquet",
        "gen.json",
        "ca/sign-2019.der",
        "ca/sign-2023.der",
        "ca/auth-2019.der",
        "ca/auth-2023.der",
        "crl/sign-2019.crl",
        "crl/sign-2023.crl",
        "crl/auth-2019.crl",
        "crl/auth-2023.crl",
    ] {
        let same = std::fs::read(dir.path().join(rel)).unwrap() == std::fs::read(sample.join(rel)).unwrap();
        assert!(same, "data/sample/{rel} differs from `crlbatch gen --out DIR --records 10000`");
    }
}

#[test]
fn bundled_job_file_validates() {
    let o = run(&["validate", common::repo().join("jobs/nightly-type2.toml").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("ok: job \"nightly-type2\", 4 CA(s)"), "{}", stdout(&o));
    let o = run(&["validate", common::repo().join("jobs/nightly-type2-http.toml").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("ok: job \"nightly-type2-http\", 4 CA(s)"), "{}", stdout(&o));
}

#[test]
fn diff_json_lines_follow_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for (out, crl) in [(&a, "crl/auth-2019.crl"), (&b, "crl/auth-2019.crl")] {
        let o = run(&[
            "index",
            "--ca",
            &file("ca/auth-2019.der"),
            "--crl",
            &file(crl),
            "--out",
            out.to_str().unwrap(),
            "--at",
            AT,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let ia = std::fs::read_dir(&a).unwrap().next().unwrap().unwrap().path();
    let ib = std::fs::read_dir(&b).unwrap().next().unwrap().unwrap().path();
    let o = run(&["diff", ia.to_str().unwrap(), ib.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "identical snapshots: only the summary");
    common::assert_valid("diff.schema.json", &lines[0]);
    assert_eq!(lines[0]["summary"]["added"], 0);
    assert_eq!(lines[0]["summary"]["removed"], 0);
}

/// jobs/deploy/: each example runs the bundled HTTP job with a command line
/// this binary accepts, never two runs at once, in Japan time.
#[test]
fn deployment_examples_run_the_bundled_job() {
    let deploy = common::repo().join("jobs/deploy");
    let read = |f: &str| std::fs::read_to_string(deploy.join(f)).unwrap();
    let job = "/etc/crlbatch/nightly-type2-http.toml";
    assert!(common::repo().join("jobs/nightly-type2-http.toml").exists());
    // The command each example runs, checked against this binary's parser.
    let accepted = |args: &[&str]| {
        let mut a = args.to_vec();
        a.push("--help");
        let o = run(&a);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    };
    let service = read("crlbatch-nightly.service");
    let exec = service.lines().find_map(|l| l.strip_prefix("ExecStart=")).unwrap();
    assert_eq!(exec, format!("/usr/local/bin/crlbatch run {job}"));
    assert!(service.contains("Type=oneshot"));
    accepted(&["run", job]);
    let timer = read("crlbatch-nightly.timer");
    assert!(timer.contains("OnCalendar=*-*-* 02:30:00 Asia/Tokyo"));
    assert!(timer.contains("Persistent=true"));
    let cron = read("cronjob.yaml");
    for want in [
        "kind: CronJob",
        "schedule: \"30 2 * * *\"",
        "timeZone: \"Asia/Tokyo\"",
        "concurrencyPolicy: Forbid",
        "restartPolicy: Never",
        &format!("args: [\"run\", \"{job}\"]"),
        "values: [2, 65, 66, 69, 70, 73, 78]",
    ] {
        assert!(cron.contains(want), "cronjob.yaml lacks {want}");
    }
    let indexed = read("indexed-job.yaml");
    for want in [
        "completionMode: Indexed",
        "completions: 4",
        "parallelism: 4",
        "{name: CRLBATCH_SHARDS, value: \"4\"}",
        "concurrencyPolicy: Forbid",
        "timeZone: \"Asia/Tokyo\"",
        &format!("args: [\"run\", \"{job}\"]"),
    ] {
        assert!(indexed.contains(want), "indexed-job.yaml lacks {want}");
    }
    // The variables it sets are ones the binary reads.
    for var in ["CRLBATCH_SHARDS", "CRLBATCH_OUTPUT_DIR", "CRLBATCH_RECORDS"] {
        assert!(stdout(&run(&["run", "--help"])).contains(var) || crlbatch_job_reads(var), "{var}");
    }
    let crontab = read("crontab");
    let line = crontab.lines().find(|l| l.starts_with("30 2 * * *")).unwrap();
    assert!(
        line.contains(&format!("flock -n /var/lib/crlbatch/cron.lock /usr/local/bin/crlbatch run {job} ")),
        "{line}"
    );
    assert!(crontab.contains("CRON_TZ=Asia/Tokyo"));
}

/// Variables read by `Job::load` (documented in the README's operator reference).
fn crlbatch_job_reads(var: &str) -> bool {
    let config = std::fs::read_to_string(common::repo().join("engine/job/src/config.rs")).unwrap();
    config.contains(&format!("= \"{var}\";"))
}

#[test]
fn shell_completions_cover_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let o = run(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let text = stdout(&o);
        for cmd in ["run", "schedule", "index", "status", "inspect", "validate"] {
            assert!(text.contains(cmd), "{shell} completion lacks {cmd}");
        }
    }
    let o = std::process::Command::new("bash")
        .args(["-n", "-c", &stdout(&run(&["completions", "bash"]))])
        .output()
        .unwrap();
    assert!(o.status.success(), "bash -n: {}", stderr(&o));
}
