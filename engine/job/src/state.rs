//! Job state under `<output dir>/_state/` (ignored by Hive readers: the name
//! starts with `_`): the last good index per issuer key with the fingerprints
//! of the CRL files it was built from, and the record keys the last
//! successful run flagged.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crlbatch_check::KeyFile;
use crlbatch_fetch::Fingerprint;
use crlbatch_index::RevocationIndex;

use crate::error::JobError;

/// What an index in the state was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Built {
    pub ca_cert_sha256: String,
    pub sources: Vec<(String, Fingerprint)>,
}

/// The state folder of one job output.
#[derive(Debug, Clone)]
pub struct State {
    dir: PathBuf,
}

fn err(path: &Path, e: impl std::fmt::Display) -> JobError {
    JobError::State { path: path.display().to_string(), message: e.to_string() }
}

impl State {
    pub fn open(out_dir: &Path) -> Result<State, JobError> {
        let dir = out_dir.join("_state");
        crlbatch_write::atomic::create_dir_all(&dir)?;
        Ok(State { dir })
    }

    /// The state folder (`<output>/_state`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn index_path(&self, kid: &str) -> PathBuf {
        self.dir.join(crlbatch_index::index_file_name(kid))
    }

    fn built_path(&self, kid: &str) -> PathBuf {
        self.dir.join(format!("{kid}.built.json"))
    }

    /// What the stored index of `kid` was built from, if any.
    pub fn built(&self, kid: &str) -> Option<Built> {
        serde_json::from_slice(&std::fs::read(self.built_path(kid)).ok()?).ok()
    }

    /// The stored index of `kid`. A corrupt stored index is treated as absent
    /// (it will be rebuilt).
    pub fn index(&self, kid: &str) -> Option<RevocationIndex> {
        RevocationIndex::load(&self.index_path(kid)).ok()
    }

    /// Store a freshly built index (index first, then its description).
    pub fn save(&self, kid: &str, index: &RevocationIndex, built: &Built) -> Result<(), JobError> {
        let p = self.index_path(kid);
        index.save(&p).map_err(|e| err(&p, e))?;
        self.save_built(kid, built)
    }

    /// Replace the description of the stored index of `kid`.
    pub fn save_built(&self, kid: &str, built: &Built) -> Result<(), JobError> {
        let p = self.built_path(kid);
        let json = serde_json::to_vec_pretty(built).map_err(|e| err(&p, e))?;
        crlbatch_write::atomic::write_file(&p, &json)?;
        Ok(())
    }

    /// The finish time of the latest successful run: `now` when this run
    /// succeeded (recorded), else the recorded one (for the metrics).
    pub fn last_success(
        &self,
        now: Option<crlbatch_crl::Timestamp>,
    ) -> Result<Option<crlbatch_crl::Timestamp>, JobError> {
        let p = self.dir.join("last_success");
        if let Some(t) = now {
            crlbatch_write::atomic::write_file(&p, t.to_rfc3339().as_bytes())?;
            return Ok(Some(t));
        }
        Ok(std::fs::read_to_string(&p).ok().and_then(|s| crlbatch_crl::Timestamp::parse_rfc3339(s.trim()).ok()))
    }

    fn keys_path(&self) -> PathBuf {
        self.dir.join("flagged.keys")
    }

    /// Hold `_state/run.lock`: one run (or commit, or shard CRL step) of the
    /// job at a time. `wait`: how long to wait for another holder (none: fail
    /// at once with [`JobError::Busy`]).
    pub fn lock_run(&self, job: &str) -> Result<crlbatch_schedule::RunLock, JobError> {
        self.lock(job, "run.lock", None)
    }

    /// Hold a lock file in `_state/`, waiting up to `wait` for it.
    pub fn lock(
        &self,
        job: &str,
        name: &str,
        wait: Option<std::time::Duration>,
    ) -> Result<crlbatch_schedule::RunLock, JobError> {
        let path = self.dir.join(name);
        let r = match wait {
            None => crlbatch_schedule::RunLock::try_acquire(&path),
            Some(w) => crlbatch_schedule::RunLock::acquire_within(&path, w),
        };
        r.map_err(|e| match e {
            crlbatch_schedule::LockError::Held { .. } => JobError::Busy(format!("job {job}: {e}")),
            crlbatch_schedule::LockError::Io { .. } => {
                JobError::State { path: path.display().to_string(), message: e.to_string() }
            }
        })
    }

    /// Keys of the records the previous successful run flagged (empty on the
    /// first run): the keys file, mapped (format: `crlbatch_check::keys`).
    pub fn previous_keys(&self) -> Result<KeyFile, JobError> {
        open_keys(&self.keys_path())
    }

    /// Where a run writes the keys for the next run, until it succeeds.
    /// Leftovers of a run that failed or was killed (the file, its
    /// temporary and its spilled runs) are removed first; the caller holds
    /// the run lock.
    pub fn pending_keys_path(&self) -> PathBuf {
        let p = self.dir.join("flagged.keys.next");
        crlbatch_check::keys::remove_unfinished(&p);
        p
    }

    /// Make the keys written at `pending` the previous-run keys (after the
    /// run's outputs are published): a rename in `_state/`.
    pub fn install_keys(&self, pending: &Path) -> Result<(), JobError> {
        let to = self.keys_path();
        std::fs::rename(pending, &to).map_err(|e| err(&to, e))?;
        crlbatch_write::atomic::sync_dir(&self.dir)?;
        Ok(())
    }
}

/// Open a keys file (missing: empty); its faults are state faults.
fn open_keys(path: &Path) -> Result<KeyFile, JobError> {
    KeyFile::open(path).map_err(|e| match e {
        crlbatch_check::CheckError::Keys { path, message } => JobError::State {
            path,
            message: format!(
                "{message} (delete it to start afresh: the next run then counts every record needing attention as new)"
            ),
        },
        other => JobError::Input(other),
    })
}
