//! Errors of a job run, each with its exit code class.

/// Exit code: another run of the job holds its lock (sysexits
/// EX_UNAVAILABLE); nothing was done.
pub const EXIT_BUSY: u8 = 69;

/// Why a job could not run (or complete).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// The job file is wrong (syntax, unknown key, bad value, missing CA file).
    #[error("{path}: {message}")]
    Config { path: String, message: String },
    /// The records input cannot be checked (missing, not Parquet, wrong schema).
    #[error(transparent)]
    Input(#[from] crlbatch_check::CheckError),
    /// An output could not be written or published.
    #[error(transparent)]
    Output(#[from] crlbatch_write::WriteError),
    /// The fetcher could not start (HTTP client, store folder).
    #[error("fetch: {0}")]
    Fetch(String),
    /// Another run of this job holds its lock.
    #[error("{0}")]
    Busy(String),
    /// The `[four]` step failed (its inputs, its key, its outputs).
    #[error(transparent)]
    Four(crlbatch_four::FourError),
    /// Shards to commit are missing or disagree: retry (or rerun them) later.
    #[error("{0}")]
    Incomplete(String),
    /// Job state (index cache, previous run) could not be used.
    #[error("{path}: {message}")]
    State { path: String, message: String },
}

impl JobError {
    /// The sysexits-style exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            JobError::Config { .. } => 78,
            JobError::Input(
                crlbatch_check::CheckError::Unreadable { .. } | crlbatch_check::CheckError::NoInput { .. },
            ) => 66,
            JobError::Input(crlbatch_check::CheckError::Write(_)) => 73,
            JobError::Input(crlbatch_check::CheckError::Keys { .. }) => 74,
            JobError::Input(_) => 65,
            JobError::Output(crlbatch_write::WriteError::Io { .. }) => 73,
            JobError::Output(_) => 74,
            JobError::State { .. } => 74,
            JobError::Fetch(_) => 74,
            JobError::Busy(_) => EXIT_BUSY,
            JobError::Incomplete(_) => 75,
            JobError::Four(e) => match e {
                crlbatch_four::FourError::Missing { .. } => 66,
                crlbatch_four::FourError::Key(_) | crlbatch_four::FourError::WrongKey { .. } => 78,
                crlbatch_four::FourError::Write(_) => 73,
                crlbatch_four::FourError::Internal(_) => 70,
                _ => 65,
            },
        }
    }
}
