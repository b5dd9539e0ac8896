//! Errors of the basic-four stage: each names a file (and, for rows, the
//! row and column), never a value.

use crate::key::KeyError;

/// Why a snapshot or diff could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FourError {
    #[error("{path}: {message}")]
    Missing { path: String, message: String },
    #[error("{path}: {message}")]
    Input { path: String, message: String },
    #[error("{path}: not a snapshot of crlbatch four: {message}")]
    Snapshot { path: String, message: String },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("{path}: the snapshot was made with another key (key id {snapshot}; the key given has id {given}): give the snapshot's key, or take a new snapshot")]
    WrongKey { path: String, snapshot: String, given: String },
    #[error("{what}: more than {limit}")]
    TooLarge { what: String, limit: u64 },
    #[error(transparent)]
    Write(#[from] crlbatch_write::WriteError),
    #[error("internal error: {0}")]
    Internal(String),
}
