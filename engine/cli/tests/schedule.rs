//! `crlbatch schedule` and the per-job run lock, as operators use them: fire
//! times in the job's time zone, runs fired by the clock, a clean stop on
//! SIGTERM, and a second run of a job refused while one holds its lock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{crlbatch, stderr};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A small generated PKI with records and a job with `schedule`.
fn setup(schedule: &str) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().to_owned();
    let o = crlbatch(&["gen", "--out", root.to_str().unwrap(), "--seed", "5", "--entries", "1000", "--records", "500"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cas: String = ["sign-2023", "sign-2019", "auth-2023", "auth-2019"]
        .iter()
        .map(|n| format!("[[ca]]\nname = \"{n}\"\ncert = \"ca/{n}.der\"\ncrl = [\"crl/{n}.crl\"]\n"))
        .collect();
    let job = format!(
        "name = \"sched-test\"\nschedule = \"{schedule}\"\ntimezone = \"Asia/Tokyo\"\n{cas}[input]\nrecords = \"records\"\n[output]\ndir = \"out\"\n"
    );
    std::fs::write(root.join("job.toml"), job).unwrap();
    (d, root)
}

#[test]
fn dry_run_prints_fire_times_in_the_job_zone_and_in_utc() {
    let (_d, root) = setup("30 2 * * *");
    let job = root.join("job.toml");
    let o =
        crlbatch(&["schedule", "--dry-run", "--from", "2026-11-26T00:00:00Z", "--count", "2", job.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "job sched-test: \"30 2 * * *\" in Asia/Tokyo\n  2026-11-27T02:30:00+09:00  2026-11-26T17:30:00Z\n  2026-11-28T02:30:00+09:00  2026-11-27T17:30:00Z\n"
    );
    // The 6-field form with seconds means the same.
    let text = std::fs::read_to_string(&job).unwrap().replace("\"30 2 * * *\"", "\"0 30 2 * * *\"");
    std::fs::write(&job, text).unwrap();
    let o =
        crlbatch(&["schedule", "--dry-run", "--from", "2026-11-26T00:00:00Z", "--count", "2", job.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).ends_with(
        "  2026-11-27T02:30:00+09:00  2026-11-26T17:30:00Z\n  2026-11-28T02:30:00+09:00  2026-11-27T17:30:00Z\n"
    ));
    // Weekdays at 09:00 JST, crontab day-of-week numbers (1-5 = Mon-Fri).
    let text = std::fs::read_to_string(&job).unwrap().replace("\"0 30 2 * * *\"", "\"0 9 * * 1-5\"");
    std::fs::write(&job, text).unwrap();
    // 2026-11-27 is a Friday: next are Fri 27, Mon 30.
    let o =
        crlbatch(&["schedule", "--dry-run", "--from", "2026-11-26T00:00:00Z", "--count", "2", job.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&o.stdout).ends_with(
            "  2026-11-27T09:00:00+09:00  2026-11-27T00:00:00Z\n  2026-11-30T09:00:00+09:00  2026-11-30T00:00:00Z\n"
        ),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn bad_or_missing_schedule_is_a_configuration_error() {
    let (_d, root) = setup("61 2 * * *");
    let job = root.join("job.toml");
    let o = crlbatch(&["schedule", "--dry-run", job.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(78));
    let err = stderr(&o);
    assert!(err.starts_with("crlbatch: error: ") && err.contains("\"61 2 * * *\""), "{err}");
    assert_eq!(err.lines().count(), 1);
    let text = std::fs::read_to_string(&job).unwrap().replace("schedule = \"61 2 * * *\"\n", "");
    std::fs::write(&job, text).unwrap();
    let o = crlbatch(&["schedule", job.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(78));
    assert!(stderr(&o).contains("has no schedule"), "{}", stderr(&o));
}

fn wait_for(what: &str, deadline: Duration, mut ok: impl FnMut() -> bool) {
    let t = Instant::now();
    while !ok() {
        assert!(t.elapsed() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn staging_empty(root: &Path) -> bool {
    std::fs::read_dir(root.join("out/.staging")).map(|mut d| d.next().is_none()).unwrap_or(true)
}

#[test]
fn scheduler_fires_runs_and_stops_cleanly_on_sigterm() {
    // Every second (6-field form), so the test need not wait for 02:30.
    let (_d, root) = setup("* * * * * *");
    let job = root.join("job.toml");
    let state = root.join("scheduler.json");
    let child = Command::new(env!("CARGO_BIN_EXE_crlbatch"))
        .env("CRLBATCH_LOG_FORMAT", "text")
        .args(["schedule", job.to_str().unwrap(), "--state", state.to_str().unwrap()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let manifest = root.join("out/_manifest.json");
    wait_for("a first run", Duration::from_secs(60), || manifest.exists());
    // A second scheduler on the same state file is refused.
    let o = crlbatch(&["schedule", job.to_str().unwrap(), "--state", state.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(69), "{}", stderr(&o));
    assert!(stderr(&o).contains("another scheduler is already using state file"), "{}", stderr(&o));
    // The shell's own kill: no procps needed.
    let k = Command::new("sh").args(["-c", &format!("kill -TERM {}", child.id())]).status().unwrap();
    assert!(k.success());
    let t = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(log.contains("crlbatch: schedule: run due job=sched-test slot="), "{log}");
    // The run's outputs are whole: a complete manifest, no staging left.
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    common::assert_valid("manifest.schema.json", &m);
    assert!(staging_empty(&root));
    // The state file remembers the last slot fired.
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert!(s.to_string().contains("sched-test"), "{s}");
}

#[test]
fn a_second_run_of_a_job_is_refused_while_one_holds_its_lock() {
    let (_d, root) = setup("30 2 * * *");
    let job = root.join("job.toml");
    let lock = root.join("out/_state/run.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    // Another process holds the lock (util-linux flock).
    let mut holder = Command::new("flock").arg("-o").arg(&lock).args(["sleep", "30"]).spawn().unwrap();
    wait_for("flock to hold the lock", Duration::from_secs(10), || {
        Command::new("flock").args(["-n"]).arg(&lock).arg("true").status().map(|s| !s.success()).unwrap_or(false)
    });
    let o = crlbatch(&["run", job.to_str().unwrap(), "--at", "2026-11-26T03:00:00Z"]);
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(o.status.code(), Some(69), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        format!(
            "crlbatch: error: job sched-test: job is already running (lock {} held by another process)\n",
            lock.display()
        )
    );
    assert!(!root.join("out/_manifest.json").exists());
    // Once released, the run goes ahead.
    let o = crlbatch(&["run", job.to_str().unwrap(), "--at", "2026-11-26T03:00:00Z"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The holder's pid and start time are left in the lock file for diagnostics.
    let text = std::fs::read_to_string(&lock).unwrap();
    assert!(text.starts_with("pid "), "{text}");
}

/// Several jobs in one scheduler: environment overrides (which would apply
/// to all of them) and a shared output folder are refused.
#[test]
fn several_jobs_may_not_share_outputs() {
    let (_d, root) = setup("30 2 * * *");
    let a = root.join("job.toml");
    let text = std::fs::read_to_string(&a).unwrap().replace("sched-test", "sched-two");
    let b = root.join("two.toml");
    std::fs::write(&b, &text).unwrap();
    let o = crlbatch(&["schedule", "--dry-run", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(78), "{}", stderr(&o));
    assert!(stderr(&o).contains(": the same output folder "), "{}", stderr(&o));
    std::fs::write(&b, text.replace("dir = \"out\"", "dir = \"out-two\"")).unwrap();
    let o = crlbatch(&["schedule", "--dry-run", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = Command::new(env!("CARGO_BIN_EXE_crlbatch"))
        .env("CRLBATCH_LOG_FORMAT", "text")
        .env("CRLBATCH_OUTPUT_DIR", root.join("elsewhere"))
        .args(["schedule", "--dry-run", a.to_str().unwrap(), b.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(78), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("CRLBATCH_OUTPUT_DIR set in the environment would apply to all 2 jobs"),
        "{}",
        stderr(&o)
    );
}
