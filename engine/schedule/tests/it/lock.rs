use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crlbatch_schedule::{LockError, RunLock};

/// Set in a re-executed copy of this test binary: the lock file the helper works on.
const HELPER_PATH: &str = "CRLBATCH_SCHEDULE_LOCK_HELPER_PATH";
/// `try` (report whether the lock can be taken) or `hold` (take it, report, hold it until stdin closes).
const HELPER_MODE: &str = "CRLBATCH_SCHEDULE_LOCK_HELPER_MODE";

/// Not a test on its own: the other process of the cross-process tests.
#[test]
fn helper_process() {
    let Ok(path) = std::env::var(HELPER_PATH) else { return };
    let mode = std::env::var(HELPER_MODE).unwrap();
    match RunLock::try_acquire(Path::new(&path)) {
        Ok(lock) => {
            // Own line: the test harness has already printed "test lock::helper_process ... ".
            println!("\nHELPER acquired");
            std::io::stdout().flush().unwrap();
            if mode == "hold" {
                let mut line = String::new();
                let _ = std::io::stdin().read_line(&mut line);
            }
            drop(lock);
        }
        Err(LockError::Held { holder, .. }) => println!("\nHELPER held by {}", holder.unwrap_or_default()),
        Err(e) => println!("\nHELPER error {e}"),
    }
}

fn helper(path: &Path, mode: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "lock::helper_process", "--nocapture", "--test-threads=1"])
        .env(HELPER_PATH, path)
        .env(HELPER_MODE, mode);
    cmd
}

/// The helper's report line.
fn try_in_other_process(path: &Path) -> String {
    let out = helper(path, "try").output().unwrap();
    assert!(out.status.success(), "helper failed: {out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    stdout.lines().find_map(report).unwrap_or_else(|| panic!("no report in {stdout:?}")).to_owned()
}

/// The helper's report in a line of its output.
fn report(line: &str) -> Option<&str> {
    line.find("HELPER ").and_then(|at| line.get(at..)).map(str::trim_end)
}

/// Kills the helper if the test fails while it holds the lock (it would wait forever).
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn held_holder(result: Result<RunLock, LockError>) -> Option<String> {
    match result {
        Err(LockError::Held { holder, .. }) => holder,
        other => panic!("expected Held, got {other:?}"),
    }
}

#[test]
fn second_lock_in_the_same_process_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("job.lock");
    let first = RunLock::try_acquire(&path).unwrap();
    assert_eq!(first.path(), path);

    let err = RunLock::try_acquire(&path).unwrap_err();
    let holder = match &err {
        LockError::Held { path: p, holder: Some(holder) } if *p == path => holder.clone(),
        other => panic!("unexpected {other:?}"),
    };
    // "pid 1234 since 2026-11-27T01:00:00Z"
    let prefix = format!("pid {} since ", std::process::id());
    let since = holder.strip_prefix(&prefix).unwrap_or_else(|| panic!("holder {holder:?}"));
    assert!(since.ends_with('Z'));
    chrono::DateTime::parse_from_rfc3339(since).unwrap();
    assert_eq!(err.to_string(), format!("job is already running (lock {} held by {holder})", path.display()));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("{holder}\n"));

    drop(first);
    assert!(path.exists(), "the lock file is not deleted");
    let again = RunLock::try_acquire(&path).unwrap();
    drop(again);
}

#[test]
fn lock_held_without_holder_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("job.lock");
    let file = std::fs::File::create(&path).unwrap();
    let raw = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock).unwrap();
    let err = RunLock::try_acquire(&path).unwrap_err();
    assert_eq!(err, LockError::Held { path: path.clone(), holder: None });
    assert_eq!(err.to_string(), format!("job is already running (lock {} held by another process)", path.display()));
    drop(raw);
    // A stale holder text from an earlier run does not make the file look locked.
    std::fs::write(&path, "pid 1 since 2000-01-01T00:00:00Z\n").unwrap();
    let lock = RunLock::try_acquire(&path).unwrap();
    assert!(std::fs::read_to_string(&path).unwrap().starts_with(&format!("pid {} since ", std::process::id())));
    drop(lock);
}

#[test]
fn io_error_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("job.lock");
    match RunLock::try_acquire(&path).unwrap_err() {
        LockError::Io { path: p, message } => {
            assert_eq!(p, path);
            assert!(message.starts_with("cannot open lock file: "), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn other_process_cannot_take_a_held_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("job.lock");
    let lock = RunLock::try_acquire(&path).unwrap();
    let report = try_in_other_process(&path);
    let expected = format!("HELPER held by pid {} since ", std::process::id());
    assert!(report.starts_with(&expected), "{report}");
    // flock(1) from util-linux agrees, when installed.
    let flock_tool = Command::new("flock").arg("-n").arg(&path).arg("true").status();
    if let Ok(status) = &flock_tool {
        assert_eq!(status.code(), Some(1), "flock -n should fail while the lock is held");
    }
    drop(lock);
    assert_eq!(try_in_other_process(&path), "HELPER acquired");
    if let Ok(status) = Command::new("flock").arg("-n").arg(&path).arg("true").status() {
        assert!(status.success(), "flock -n should succeed once the lock is released");
    }
}

#[test]
fn lock_held_by_another_process_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("job.lock");
    let mut child = KillOnDrop(helper(&path, "hold").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap());
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut line = String::new();
    while report(&line).is_none() {
        line.clear();
        assert_ne!(stdout.read_line(&mut line).unwrap(), 0, "helper ended without a report");
    }
    assert_eq!(report(&line), Some("HELPER acquired"));

    let holder = held_holder(RunLock::try_acquire(&path)).unwrap();
    assert!(holder.starts_with(&format!("pid {} since ", child.0.id())), "{holder}");

    drop(child.0.stdin.take()); // the helper releases the lock and exits
    assert!(child.0.wait().unwrap().success());
    let lock = RunLock::try_acquire(&path).unwrap();
    drop(lock);
}
