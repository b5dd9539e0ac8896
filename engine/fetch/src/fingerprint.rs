//! Cheap and exact identities of local files, to tell whether a CRL changed
//! since the last run without parsing it.

use std::io::Read;
use std::path::Path;

use sha2::Digest;

use crate::FetchError;

/// What identifies a file's content cheaply (device, inode, size,
/// modification and change times) and exactly (SHA-256).
///
/// The change time (ctime) is updated by the kernel on every write, rename
/// or metadata change and cannot be set by users, so an unchanged full stat
/// means unchanged bytes (the rule git's index relies on).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fingerprint {
    pub size: u64,
    pub mtime_ns: i128,
    #[serde(default)]
    pub ctime_ns: i128,
    pub inode: u64,
    #[serde(default)]
    pub device: u64,
    pub sha256: Option<String>,
}

impl Fingerprint {
    /// Same file, not modified since (every stat field equal).
    pub fn same_stat(&self, other: &Fingerprint) -> bool {
        self.size == other.size
            && self.mtime_ns == other.mtime_ns
            && self.ctime_ns == other.ctime_ns
            && self.ctime_ns != 0
            && self.inode == other.inode
            && self.device == other.device
    }
}

/// Size, mtime and inode of a file (no hashing).
pub fn stat(path: &Path) -> Result<Fingerprint, FetchError> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path)
        .map_err(|e| FetchError::Io { path: path.display().to_string(), message: e.to_string() })?;
    let mtime_ns = i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec());
    let ctime_ns = i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec());
    Ok(Fingerprint { size: m.len(), mtime_ns, ctime_ns, inode: m.ino(), device: m.dev(), sha256: None })
}

/// SHA-256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String, FetchError> {
    let err = |e: std::io::Error| FetchError::Io { path: path.display().to_string(), message: e.to_string() };
    let mut f = std::fs::File::open(path).map_err(err)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(err)?;
        if n == 0 {
            break;
        }
        h.update(buf.get(..n).unwrap_or_default());
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
