//! `crlbatch-fetch`: the fetch stage. Where a job's CRLs come from, and how
//! to tell whether a CRL changed since the last run without parsing it.
//!
//! Sources are plain paths or `file://` URLs for now; HTTP(S) and LDAP
//! sources are the fetcher's next step and will land here, behind the same
//! [`Source`] type.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::Digest;

/// Why a source cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    #[error("unsupported CRL source {0:?}: only paths and file:// URLs are supported")]
    Unsupported(String),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

/// A CRL source as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A local file (from a plain path or a `file://` URL).
    File(PathBuf),
}

impl Source {
    /// Parse a configured source; relative paths resolve against `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Source, FetchError> {
        let path = if let Some(rest) = text.strip_prefix("file://") {
            // file:///abs/path or file://localhost/abs/path
            let rest = rest.strip_prefix("localhost").unwrap_or(rest);
            if !rest.starts_with('/') {
                return Err(FetchError::Unsupported(text.to_owned()));
            }
            PathBuf::from(percent_decode(rest))
        } else if text.contains("://") {
            return Err(FetchError::Unsupported(text.to_owned()));
        } else {
            PathBuf::from(text)
        };
        Ok(Source::File(if path.is_absolute() { path } else { base.join(path) }))
    }

    /// The local file of this source.
    pub fn path(&self) -> &Path {
        match self {
            Source::File(p) => p,
        }
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            if let Some(v) = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        let base = Path::new("/jobs");
        assert_eq!(Source::parse("a/b.crl", base).unwrap().path(), Path::new("/jobs/a/b.crl"));
        assert_eq!(Source::parse("/x/b.crl", base).unwrap().path(), Path::new("/x/b.crl"));
        assert_eq!(Source::parse("file:///x/a%20b.crl", base).unwrap().path(), Path::new("/x/a b.crl"));
        assert_eq!(Source::parse("file://localhost/x/b.crl", base).unwrap().path(), Path::new("/x/b.crl"));
        assert_eq!(
            Source::parse("http://example/x.crl", base),
            Err(FetchError::Unsupported("http://example/x.crl".into()))
        );
        assert!(Source::parse("file://host/x.crl", base).is_err());
    }
}
