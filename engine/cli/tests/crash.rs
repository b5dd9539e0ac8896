//! Crash safety: `crlbatch run` killed with SIGKILL at many points of a run
//! (fetching over HTTP, indexing, checking and writing Parquet, publishing,
//! writing the manifest and state). After each kill a reader of the outputs
//! (pyarrow, tests/py/snapshot.py) sees, per dataset, either the previous
//! complete state or the new complete one, never a partial file; the CRL
//! store stays consistent; and the next run completes with the results of an
//! uninterrupted run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::http::{Reply, Server};
use common::{crlbatch, stderr};
use serde_json::{json, Value};

const AT: &str = "2026-11-26T03:00:00Z";
const DATE: &str = "2026-11-26";
const KILLS: u32 = 24;
const CAS: [&str; 4] = ["sign-2023", "sign-2019", "auth-2023", "auth-2019"];

/// What readers see: per dataset, files, rows and a digest of the rows.
fn seen(out: &Path) -> Value {
    let script = common::repo().join("engine/cli/tests/py/snapshot.py");
    let o = Command::new("python3").arg(script).arg(out).arg(DATE).output().unwrap();
    assert!(o.status.success(), "a reader failed: {}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    json!({"results": v["results"], "summary": v["summary"], "rejects": v["rejects"]})
}

fn gen(out: &Path, entries: &str, records: &str, crl_number: &str) {
    let o = crlbatch(&[
        "gen",
        "--out",
        out.to_str().unwrap(),
        "--seed",
        "3",
        "--entries",
        entries,
        "--records",
        records,
        "--record-files",
        "2",
        "--crl-number",
        crl_number,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Replace the local CRLs with those of `from` (each by rename, as a
/// publisher would), and serve `from`'s sign-2023 CRL over HTTP.
fn switch_inputs(root: &Path, from: &Path, server: &Server, etag: &str) {
    for name in &CAS[1..] {
        let tmp = root.join(format!("crl/.{name}.tmp"));
        std::fs::copy(from.join(format!("crl/{name}.crl")), &tmp).unwrap();
        std::fs::rename(&tmp, root.join(format!("crl/{name}.crl"))).unwrap();
    }
    server.script("/sign-2023.crl", vec![Reply::ok(&std::fs::read(from.join("crl/sign-2023.crl")).unwrap(), etag)]);
}

/// Every stored CRL matches its description (SHA-256), and only the CRL
/// it names is kept.
fn store_consistent(out: &Path) {
    for e in std::fs::read_dir(out.join("_state/sources")).unwrap().flatten() {
        let meta: Value = serde_json::from_slice(&std::fs::read(e.path().join("source.json")).unwrap()).unwrap();
        let file = e.path().join(format!("crl-{}.der", meta["sha256"].as_str().unwrap()));
        let o = Command::new("sha256sum").arg(file).output().unwrap();
        let sum = String::from_utf8_lossy(&o.stdout).split_whitespace().next().unwrap_or_default().to_owned();
        assert_eq!(meta["sha256"].as_str().unwrap(), sum, "{:?}", e.path());
        let crls = std::fs::read_dir(e.path())
            .unwrap()
            .flatten()
            .filter(|f| f.file_name().to_string_lossy().starts_with("crl-"))
            .count();
        assert!(crls <= 2, "{:?}: {crls} CRL files (one, or one more left by a kill before its commit)", e.path());
    }
}

#[test]
fn killed_runs_leave_the_previous_or_the_new_state_and_the_next_run_completes() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("run");
    gen(&root, "20000", "60000", "1");
    let newer = d.path().join("newer");
    gen(&newer, "30000", "0", "2");
    let server = Server::start();
    let mut job = format!(
        "name = \"crash-test\"\n[[ca]]\nname = \"sign-2023\"\ncert = \"ca/sign-2023.der\"\ncrl = [\"{}\"]\n",
        server.url("/sign-2023.crl")
    );
    for name in &CAS[1..] {
        job.push_str(&format!("[[ca]]\nname = \"{name}\"\ncert = \"ca/{name}.der\"\ncrl = [\"crl/{name}.crl\"]\n"));
    }
    job.push_str("[input]\nrecords = \"records\"\n[output]\ndir = \"out\"\n");
    std::fs::write(root.join("job.toml"), job).unwrap();
    let job = root.join("job.toml");
    let run = |job: &Path| crlbatch(&["run", job.to_str().unwrap(), "--at", AT]);

    // The previous state: a complete first run.
    server.script("/sign-2023.crl", vec![Reply::ok(&std::fs::read(root.join("crl/sign-2023.crl")).unwrap(), "a")]);
    let o = run(&job);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let before = seen(&root.join("out"));

    // The new state: the same job on newer CRLs, uninterrupted, in a copy.
    let reference = d.path().join("reference");
    assert!(Command::new("cp").arg("-a").arg(&root).arg(&reference).status().unwrap().success());
    switch_inputs(&reference, &newer, &server, "b");
    let t = Instant::now();
    let o = run(&reference.join("job.toml"));
    let full = t.elapsed();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let after = seen(&reference.join("out"));
    assert_ne!(before["results"], after["results"], "the newer CRLs change the results");

    // Kill runs of the new state at points spread over a whole run.
    switch_inputs(&root, &newer, &server, "b");
    let (mut saw_before, mut saw_after) = (0, 0);
    for k in 0..KILLS {
        let delay = full.mul_f64((f64::from(k) + 0.5) / f64::from(KILLS));
        let mut child = Command::new(env!("CARGO_BIN_EXE_crlbatch"))
            .env("CRLBATCH_LOG_FORMAT", "text")
            .args(["run", job.to_str().unwrap(), "--at", AT])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        let now = seen(&root.join("out"));
        for ds in ["results", "summary", "rejects"] {
            assert!(
                now[ds] == before[ds] || now[ds] == after[ds],
                "kill {k} at {delay:?}: {ds} is neither the previous nor the new state: {}",
                now[ds]
            );
        }
        if now == before {
            saw_before += 1;
        } else if now == after {
            saw_after += 1;
        }
        store_consistent(&root.join("out"));
    }
    eprintln!("{KILLS} kills over {full:?}: {saw_before} left the previous state, {saw_after} the new one");
    assert!(saw_before > 0, "some kills land before publication");

    // The next run completes and gives the uninterrupted run's results.
    let o = run(&job);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(seen(&root.join("out")), after);
    store_consistent(&root.join("out"));
    assert!(std::fs::read_dir(root.join("out/.staging")).map(|mut r| r.next().is_none()).unwrap_or(true));
}
