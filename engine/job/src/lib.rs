//! `crlbatch-job`: job files and the run that chains the pipeline,
//! fetch → parse/verify → index → check → write, with atomic publication and
//! a manifest per run.

mod config;
mod crls;
mod error;
mod four;
mod manifest;
pub mod metrics;
pub mod progress;
mod publish;
mod remote;
mod run;
mod shard;
mod state;

pub use config::{
    Job, JobCa, DEFAULT_TIMEZONE, ENV_METRICS, ENV_OUTPUT_DIR, ENV_OVERRIDES, ENV_RECORDS, ENV_TLS_CA_FILE,
};
pub use error::{JobError, EXIT_BUSY};
pub use four::{FourCounts, FourStep};
pub use manifest::{
    Counts, DatasetReport, IndexSource, IssuerReport, Manifest, ShardInfo, ShardRun, SummaryCount, Timings,
    MANIFEST_VERSION,
};
pub use progress::{Progress, Step};
pub use run::{run, run_date, RunOptions, RunReport, EXIT_DATAERR, EXIT_OK, EXIT_TEMPFAIL};
pub use shard::{commit, LOCK_WAIT, PLAN_MAX_AGE_SECS};
pub use state::{Built, State};
