//! Logs: JSON lines when stderr is not a terminal (cron, systemd,
//! Kubernetes), text and progress bars on a terminal (a pseudo-terminal from
//! util-linux `script`), RUST_LOG filtering, and no personal data in either.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const AT: &str = "2026-11-26T03:00:00Z";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The bundled sample job with its output in `out`.
fn job(out: &Path) -> PathBuf {
    let sample = repo().join("data/sample").canonicalize().unwrap();
    let mut s = String::from("name = \"log-test\"\n");
    for ca in ["sign-2023", "sign-2019", "auth-2023", "auth-2019"] {
        s += &format!(
            "[[ca]]\nname = \"{ca}\"\ncert = \"{0}/ca/{ca}.der\"\ncrl = [\"{0}/crl/{ca}.crl\"]\n",
            sample.display()
        );
    }
    s += &format!("[input]\nrecords = \"{}/records\"\n[output]\ndir = \"{}\"\n", sample.display(), out.display());
    let p = out.with_extension("toml");
    std::fs::write(&p, s).unwrap();
    p
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_crlbatch"));
    c.env_remove("CRLBATCH_LOG_FORMAT").env_remove("RUST_LOG").env_remove("CRLBATCH_PROGRESS");
    c
}

/// Run a shell command line on a pseudo-terminal (util-linux `script`);
/// its output (stdout and stderr) comes back on stdout.
fn on_terminal(cmd: &str) -> Output {
    Command::new("script")
        .args(["-qefc", cmd, "/dev/null"])
        .env_remove("CRLBATCH_LOG_FORMAT")
        .env_remove("CRLBATCH_PROGRESS")
        .env("TERM", "xterm")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every PPID and local user id of the sample records (via DuckDB).
fn personal_values() -> Vec<String> {
    let q = format!(
        "import duckdb\nfor a, b in duckdb.sql(\"SELECT ppid, local_user_id FROM \
         read_parquet('{}/data/sample/records/*.parquet') WHERE ppid IS NOT NULL\").fetchall(): print(a); print(b)",
        repo().display()
    );
    let o = Command::new("python3").args(["-c", &q]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Vec<String> =
        String::from_utf8(o.stdout).unwrap().lines().filter(|l| l.len() >= 8).map(str::to_owned).collect();
    assert!(v.len() > 1000, "{}", v.len());
    v
}

#[test]
fn json_lines_when_not_a_terminal() {
    let d = tempfile::tempdir().unwrap();
    let job = job(&d.path().join("out"));
    let o = bin().args(["run", job.to_str().unwrap(), "--at", AT]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    let events: Vec<Value> =
        err.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    let named = |m: &str| events.iter().filter(|e| e["message"] == m).cloned().collect::<Vec<_>>();
    assert_eq!(named("run started").len(), 1);
    assert_eq!(named("CRLs verified and indexed").len(), 4);
    let fin = &named("run finished")[0];
    let manifest: Value = serde_json::from_slice(&std::fs::read(d.path().join("out/_manifest.json")).unwrap()).unwrap();
    assert_eq!(fin["level"], "INFO");
    assert_eq!(fin["records"], manifest["counts"]["records"]);
    assert_eq!(fin["attention"], manifest["counts"]["attention"]);
    assert_eq!(fin["exit_code"], 0);
    assert_eq!(fin["run_id"], manifest["run_id"]);
    assert!(events.iter().all(|e| e["timestamp"].is_string() && e["target"].is_string()));
    assert!(!err.contains('\r') && !err.contains("\x1b["), "no progress bars or colours off a terminal");
    for v in personal_values() {
        assert!(!err.contains(&v), "personal data in the log");
    }

    // The final error is one JSON event too.
    let o = bin().args(["run", "/nonexistent/job.toml"]).output().unwrap();
    assert_eq!(o.status.code(), Some(78));
    let text = stderr(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let e: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(e["level"], "ERROR");
    assert_eq!(e["exit_code"], 78);
    assert!(e["message"].as_str().unwrap().starts_with("/nonexistent/job.toml: cannot read job file"), "{e}");

    // A filter that keeps one crate only still lets the final error through.
    let o = bin().args(["run", "/nonexistent/job.toml"]).env("RUST_LOG", "crlbatch_job=debug").output().unwrap();
    assert_eq!(o.status.code(), Some(78));
    let e: Value = serde_json::from_str(stderr(&o).trim()).unwrap();
    assert_eq!((e["level"].as_str(), e["exit_code"].as_u64()), (Some("ERROR"), Some(78)), "{e}");
}

#[test]
fn rust_log_filters_and_text_format_is_one_line_per_event() {
    let d = tempfile::tempdir().unwrap();
    let job = job(&d.path().join("out"));
    // Stale at this time: warnings only.
    let o = bin()
        .args(["--log-format", "text", "run", job.to_str().unwrap(), "--at", "2026-11-27T03:00:00Z"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(75), "{}", stderr(&o));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.iter().filter(|l| l.starts_with("crlbatch: warning: CA not usable ca=")).count(), 4, "{err}");
    assert!(lines.iter().any(|l| l.contains("why=\"stale CRL (nextUpdate 2026-11-26T15:00:00Z)\"")), "{err}");
    assert!(!err.contains("run started") && !err.contains("run finished"), "info filtered out: {err}");
    assert!(lines.last().unwrap().starts_with("crlbatch: error: run "), "{err}");
}

#[test]
fn text_and_progress_bars_on_a_terminal() {
    let d = tempfile::tempdir().unwrap();
    let job = job(&d.path().join("out"));
    let cmd = format!("{} run {} --at {AT}", env!("CARGO_BIN_EXE_crlbatch"), job.display());
    // util-linux script: the command runs on a pseudo-terminal; its output
    // (stdout and stderr) is copied to ours.
    let o = on_terminal(&cmd);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("crlbatch: run started run_id="), "{out}");
    assert!(out.contains("crlbatch: run finished run_id="), "{out}");
    assert!(!out.contains("{\"timestamp\""), "text, not JSON, on a terminal: {out}");
    // The bars: the check bar with its unit and final message.
    assert!(out.contains("records") && out.contains("done"), "{out}");
    assert!(out.contains("10,000/10,000") || out.contains("10000/10000"), "{out}");
    // --progress never: no bars, still text.
    let o = on_terminal(&format!("{cmd} --progress never"));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("crlbatch: run finished") && !out.contains("done"), "{out}");
}

/// Remote sources get a fetch bar of their own (count, rate, ETA) on a
/// terminal: the bundled HTTP job against Python's http.server.
#[test]
fn fetch_bar_on_a_terminal_for_remote_sources() {
    let repo = repo();
    let d = tempfile::tempdir().unwrap();
    let (mut server, port) = common::python_http_server(&repo.join("data/sample/crl"));
    let text = std::fs::read_to_string(repo.join("jobs/nightly-type2-http.toml"))
        .unwrap()
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"))
        .replace("\"../data/", &format!("\"{}/data/", repo.display()))
        .replace("\"../out/nightly-type2-http\"", &format!("\"{}/out\"", d.path().display()))
        .replace("\"../out/nightly-type2-http.prom\"", &format!("\"{}/m.prom\"", d.path().display()));
    let job = d.path().join("job.toml");
    std::fs::write(&job, text).unwrap();
    let cmd = format!("{} run {} --at {AT}", env!("CARGO_BIN_EXE_crlbatch"), job.display());
    let o = on_terminal(&cmd);
    let _ = server.kill();
    let _ = server.wait();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("fetch") && out.contains("4/4 sources"), "{out}");
    assert!(out.contains("crlbatch: fetch source=http://127.0.0.1:"), "{out}");
}
