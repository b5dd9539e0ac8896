//! Errors of the index layer.

/// Why an index could not be written, read or compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{path}: not a crlbatch index file (bad magic)")]
    NotAnIndex { path: String },
    #[error("{path}: index format version {found} is not supported (this build reads version {supported})")]
    UnsupportedVersion { path: String, found: u32, supported: u32 },
    #[error("{path}: index file is truncated ({actual} bytes, header says {expected})")]
    Truncated { path: String, expected: u64, actual: u64 },
    #[error("{path}: index file is corrupt (checksum {actual:08x}, expected {expected:08x})")]
    Checksum { path: String, expected: u32, actual: u32 },
    #[error("{path}: index file is corrupt: {what}")]
    Corrupt { path: String, what: String },
    #[error("{path}: index file is {size} bytes, over the limit of {limit}")]
    TooLarge { path: String, size: u64, limit: u64 },
    #[error("indexes belong to different issuers ({left} and {right})")]
    IssuerMismatch { left: String, right: String },
}
