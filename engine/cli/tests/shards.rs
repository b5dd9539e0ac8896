//! Scale-out: `crlbatch run --shard I/N` as separate processes, committed by
//! the last shard (or `crlbatch commit`), gives the same outputs as one
//! process: results, summary and rejects read back with DuckDB, manifest
//! counts, and the keys the next run compares against.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const AT: &str = "2026-11-26T03:00:00Z";
const AT_LATER: &str = "2026-11-26T09:00:00Z";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_crlbatch"));
    c.env("CRLBATCH_LOG_FORMAT", "text").env_remove("JOB_COMPLETION_INDEX").env_remove("CRLBATCH_SHARDS");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn job(out: &str) -> String {
    let mut s = String::from("name = \"shards-test\"\n");
    for ca in ["sign-2023", "sign-2019", "auth-2023", "auth-2019"] {
        s += &format!("[[ca]]\nname = \"{ca}\"\ncert = \"ca/{ca}.der\"\ncrl = [\"crl/{ca}.crl\"]\n");
    }
    s + &format!("[input]\nrecords = \"records\"\n[output]\ndir = \"{out}\"\nemit = \"all\"\n")
}

/// A generated PKI with 30,000 records in 7 files, and one job per output.
fn setup() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().to_owned();
    let o = run(&[
        "gen",
        "--out",
        root.to_str().unwrap(),
        "--seed",
        "11",
        "--entries",
        "4000",
        "--records",
        "30000",
        "--record-files",
        "7",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    (d, root)
}

fn write_job(root: &Path, name: &str, out: &str) -> String {
    let p = root.join(name);
    std::fs::write(&p, job(out)).unwrap();
    p.to_str().unwrap().to_owned()
}

fn manifest(root: &Path, out: &str) -> Value {
    serde_json::from_slice(&std::fs::read(root.join(out).join("_manifest.json")).unwrap()).unwrap()
}

/// Every dataset's rows (run_id aside), sorted, as JSON text, read by DuckDB;
/// and the distinct run ids of the results.
fn datasets(dir: &Path) -> String {
    let script = r#"
import duckdb, json, sys
root = sys.argv[1]
out = {}
for ds in ["results", "summary", "rejects"]:
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{root}/{ds}/*/*.parquet', hive_partitioning=true)")
    cols = [c for c in rel.columns if c != "run_id"]
    q = f"SELECT {', '.join(cols)} FROM rel ORDER BY ALL"
    out[ds] = [[str(v) for v in r] for r in duckdb.sql(q).fetchall()]
out["run_ids"] = sorted(r[0] for r in duckdb.sql(
    f"SELECT DISTINCT run_id FROM read_parquet('{root}/results/*/*.parquet')").fetchall())
print(json.dumps(out))
"#;
    let o = Command::new("python3").args(["-c", script, dir.to_str().unwrap()]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    String::from_utf8(o.stdout).unwrap()
}

fn counts(m: &Value) -> Value {
    m["counts"].clone()
}

#[test]
fn shards_in_parallel_equal_one_process() {
    let (_d, root) = setup();
    let single = write_job(&root, "single.toml", "out-single");
    let sharded = write_job(&root, "sharded.toml", "out-shards");

    let o = run(&["run", &single, "--at", AT]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // Three shards as separate processes, at the same time.
    let children: Vec<_> = (0..3)
        .map(|i| {
            bin()
                .args(["run", &sharded, "--at", AT, "--shard", &format!("{i}/3")])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<Output> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    for o in &outs {
        assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
    }
    let committed = outs.iter().filter(|o| stderr(o).contains("shards committed")).count();
    assert_eq!(committed, 1, "exactly one shard commits");

    let (m1, m3) = (manifest(&root, "out-single"), manifest(&root, "out-shards"));
    assert_eq!(counts(&m1), counts(&m3));
    assert_eq!(m1["counts"]["records"], 30000);
    assert_eq!(m1["status"], m3["status"]);
    let shards = m3["shards"].as_array().unwrap();
    assert_eq!(shards.len(), 3);
    common::assert_valid("manifest.schema.json", &m3);
    let rows: u64 = shards.iter().map(|s| s["rows"].as_u64().unwrap()).sum();
    assert_eq!(rows, 30000, "the shares cover the input exactly once");
    assert!(shards.iter().all(|s| s["rows"].as_u64().unwrap() > 0), "7 files over 3 shards: none empty");
    assert!(!root.join("out-shards/.shards").join("run_date=2026-11-26").exists(), "shard outputs removed");

    let (d1, d3) = (datasets(&root.join("out-single")), datasets(&root.join("out-shards")));
    let (v1, v3): (Value, Value) = (serde_json::from_str(&d1).unwrap(), serde_json::from_str(&d3).unwrap());
    for ds in ["results", "summary", "rejects"] {
        assert_eq!(v1[ds], v3[ds], "{ds} differ");
    }
    let rejected = m3["counts"]["rejected"].as_u64().unwrap();
    assert_eq!(v3["results"].as_array().unwrap().len() as u64, 30000 - rejected);
    assert_eq!(v3["run_ids"], serde_json::json!([m3["run_id"]]), "every row carries the committed run's id");

    // The next run compares against the keys the commit stored.
    let o = run(&["run", &single, "--at", AT_LATER]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for i in 0..3 {
        let o = run(&["run", &sharded, "--at", AT_LATER, "--shard", &format!("{i}/3")]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let (m1, m3) = (manifest(&root, "out-single"), manifest(&root, "out-shards"));
    assert_eq!(counts(&m1), counts(&m3));
    assert_eq!(m1["counts"]["new_since_previous_run"], 0);
    assert!(root.join("out-shards/report.html").is_file());
}

#[test]
fn commit_waits_for_every_shard() {
    let (_d, root) = setup();
    let sharded = write_job(&root, "sharded.toml", "out");

    // Shard 0 of 2 from a Kubernetes Indexed Job's environment.
    let o = bin()
        .args(["run", &sharded, "--at", AT])
        .env("JOB_COMPLETION_INDEX", "0")
        .env("CRLBATCH_SHARDS", "2")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("not committed yet"), "{}", stderr(&o));
    assert!(!root.join("out/_manifest.json").exists(), "nothing published before every shard finished");
    assert!(!root.join("out/results").exists());

    let o = run(&["commit", &sharded, "--shards", "2"]);
    assert_eq!(o.status.code(), Some(75), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("crlbatch: error: job shards-test: run_date 2026-11-26: shard(s) 1 of 2 not finished"), "{e}");

    // Leftovers of plans that never committed: an abandoned one (made weeks
    // ago) is swept by the commit, a recent one is kept.
    let plan = |date: &str, created: &str| {
        let d = root.join(format!("out/.shards/run_date={date}/of-3"));
        std::fs::create_dir_all(d.join("shard-0")).unwrap();
        let p = serde_json::json!({"plan_id": "x", "at": created, "run_date": date, "count": 3,
            "created_at": created, "previous_run": null});
        std::fs::write(d.join("plan.json"), p.to_string()).unwrap();
        d
    };
    let abandoned = plan("2026-10-01", "2026-10-01T00:00:00Z");
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let recent = plan("2026-11-20", &now);
    // A shard output without its keys is not committed (its records' keys
    // for the next run would be lost): that shard must run again.
    let keys0 = root.join("out/.shards/run_date=2026-11-26/of-2/shard-0/flagged.keys");
    std::fs::remove_file(&keys0).unwrap();
    let o = run(&["run", &sharded, "--at", AT, "--shard", "1/2"]);
    assert_eq!(o.status.code(), Some(75), "{}", stderr(&o));
    let want = format!("{}: No such file or directory (os error 2); run that shard again", keys0.display());
    assert!(stderr(&o).lines().any(|l| l.ends_with(&want)), "{}", stderr(&o));
    assert!(!root.join("out/_manifest.json").exists());
    // The last shard (0, again) commits.
    let o = run(&["run", &sharded, "--at", AT, "--shard", "0/2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let m = manifest(&root, "out");
    assert_eq!(m["counts"]["records"], 30000);
    assert_eq!(m["shards"].as_array().unwrap().len(), 2);
    assert!(!abandoned.exists() && !abandoned.parent().unwrap().exists(), "abandoned plan swept");
    assert!(recent.join("plan.json").exists(), "a recent plan is kept");

    // Nothing left to commit.
    let o = run(&["commit", &sharded, "--shards", "2"]);
    assert_eq!(o.status.code(), Some(75), "{}", stderr(&o));
    assert!(stderr(&o).contains("no shards of 2 to commit"), "{}", stderr(&o));

    // Bad shard arguments are usage errors.
    let o = run(&["run", &sharded, "--shard", "2/2"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "crlbatch: error: --shard: shard index 2 is not below the shard count 2 (indexes start at 0)\n"
    );
    let o = run(&["run", &sharded, "--shards", "2"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o), "crlbatch: error: --shards 2 needs --shard I/N or JOB_COMPLETION_INDEX\n");
}

#[test]
fn shards_that_saw_other_crls_are_refused() {
    let (_d, root) = setup();
    let sharded = write_job(&root, "sharded.toml", "out");
    let o = run(&["run", &sharded, "--at", AT, "--shard", "0/2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A new CRL for one CA between the shards (same key, next number).
    let o = run(&[
        "gen",
        "--out",
        root.join("regen").to_str().unwrap(),
        "--seed",
        "11",
        "--entries",
        "4100",
        "--only",
        "sign-2023",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::copy(root.join("regen/crl/sign-2023.crl"), root.join("crl/sign-2023.crl")).unwrap();
    let o = run(&["run", &sharded, "--at", AT, "--shard", "1/2"]);
    assert_eq!(o.status.code(), Some(75), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("shard(s) 1 saw other CRLs or inputs than shard 0; run every shard again"),
        "{}",
        stderr(&o)
    );
    assert!(!root.join("out/_manifest.json").exists());
    // The refused plan is dropped: shard 0 run again starts a new one, and
    // says that shard 1 finished under the old plan (nothing waits quietly).
    let o = run(&["run", &sharded, "--at", AT, "--shard", "0/2"]);
    assert_eq!(o.status.code(), Some(75), "{}", stderr(&o));
    assert!(stderr(&o).contains("shard(s) 1 of 2 finished under another plan than"), "{}", stderr(&o));
    // Shard 1 again, under the new plan, with the same CRL: committed.
    let o = run(&["run", &sharded, "--at", AT, "--shard", "1/2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let m = manifest(&root, "out");
    assert_eq!(m["shards"].as_array().unwrap().len(), 2);
    assert_eq!(m["counts"]["records"], 30000);
}

/// A whole run published between two shards: the later shard makes a new
/// plan (its "previous run" changed), so the two shards cannot be merged;
/// the last one says so (75), and shards run again under the new plan
/// commit against the whole run's keys.
#[test]
fn a_run_published_between_shards_is_not_mixed_in() {
    let (_d, root) = setup();
    let sharded = write_job(&root, "sharded.toml", "out");
    let o = run(&["run", &sharded, "--at", AT, "--shard", "0/2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&["run", &sharded, "--at", AT]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let whole = manifest(&root, "out");
    let o = run(&["run", &sharded, "--at", AT, "--shard", "1/2"]);
    assert_eq!(o.status.code(), Some(75), "{}", stderr(&o));
    assert!(stderr(&o).contains("shard(s) 0 of 2 finished under another plan than"), "{}", stderr(&o));
    assert_eq!(manifest(&root, "out")["run_id"], whole["run_id"], "nothing published");
    let o = run(&["run", &sharded, "--at", AT, "--shard", "0/2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let m = manifest(&root, "out");
    assert_ne!(m["run_id"], whole["run_id"]);
    assert_eq!(m["counts"]["records"], 30000);
    // Compared with the whole run's keys: the same records, nothing new.
    assert_eq!(m["counts"]["new_since_previous_run"], 0);
    assert_eq!(m["counts"]["attention"], whole["counts"]["attention"]);
}
