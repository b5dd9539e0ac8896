//! Why a source cannot be used.

/// Why a source cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    #[error("unsupported CRL source {0:?}: use a path, file://, http://, https://, ldap:// or ldaps://")]
    Unsupported(String),
    #[error("bad CRL source URL {0:?}: {1}")]
    BadUrl(String, String),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("cannot start the HTTP client: {0}")]
    Client(String),
}
