//! `crlbatch-job`: job files and the run that chains the pipeline,
//! fetch → parse/verify → index → check → write, with atomic publication and
//! a manifest per run.

mod config;
mod error;
mod manifest;
pub mod metrics;
mod remote;
mod run;
mod state;

pub use config::{Job, JobCa, DEFAULT_TIMEZONE};
pub use error::{JobError, EXIT_BUSY};
pub use manifest::{Counts, DatasetReport, IndexSource, IssuerReport, Manifest, Timings, MANIFEST_VERSION};
pub use run::{run, run_date, RunOptions, RunReport, EXIT_DATAERR, EXIT_OK, EXIT_TEMPFAIL};
pub use state::{Built, State};
