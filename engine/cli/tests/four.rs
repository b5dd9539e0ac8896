//! `crlbatch four snapshot|diff` against the generator's ground truth, and
//! against certificates made by other producers (pyca/cryptography,
//! OpenSSL); outputs read back with pyarrow; no basic four value in any
//! output or log.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

const AT: &str = "2026-11-26T03:00:00Z";
const KEY: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

fn run(args: &[&str], key: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_crlbatch"));
    c.env("CRLBATCH_LOG_FORMAT", "text").env_remove("CRLBATCH_FOUR_KEY").args(args);
    if let Some(k) = key {
        c.env("CRLBATCH_FOUR_KEY", k);
    }
    c.output().unwrap()
}

fn ok(o: &Output) -> String {
    let err = common::stderr(o);
    assert!(o.status.success(), "{err}");
    err
}

/// Rows of a Parquet file (or folder) as JSON objects, read by pyarrow.
fn read_parquet(path: &Path) -> Vec<Value> {
    let script = "import json,sys,pyarrow.parquet as pq\n\
                  t=pq.read_table(sys.argv[1])\n\
                  print(json.dumps(t.to_pylist(), default=str, ensure_ascii=False))";
    let o = Command::new("python3").args(["-c", script]).arg(path).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A generated PKI with 400 PPIDs of signing certificates, both signing
/// CAs indexed at AT, a snapshot of `before/` and a diff of `after/`.
struct World {
    _dir: tempfile::TempDir,
    root: PathBuf,
    snap_log: String,
    diff_log: String,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_owned();
        let pki = root.join("pki");
        ok(&run(
            &[
                "gen",
                "--out",
                s(&pki),
                "--entries",
                "5000",
                "--four",
                "400",
                "--only",
                "sign-2019",
                "--only",
                "sign-2023",
            ],
            None,
        ));
        for ca in ["sign-2019", "sign-2023"] {
            let (cert, crl) = (pki.join(format!("ca/{ca}.der")), pki.join(format!("crl/{ca}.crl")));
            ok(&run(&["index", "--ca", s(&cert), "--crl", s(&crl), "--out", s(&root.join("idx")), "--at", AT], None));
        }
        let snap_log = ok(&run(
            &["four", "snapshot", "--certs", s(&pki.join("four/before")), "--out", s(&root.join("snap.parquet"))],
            Some(KEY),
        ));
        let diff_log = ok(&run(
            &[
                "four",
                "diff",
                "--certs",
                s(&pki.join("four/after")),
                "--snapshot",
                s(&root.join("snap.parquet")),
                "--index",
                s(&root.join("idx")),
                "--at",
                AT,
                "--out",
                s(&root.join("diff.parquet")),
            ],
            Some(KEY),
        ));
        World { _dir: dir, root, snap_log, diff_log }
    })
}

#[test]
fn diff_matches_the_ground_truth_exactly() {
    let w = world();
    let diff = read_parquet(&w.root.join("diff.parquet"));
    let expected = read_parquet(&w.root.join("pki/four/expected.parquet"));
    assert_eq!(diff.len(), 400);
    assert_eq!(expected.len(), 400);
    let by_ppid: BTreeMap<&str, &Value> = diff.iter().map(|r| (r["ppid"].as_str().unwrap(), r)).collect();
    // Sorted by PPID.
    let ppids: Vec<&str> = diff.iter().map(|r| r["ppid"].as_str().unwrap()).collect();
    assert!(ppids.windows(2).all(|p| p[0] < p[1]));
    for e in &expected {
        let d = by_ppid[e["ppid"].as_str().unwrap()];
        for col in [
            "comparison",
            "name_changed",
            "address_changed",
            "birth_date_changed",
            "gender_changed",
            "old_issuer_kid",
            "old_serial",
            "new_issuer_kid",
            "new_serial",
            "old_reason",
            "old_revoked_affiliation_changed",
        ] {
            assert_eq!(d[col], e[col], "{col} of a {} PPID", e["category"]);
        }
        let any = ["name_changed", "address_changed", "birth_date_changed", "gender_changed"]
            .iter()
            .filter_map(|c| d[c].as_bool())
            .reduce(|a, b| a || b);
        assert_eq!(d["any_changed"].as_bool(), any);
        let comparison = d["comparison"].as_str().unwrap();
        let status = d["old_status"].as_str();
        match comparison {
            "no_snapshot" => assert_eq!(status, None),
            _ => assert_eq!(status, Some(if d["old_reason"].is_null() { "good" } else { "revoked" })),
        }
        assert!(d["old_status_detail"].is_null());
    }
    // Exact figures of seed 42 (counted from four/expected.parquet by category).
    let count = |f: &dyn Fn(&Value) -> bool| diff.iter().filter(|r| f(r)).count();
    let t = |c: &'static str| move |r: &Value| r[c] == Value::Bool(true);
    assert_eq!(count(&t("name_changed")), 28);
    assert_eq!(count(&t("address_changed")), 73);
    assert_eq!(count(&t("birth_date_changed")), 3);
    assert_eq!(count(&t("gender_changed")), 3);
    assert_eq!(count(&t("any_changed")), 94);
    assert_eq!(count(&t("old_revoked_affiliation_changed")), 83);
    assert_eq!(count(&|r| r["comparison"] == "compared"), 375);
    assert_eq!(count(&|r| r["comparison"] == "no_snapshot"), 10);
    assert_eq!(count(&|r| r["comparison"] == "no_certificate"), 15);
    assert_eq!(count(&|r| r["old_reason"] == "superseded"), 17);
    // Changed, but the old certificate not (yet) on the CRL: 11 address changes.
    assert_eq!(count(&|r| r["any_changed"] == true && r["old_revoked_affiliation_changed"] == false), 11);
    assert!(
        w.diff_log.contains("name_changed=28") && w.diff_log.contains("old_revoked_affiliation_changed=83"),
        "{}",
        w.diff_log
    );
    // A sample, PPID by PPID, per category.
    for cat in ["address", "name", "name_address", "birth_date", "gender", "renewed", "address_not_listed", "unchanged"]
    {
        let e = expected.iter().find(|e| e["category"] == cat).unwrap();
        let d = by_ppid[e["ppid"].as_str().unwrap()];
        let flags: Vec<bool> = ["name_changed", "address_changed", "birth_date_changed", "gender_changed"]
            .iter()
            .map(|c| d[c].as_bool().unwrap())
            .collect();
        let want = match cat {
            "address" | "address_not_listed" => [false, true, false, false],
            "name" => [true, false, false, false],
            "name_address" => [true, true, false, false],
            "birth_date" => [false, false, true, false],
            "gender" => [false, false, false, true],
            _ => [false; 4],
        };
        assert_eq!(flags, want, "{cat}");
        let aff = matches!(cat, "address" | "name" | "name_address" | "birth_date" | "gender");
        assert_eq!(d["old_revoked_affiliation_changed"], Value::Bool(aff), "{cat}");
        assert_eq!(d["old_status"], if cat == "unchanged" || cat == "address_not_listed" { "good" } else { "revoked" });
        assert_eq!(d["old_serial"] == d["new_serial"], cat == "unchanged", "{cat}");
    }
}

#[test]
fn snapshot_rows_and_rejects() {
    let w = world();
    let snap = read_parquet(&w.root.join("snap.parquet"));
    assert_eq!(snap.len(), 390);
    let key_ids: std::collections::BTreeSet<&str> = snap.iter().map(|r| r["key_id"].as_str().unwrap()).collect();
    assert_eq!(key_ids.len(), 1);
    for r in &snap {
        for c in [
            "name_digest",
            "name_flags_digest",
            "gender_digest",
            "birth_date_digest",
            "address_digest",
            "address_flags_digest",
        ] {
            let d = r[c].as_str().unwrap();
            assert_eq!(d.len(), 64);
            assert!(d.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        }
    }
    // Equal genders give equal digests: three codes at most.
    let genders: std::collections::BTreeSet<&str> = snap.iter().map(|r| r["gender_digest"].as_str().unwrap()).collect();
    assert!(genders.len() <= 3 && genders.len() >= 2, "{}", genders.len());
    assert!(w.snap_log.contains("rows=390") && w.snap_log.contains("rejected=0"), "{}", w.snap_log);
    // The after/ rows that are not signing certificates: rejected by row, never the value.
    let rejects = read_parquet(&w.root.join("diff.rejects.parquet"));
    let expected = read_parquet(&w.root.join("pki/four/expected.parquet"));
    let mut want: Vec<i64> = expected.iter().filter_map(|e| e["reject_row"].as_i64()).collect();
    want.sort_unstable();
    let got: Vec<i64> = rejects.iter().map(|r| r["row"].as_i64().unwrap()).collect();
    assert_eq!(got, want);
    assert_eq!(got.len(), 5);
    for r in &rejects {
        assert_eq!(r["file"], "certs.parquet");
        assert_eq!(r["column_name"], "sign_cert_der");
        let e = r["error"].as_str().unwrap();
        assert!(
            e == "no basic four information (no subjectAltName otherName 1.2.392.200149.8.5.5.*): not a JPKI signing certificate"
                || e.starts_with("not a DER X.509 certificate: "),
            "{e}"
        );
    }
}

/// Every value of the basic four information in the generated certificates.
fn all_values(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for f in ["before/certs.parquet", "after/certs.parquet"] {
        let script = "import sys,pyarrow.parquet as pq\n\
                      for b in pq.read_table(sys.argv[1]).column('sign_cert_der').to_pylist(): print(b.hex())";
        let o = Command::new("python3").args(["-c", script]).arg(dir.join(f)).output().unwrap();
        for line in String::from_utf8(o.stdout).unwrap().lines() {
            let der: Vec<u8> =
                (0..line.len() / 2).map(|i| u8::from_str_radix(&line[2 * i..2 * i + 2], 16).unwrap()).collect();
            if let Ok(c) = crlbatch_four::parse_signing_cert(&der) {
                out.push(c.four.name.clone());
                out.push(c.four.address.clone());
                out.push(c.four.raw(crlbatch_four::Field::BirthDate).unwrap().to_owned());
                // The family name alone (before the ideographic space).
                out.push(c.four.name.split('\u{3000}').next().unwrap().to_owned());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn no_value_in_any_output_or_log() {
    let w = world();
    let values = all_values(&w.root.join("pki/four"));
    assert!(values.len() > 500, "{}", values.len());
    assert!(values.iter().any(|v| v.contains('𠮷') || v.contains('髙')));
    let mut text = format!("{}\n{}\n", w.snap_log, w.diff_log);
    for f in ["snap.parquet", "snap.rejects.parquet", "diff.parquet", "diff.rejects.parquet"] {
        text.push_str(&serde_json::to_string(&read_parquet(&w.root.join(f))).unwrap());
        // The raw bytes too (metadata, statistics).
        text.push_str(&String::from_utf8_lossy(&std::fs::read(w.root.join(f)).unwrap()));
    }
    for v in &values {
        // Era-coded dates are digits: only whole 9-digit runs count (digests are hex).
        let found = if v.bytes().all(|b| b.is_ascii_digit()) {
            text.match_indices(v.as_str()).any(|(i, _)| {
                let before = text[..i].chars().next_back().is_some_and(|c| c.is_ascii_hexdigit());
                let after = text[i + v.len()..].chars().next().is_some_and(|c| c.is_ascii_hexdigit());
                !before && !after
            })
        } else {
            text.contains(v.as_str())
        };
        assert!(!found, "a basic four value appears in an output or log");
    }
}

#[test]
fn the_key_is_required_checked_and_never_shown() {
    let w = world();
    let out = w.root.join("k.parquet");
    let certs = w.root.join("pki/four/before");
    let args = ["four", "snapshot", "--certs", s(&certs), "--out", s(&out)];
    let o = run(&args, None);
    assert_eq!(o.status.code(), Some(78));
    assert!(common::stderr(&o).contains("environment variable CRLBATCH_FOUR_KEY is not set"), "{}", common::stderr(&o));
    let o = run(&args, Some(&KEY[..62]));
    assert_eq!(o.status.code(), Some(78));
    assert!(common::stderr(&o).contains("the key is 31 bytes; at least 32 are needed"));
    let o = run(&args, Some("not hex at all, not base64 either"));
    assert_eq!(o.status.code(), Some(78));
    assert!(!out.exists());
    // Another key: refused before anything is written, naming both key ids, never a key.
    let other = "6b".repeat(32);
    let diff_out = w.root.join("wrong-key.parquet");
    let o = run(
        &[
            "four",
            "diff",
            "--certs",
            s(&w.root.join("pki/four/after")),
            "--snapshot",
            s(&w.root.join("snap.parquet")),
            "--index",
            s(&w.root.join("idx")),
            "--at",
            AT,
            "--out",
            s(&diff_out),
        ],
        Some(&other),
    );
    assert_eq!(o.status.code(), Some(78));
    let err = common::stderr(&o);
    assert!(err.contains("the snapshot was made with another key"), "{err}");
    assert!(!err.contains(KEY) && !err.contains(&other) && !w.snap_log.contains(KEY));
    assert!(!diff_out.exists());
    // Base64 form of the same key: same key id, accepted.
    let o = run(&args, Some("base64:WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo="));
    ok(&o);
    let a = read_parquet(&out);
    let b = read_parquet(&w.root.join("snap.parquet"));
    assert_eq!(a[0]["key_id"], b[0]["key_id"]);
    assert_eq!(a[0]["name_digest"], b[0]["name_digest"]);
}

/// Write `(ppid, sign_cert_der)` rows with pyarrow.
fn certs_parquet(path: &Path, rows: &[(&str, &Path)]) {
    let script = "import sys,pyarrow as pa,pyarrow.parquet as pq\n\
                  a=sys.argv[2:]\n\
                  pp=a[0::2]; ders=[open(p,'rb').read() for p in a[1::2]]\n\
                  pq.write_table(pa.table({'ppid':pa.array(pp,pa.string()),'sign_cert_der':pa.array(ders,pa.binary())}),sys.argv[1])";
    let mut c = Command::new("python3");
    c.args(["-c", script]).arg(path);
    for (p, d) in rows {
        c.arg(p).arg(d);
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn certificates_from_pyca_and_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let values = |addr: &str| {
        serde_json::json!({
            "1": "𠮷田\u{3000}花子", "2": "10000", "3": "2", "4": "400120229",
            "5": addr, "6": "0".repeat(addr.chars().count()), "aki": "ab".repeat(20), "serial": 0x0a1b2c3d4e5fu64
        })
    };
    let make = |name: &str, v: &Value| {
        let json = d.join(format!("{name}.json"));
        std::fs::write(&json, v.to_string()).unwrap();
        let der = d.join(format!("{name}.der"));
        let script = common::repo().join("engine/cli/tests/py/four_cert.py");
        let o = Command::new("python3").arg(script).arg(&der).arg(&json).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        der
    };
    let old = make("old", &values("京都府京都市左京区𣘺本町３丁目"));
    let mut nv = values("京都府京都市左京区𣘺本町４丁目");
    nv["serial"] = serde_json::json!(0x0a1b2c3d4e60u64);
    let new = make("new", &nv);
    // pyca: the exact values, including U+20BB7, U+3000, U+2363A; Heisei 12 in the era-year reading.
    let c = crlbatch_four::parse_signing_cert(&std::fs::read(&old).unwrap()).unwrap();
    assert_eq!(c.four.name, "𠮷田\u{3000}花子");
    assert_eq!(c.four.name_flags.as_ref().unwrap().positions(), vec![0]);
    assert_eq!(c.four.gender, crlbatch_four::Gender::Female);
    assert_eq!(
        c.four.birth_date,
        crlbatch_four::BirthDate::Date {
            era: crlbatch_four::Era::Heisei,
            date: (2000, 2, 29),
            form: crlbatch_four::YearForm::EraYear
        }
    );
    assert_eq!(c.four.address, "京都府京都市左京区𣘺本町３丁目");
    assert_eq!(c.four.address_flags.as_ref().unwrap().as_str(), "000000000000000");
    assert_eq!(c.serial.to_string(), "a1b2c3d4e5f");
    assert_eq!(c.issuer_kid.as_deref(), Some("ab".repeat(20).as_str()));
    // OpenSSL, the same layout from a config file; FORMAT:UTF8 says the text is UTF-8.
    let ossl = d.join("ossl.der");
    let fields = [
        ("1", "髙橋\u{3000}一郎"),
        ("2", "00000"),
        ("3", "1"),
        ("4", "319700101"),
        ("5", "大阪府大阪市北区梅田１丁目"),
        ("6", "0000000000000"),
    ];
    let mut cnf =
        String::from("[req]\ndistinguished_name=dn\nx509_extensions=ext\n[dn]\n[ext]\nsubjectAltName=@alt\n[alt]\n");
    for (i, (arc, v)) in fields.iter().enumerate() {
        cnf.push_str(&format!("otherName.{i}=1.2.392.200149.8.5.5.{arc};FORMAT:UTF8,UTF8:{v}\n"));
    }
    std::fs::write(d.join("ossl.cnf"), cnf).unwrap();
    let openssl = |out: &Path, extra: &[&str]| {
        let o = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/C=JP/CN=OPENSSL", "-days", "30"])
            .arg("-keyout")
            .arg(d.join("k.pem"))
            .args(["-outform", "DER", "-out"])
            .arg(out)
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    openssl(&ossl, &["-config", s(&d.join("ossl.cnf"))]);
    let c = crlbatch_four::parse_signing_cert(&std::fs::read(&ossl).unwrap()).unwrap();
    assert_eq!(c.four.name, "髙橋\u{3000}一郎");
    assert_eq!(c.four.gender, crlbatch_four::Gender::Male);
    assert_eq!(
        c.four.birth_date,
        crlbatch_four::BirthDate::Date {
            era: crlbatch_four::Era::Showa,
            date: (1970, 1, 1),
            form: crlbatch_four::YearForm::Gregorian
        }
    );
    assert_eq!(c.four.address, "大阪府大阪市北区梅田１丁目");
    // Without FORMAT:UTF8 (`-addext ...;UTF8:...`), OpenSSL 3 takes each byte of the text for a
    // Latin-1 character and encodes that: the certificate holds mojibake, and crlbatch reads
    // exactly what it holds, repairing nothing.
    let mojibake = d.join("mojibake.der");
    let addext = format!(
        "subjectAltName=otherName:1.2.392.200149.8.5.5.1;UTF8:{},otherName:1.2.392.200149.8.5.5.3;UTF8:1,\
         otherName:1.2.392.200149.8.5.5.4;UTF8:319700101,otherName:1.2.392.200149.8.5.5.5;UTF8:{}",
        fields[0].1, fields[4].1
    );
    openssl(&mojibake, &["-addext", &addext]);
    let c = crlbatch_four::parse_signing_cert(&std::fs::read(&mojibake).unwrap()).unwrap();
    let latin1 = |t: &str| t.bytes().map(char::from).collect::<String>();
    assert_eq!(c.four.name, latin1(fields[0].1));
    assert_eq!(c.four.address, latin1(fields[4].1));
    assert_eq!(c.four.name_flags, None);
    // Through the CLI: snapshot of the old ones, diff against the new (one moved, one the same).
    let before = d.join("before.parquet");
    let after = d.join("after.parquet");
    certs_parquet(&before, &[("ppid-pyca", &old), ("ppid-openssl", &ossl)]);
    certs_parquet(&after, &[("ppid-pyca", &old), ("ppid-pyca", &new), ("ppid-openssl", &ossl)]);
    let snap = d.join("snap.parquet");
    let mut logs = ok(&run(&["four", "snapshot", "--certs", s(&before), "--out", s(&snap)], Some(KEY)));
    // The generated indexes know neither issuer key: status unknown, never good.
    let w = world();
    let out = d.join("diff.parquet");
    logs.push_str(&ok(&run(
        &[
            "four",
            "diff",
            "--certs",
            s(&after),
            "--snapshot",
            s(&snap),
            "--index",
            s(&w.root.join("idx")),
            "--at",
            AT,
            "--out",
            s(&out),
        ],
        Some(KEY),
    )));
    let rows = read_parquet(&out);
    assert_eq!(rows.len(), 2);
    let (o_row, p_row) = (&rows[0], &rows[1]);
    assert_eq!(o_row["ppid"], "ppid-openssl");
    assert_eq!(o_row["any_changed"], false);
    assert_eq!(p_row["ppid"], "ppid-pyca");
    assert_eq!(
        [&p_row["name_changed"], &p_row["address_changed"], &p_row["birth_date_changed"], &p_row["gender_changed"]],
        [&Value::Bool(false), &Value::Bool(true), &Value::Bool(false), &Value::Bool(false)]
    );
    assert_eq!(p_row["old_serial"], "a1b2c3d4e5f");
    assert_eq!(p_row["new_serial"], "a1b2c3d4e60");
    assert_eq!(p_row["old_status"], "unknown");
    assert_eq!(p_row["old_status_detail"], format!("no CRL of issuer key {}", "ab".repeat(20)));
    assert!(p_row["old_revoked_affiliation_changed"].is_null());
    let mut text = logs;
    for f in [&snap, &out] {
        text.push_str(&serde_json::to_string(&read_parquet(f)).unwrap());
    }
    for v in ["𠮷田", "花子", "髙橋", "一郎", "京都府", "大阪府", "400120229", "319700101"] {
        assert!(!text.contains(v), "a value appears in an output or log");
    }
}

/// The `[four]` step of the nightly job gives the same diff as `crlbatch
/// four diff` over the same certificates, snapshot and CRLs, published as
/// `four_diff/run_date=D/`, with its counts in the manifest; without the key
/// the run stops before any CRL work (78).
#[test]
fn the_nightly_job_runs_the_four_step() {
    let w = world();
    let pki = w.root.join("pki");
    let d = tempfile::tempdir().unwrap();
    // Records for the check (any schema-valid set; same seed and CAs).
    let recs = d.path().join("recs");
    ok(&run(&["gen", "--out", s(&recs), "--entries", "1000", "--records", "300"], None));
    let mut job = String::from("name = \"four-job\"\n");
    for ca in ["sign-2019", "sign-2023"] {
        job += &format!(
            "[[ca]]\nname = \"{ca}\"\ncert = \"{}\"\ncrl = [\"{}\"]\n",
            s(&pki.join(format!("ca/{ca}.der"))),
            s(&pki.join(format!("crl/{ca}.crl")))
        );
    }
    job += &format!(
        "[input]\nrecords = \"{}\"\n[output]\ndir = \"{}\"\n[four]\ncerts = \"{}\"\nsnapshot = \"{}\"\n",
        s(&recs.join("records")),
        s(&d.path().join("out")),
        s(&pki.join("four/after")),
        s(&w.root.join("snap.parquet"))
    );
    let job_path = d.path().join("job.toml");
    std::fs::write(&job_path, job).unwrap();

    // No key: refused before any work.
    let o = run(&["run", s(&job_path), "--at", AT], None);
    assert_eq!(o.status.code(), Some(78), "{}", common::stderr(&o));
    assert!(common::stderr(&o).contains("[four]: "), "{}", common::stderr(&o));
    let indexed = std::fs::read_dir(d.path().join("out/_state"))
        .map(|r| r.flatten().filter(|e| e.path().extension().is_some_and(|x| x == "crlidx")).count())
        .unwrap_or(0);
    assert_eq!(indexed, 0, "no CRL work before the key is known");
    assert!(!d.path().join("out/results").exists());

    // Another (valid) key: the snapshot is refused before any CRL work too.
    let other = "a5".repeat(32);
    let o = run(&["run", s(&job_path), "--at", AT], Some(&other));
    assert_eq!(o.status.code(), Some(78), "{}", common::stderr(&o));
    assert!(common::stderr(&o).contains("the snapshot was made with another key"), "{}", common::stderr(&o));
    assert!(!d.path().join("out/results").exists());

    let log = ok(&run(&["run", s(&job_path), "--at", AT], Some(KEY)));
    assert!(log.contains("crlbatch: basic four diff compared=375 name_changed=28"), "{log}");
    let m: Value = serde_json::from_slice(&std::fs::read(d.path().join("out/_manifest.json")).unwrap()).unwrap();
    common::assert_valid("manifest.schema.json", &m);
    assert_eq!(m["four"]["any_changed"], 94);
    assert_eq!(m["four"]["old_revoked_affiliation_changed"], 83);
    assert_eq!(m["outputs"]["four_diff"]["dir"], "four_diff/run_date=2026-11-26");
    assert_eq!(m["outputs"]["four_diff"]["rows"], 400);

    let strip = |rows: Vec<Value>| -> Vec<Value> {
        let mut v: Vec<Value> = rows
            .into_iter()
            .map(|mut r| {
                r.as_object_mut().unwrap().remove("run_id");
                r
            })
            .collect();
        v.sort_by(|a, b| a["ppid"].as_str().cmp(&b["ppid"].as_str()));
        v
    };
    let job_rows = strip(read_parquet(&d.path().join("out/four_diff/run_date=2026-11-26")));
    let cli_rows = strip(read_parquet(&w.root.join("diff.parquet")));
    assert_eq!(job_rows.len(), 400);
    assert_eq!(job_rows, cli_rows);
    let rejects = read_parquet(&d.path().join("out/four_rejects/run_date=2026-11-26"));
    assert_eq!(rejects.len() as u64, m["four"]["rejected"].as_u64().unwrap());

    // The same date again without the step: its old partitions go too.
    let text = std::fs::read_to_string(&job_path).unwrap();
    std::fs::write(&job_path, &text[..text.find("[four]").unwrap()]).unwrap();
    ok(&run(&["run", s(&job_path), "--at", AT], None));
    assert!(!d.path().join("out/four_diff/run_date=2026-11-26").exists());
    assert!(!d.path().join("out/four_rejects/run_date=2026-11-26").exists());
    assert!(d.path().join("out/results/run_date=2026-11-26").is_dir());
}
