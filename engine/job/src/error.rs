//! Errors of a job run, each with its exit code class.

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
            JobError::Input(_) => 65,
            JobError::Output(crlbatch_write::WriteError::Io { .. }) => 73,
            JobError::Output(_) => 74,
            JobError::State { .. } => 74,
        }
    }
}
