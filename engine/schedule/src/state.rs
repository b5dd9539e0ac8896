//! The scheduler's state file: per job name, how far its slots have been dealt with.
//!
//! ```json
//! {
//!   "version": 1,
//!   "jobs": {
//!     "crl-daily": { "done_through": "2026-11-26T17:30:00Z", "last_fired": "2026-11-26T17:30:00Z" }
//!   }
//! }
//! ```
//!
//! * `done_through`: every slot at or before this instant has been dealt
//!   with: fired, skipped by the catch-up policy, or older than the job's first
//!   start (on its first start a job gets `done_through` = the start time, so
//!   that a later downtime is caught up even before the job ever fired). The
//!   loop's next slot for the job is the first one after it: a restart never
//!   re-fires a slot.
//! * `last_fired`: the last slot actually fired (diagnostics).
//!
//! Times are RFC 3339 UTC. Jobs no longer configured are kept (removing a job
//! from the configuration for a while does not lose its history).
//!
//! The file is replaced atomically: written to a temporary file in the same
//! folder, fsynced, renamed over the state file, and the folder fsynced. A
//! crash leaves the old or the new state, never a torn one. A state file that
//! cannot be read or parsed is an error (not an empty state), so that damage
//! is seen rather than silently turning into "first start".

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// Version of the state file format.
pub const STATE_VERSION: u32 = 1;

/// The state of one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobState {
    /// All slots at or before this instant have been dealt with.
    pub done_through: DateTime<Utc>,
    /// The last slot fired, if any.
    pub last_fired: Option<DateTime<Utc>>,
}

/// The state of all jobs (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchedulerState {
    jobs: BTreeMap<String, JobState>,
}

/// The state file could not be read, parsed or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("scheduler state {}: {message}", .path.display())]
pub struct StateError {
    pub path: PathBuf,
    pub message: String,
}

#[derive(Serialize, Deserialize)]
struct FileJob {
    done_through: String,
    #[serde(default)]
    last_fired: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct FileState {
    version: u32,
    jobs: BTreeMap<String, FileJob>,
}

fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn parse_time(job: &str, what: &str, text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("job {job:?}: {what} {text:?} is not an RFC 3339 time: {e}"))
}

impl SchedulerState {
    /// Read the state file; a missing file is an empty state (first start).
    pub fn load(path: &Path) -> Result<SchedulerState, StateError> {
        let err = |message: String| StateError { path: path.to_path_buf(), message };
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(SchedulerState::default()),
            Err(e) => return Err(err(format!("cannot read: {e}"))),
        };
        let file: FileState =
            serde_json::from_slice(&bytes).map_err(|e| err(format!("not a valid state file: {e}")))?;
        if file.version != STATE_VERSION {
            return Err(err(format!("unsupported version {} (expected {STATE_VERSION})", file.version)));
        }
        let mut jobs = BTreeMap::new();
        for (name, job) in file.jobs {
            let done_through = parse_time(&name, "done_through", &job.done_through).map_err(err)?;
            let last_fired = match &job.last_fired {
                Some(text) => Some(parse_time(&name, "last_fired", text).map_err(err)?),
                None => None,
            };
            jobs.insert(name, JobState { done_through, last_fired });
        }
        Ok(SchedulerState { jobs })
    }

    /// Replace the state file atomically (see the module documentation).
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let file = FileState {
            version: STATE_VERSION,
            jobs: self
                .jobs
                .iter()
                .map(|(name, job)| {
                    let file_job = FileJob {
                        done_through: time_text(job.done_through),
                        last_fired: job.last_fired.map(time_text),
                    };
                    (name.clone(), file_job)
                })
                .collect(),
        };
        let err = |message: String| StateError { path: path.to_path_buf(), message };
        let mut json = serde_json::to_vec_pretty(&file).map_err(|e| err(format!("cannot serialise: {e}")))?;
        json.push(b'\n');
        write_atomic(path, &json).map_err(err)
    }

    /// The state of job `name`.
    pub fn job(&self, name: &str) -> Option<&JobState> {
        self.jobs.get(name)
    }

    /// All jobs, by name.
    pub fn jobs(&self) -> impl Iterator<Item = (&str, &JobState)> {
        self.jobs.iter().map(|(name, job)| (name.as_str(), job))
    }

    /// Set the state of job `name`.
    pub fn set_job(&mut self, name: &str, job: JobState) {
        self.jobs.insert(name.to_owned(), job);
    }
}

/// Write `bytes` to `path` through a temporary file in the same folder.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let name = path.file_name().ok_or_else(|| "the path has no file name".to_owned())?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let temp = dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    let written = (|| {
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(format!("cannot write {}: {e}", temp.display()));
    }
    if let Err(e) = std::fs::rename(&temp, path) {
        let _ = std::fs::remove_file(&temp);
        return Err(format!("cannot rename {} over it: {e}", temp.display()));
    }
    // Make the rename durable.
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| format!("cannot sync folder {}: {e}", dir.display()))
}
