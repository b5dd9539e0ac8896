//! One run of a job at a time, across processes: an exclusive `flock(2)` on a
//! lock file.
//!
//! * The lock is taken without waiting: if another run holds it,
//!   [`RunLock::try_acquire`] fails at once with [`LockError::Held`].
//! * `flock` locks belong to an *open file description*, so two
//!   [`RunLock`]s on the same path conflict even within one process, and the
//!   kernel releases the lock when the holder exits, however it exits (no
//!   stale locks after a crash).
//! * After locking, the file is truncated and the holder's description is
//!   written into it, `pid 1234 since 2026-11-27T01:00:00Z`, so that a
//!   refused run can say who holds the lock. The text is diagnostics only:
//!   the lock is the `flock`, not the file's content or existence. A failure
//!   to write the text does not fail the acquisition.
//! * The lock is released when the [`RunLock`] is dropped. The file is **not**
//!   deleted: deleting a lock file races with another process that has just
//!   opened it (it would lock the deleted file while a third process creates
//!   and locks a new one). It is never truncated before being locked either.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// Longest holder text reported, in characters.
const MAX_HOLDER_CHARS: usize = 200;

/// How often [`RunLock::acquire_within`] tries again.
pub const WAIT_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// An exclusive run lock, released on drop.
#[derive(Debug)]
pub struct RunLock {
    _lock: Flock<File>,
    path: PathBuf,
}

/// Why a [`RunLock`] could not be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    /// Another run holds the lock. `holder` is the text the holder wrote into
    /// the lock file (e.g. `pid 1234 since 2026-11-27T01:00:00Z`), if any.
    #[error(
        "job is already running (lock {} held by {})",
        .path.display(),
        .holder.as_deref().unwrap_or("another process")
    )]
    Held { path: PathBuf, holder: Option<String> },
    /// The lock file could not be opened or locked.
    #[error("lock {}: {message}", .path.display())]
    Io { path: PathBuf, message: String },
}

impl RunLock {
    /// Take the lock on `path` without waiting, creating the file if needed.
    pub fn try_acquire(path: &Path) -> Result<RunLock, LockError> {
        let io = |what: &str, e: &dyn std::fmt::Display| LockError::Io {
            path: path.to_path_buf(),
            message: format!("{what}: {e}"),
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .open(path)
            .map_err(|e| io("cannot open lock file", &e))?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => {
                let holder = format!(
                    "pid {} since {}\n",
                    std::process::id(),
                    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
                );
                // Diagnostics only (see the module documentation).
                let _ = write_holder(&lock, &holder);
                Ok(RunLock { _lock: lock, path: path.to_path_buf() })
            }
            Err((_, errno)) if errno == Errno::EWOULDBLOCK => {
                Err(LockError::Held { path: path.to_path_buf(), holder: read_holder(path) })
            }
            Err((_, errno)) => Err(io("cannot lock", &errno.desc())),
        }
    }

    /// Take the lock on `path`, waiting up to `wait` while another process
    /// holds it (polled every [`WAIT_POLL`]).
    pub fn acquire_within(path: &Path, wait: std::time::Duration) -> Result<RunLock, LockError> {
        let deadline = std::time::Instant::now() + wait;
        loop {
            match RunLock::try_acquire(path) {
                Err(LockError::Held { .. }) if std::time::Instant::now() < deadline => std::thread::sleep(WAIT_POLL),
                r => return r,
            }
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn write_holder(mut file: &File, text: &str) -> std::io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(text.as_bytes())
}

/// The first line of the lock file, if it has a non-empty one.
fn read_holder(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let line = text.lines().next()?.trim();
    if line.is_empty() {
        return None;
    }
    Some(line.chars().take(MAX_HOLDER_CHARS).collect())
}
