//! Errors of the check stage: each names the input file and, where it
//! applies, the column. Never a record value (they hold personal data).

/// Why a records input cannot be checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    #[error("{path}: cannot read records: {message}")]
    Unreadable { path: String, message: String },
    #[error("{path}: no Parquet files (*.parquet) found")]
    NoInput { path: String },
    #[error("{path}: not a Parquet file: {message}")]
    NotParquet { path: String, message: String },
    #[error("{path}: missing required column {column:?}")]
    MissingColumn { path: String, column: String },
    #[error("{path}: column {column:?} has type {found}, expected {expected}")]
    WrongType { path: String, column: String, found: String, expected: String },
    #[error("{path}: {what}")]
    TooLarge { path: String, what: String },
    #[error("{path}: row group {row_group}: {message}")]
    Decode { path: String, row_group: usize, message: String },
    /// The keys of flagged records (`new_since_previous_run`).
    #[error("{path}: {message}")]
    Keys { path: String, message: String },
    #[error(transparent)]
    Write(#[from] crlbatch_write::WriteError),
}
