//! Errors of the write layer: each names the file it concerns.

/// Why an output could not be written or published.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{path}: Parquet: {message}")]
    Parquet { path: String, message: String },
    #[error("schema file: {0}")]
    Schema(String),
}

impl WriteError {
    pub fn io(path: &std::path::Path, e: &std::io::Error) -> Self {
        WriteError::Io { path: path.display().to_string(), message: e.to_string() }
    }
}
