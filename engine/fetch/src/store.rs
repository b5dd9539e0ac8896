//! The per-source store of a job (`<output>/_state/sources/<key>/`): the
//! last accepted CRL of each remote source, what was accepted (validators,
//! CRL number, validity, SHA-256), and the caller's index of it.
//!
//! A new body is written to a temporary file in the same folder, synced,
//! verified by the caller, and only then renamed to `crl-<sha256>.der` (its
//! content address); the description `source.json`, which names it by its
//! SHA-256, is then replaced by rename: that is the one commit point. A
//! crash before it leaves the previous description and its CRL file intact
//! (the new file is an orphan, removed later); after it, the new pair.
//! Older CRL files are removed after the commit.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crlbatch_crl::Timestamp;

use crate::{FetchError, Source};

/// What was accepted for one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMeta {
    pub source: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// SHA-256 of `crl.der`, hex.
    pub sha256: String,
    pub bytes: u64,
    /// cRLNumber in decimal.
    pub crl_number: Option<String>,
    pub this_update: Timestamp,
    pub next_update: Option<Timestamp>,
    pub accepted_at: Timestamp,
}

/// The store folder of one source.
#[derive(Debug, Clone)]
pub struct SourceStore {
    dir: PathBuf,
}

fn io(path: &Path, e: &std::io::Error) -> FetchError {
    FetchError::Io { path: path.display().to_string(), message: e.to_string() }
}

/// Make a rename or a new file in `dir` durable.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

impl SourceStore {
    /// The store of `source` under `root`, created if needed; temporary
    /// files left by a crashed run are removed.
    pub fn open(root: &Path, source: &Source) -> Result<Self, FetchError> {
        let dir = root.join(source.store_key());
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, &e))?;
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with(".incoming-") || name.starts_with(".index.crlidx.tmp-") {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The stored CRL file of a description (content-addressed).
    pub fn crl_path(&self, meta: &StoredMeta) -> PathBuf {
        self.dir.join(format!("crl-{}.der", meta.sha256))
    }

    fn meta_path(&self) -> PathBuf {
        self.dir.join("source.json")
    }

    /// Where the caller keeps its index of `crl.der`.
    pub fn index_path(&self) -> PathBuf {
        self.dir.join("index.crlidx")
    }

    /// A fresh temporary file name beside `crl.der`.
    pub fn temp_path(&self) -> PathBuf {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        self.dir.join(format!(".incoming-{}-{nanos:09}.tmp", std::process::id()))
    }

    /// What was last accepted, when `crl.der` is there and has the recorded
    /// size (a full SHA-256 check is the caller's, when it rebuilds).
    pub fn meta(&self) -> Option<StoredMeta> {
        let meta: StoredMeta = serde_json::from_slice(&std::fs::read(self.meta_path()).ok()?).ok()?;
        if meta.sha256.len() != 64 || !meta.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let size = std::fs::metadata(self.crl_path(&meta)).ok()?.len();
        (size == meta.bytes).then_some(meta)
    }

    /// Replace the stored CRL with the verified temporary file, then its
    /// description.
    pub fn accept(&self, temp: &Path, meta: &StoredMeta) -> Result<(), FetchError> {
        let crl = self.crl_path(meta);
        std::fs::rename(temp, &crl).map_err(|e| io(&crl, &e))?;
        sync_dir(&self.dir);
        // The commit point: the description now names the new file.
        self.write_meta(meta)?;
        self.remove_other_crls(meta);
        Ok(())
    }

    /// Forget the stored CRL (it no longer matches its description): the
    /// next fetch is unconditional.
    pub fn forget(&self) {
        let _ = std::fs::remove_file(self.meta_path());
        let _ = std::fs::remove_file(self.index_path());
        sync_dir(&self.dir);
    }

    /// Remove CRL files other than the one `meta` names (older ones, and
    /// orphans of a crash before a commit).
    fn remove_other_crls(&self, meta: &StoredMeta) {
        let keep = format!("crl-{}.der", meta.sha256);
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with("crl-") && name.ends_with(".der") && name != keep {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }

    /// Replace the description only (new validators for the same CRL).
    pub fn write_meta(&self, meta: &StoredMeta) -> Result<(), FetchError> {
        let path = self.meta_path();
        let json = serde_json::to_vec_pretty(meta)
            .map_err(|e| FetchError::Io { path: path.display().to_string(), message: e.to_string() })?;
        let tmp = self.temp_path();
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(&path, &e)
        })?;
        sync_dir(&self.dir);
        Ok(())
    }
}

/// Compare two cRLNumbers given in decimal (arbitrary length).
pub fn compare_crl_numbers(a: &str, b: &str) -> std::cmp::Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::compare_crl_numbers;
    use std::cmp::Ordering;

    #[test]
    fn crl_numbers_compare_as_integers() {
        assert_eq!(compare_crl_numbers("9", "10"), Ordering::Less);
        assert_eq!(compare_crl_numbers("010", "10"), Ordering::Equal);
        assert_eq!(compare_crl_numbers("123456789012345678901234567890", "99"), Ordering::Greater);
        assert_eq!(compare_crl_numbers("0", ""), Ordering::Equal);
    }
}
