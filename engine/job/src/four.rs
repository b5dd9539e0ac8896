//! The optional `[four]` step of a run: after the check, compare the latest
//! signing certificates against a keyed snapshot (`crlbatch four`), judging
//! each old certificate against this run's CRL indexes, and publish the
//! field-level diff as `four_diff/run_date=D/` (rows that could not be read:
//! `four_rejects/run_date=D/`). No basic four value reaches any output or
//! log: only PPIDs, serials, key ids and booleans.

use std::path::{Path, PathBuf};

use crlbatch_check::{IssuerState, Issuers};
use crlbatch_crl::Timestamp;
use crlbatch_four::{DiffCounts, FourError, FourKey, Revocations};

use crate::error::JobError;

/// `[four]` of a job file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FourStep {
    /// The latest signing certificates: `(ppid, sign_cert_der)` Parquet
    /// (schemas/four-certs.schema.json), a file or a folder.
    pub certs: PathBuf,
    /// The snapshot to compare against (`crlbatch four snapshot`).
    pub snapshot: PathBuf,
    /// The environment variable holding the HMAC key.
    pub key_env: String,
}

/// The counts of the step, for the manifest (PPIDs per outcome; no values).
pub type FourCounts = DiffCounts;

/// What the step wrote into staging.
#[derive(Debug)]
pub(crate) struct FourOutcome {
    pub counts: FourCounts,
    pub parts: Vec<crlbatch_write::PartFile>,
    pub reject_parts: Vec<crlbatch_write::PartFile>,
}

/// The key, and the inputs checked against it, before any CRL work: a
/// missing key, a snapshot made with another key or a missing input fails
/// the run at once, not after the night's check.
pub(crate) fn key(step: &FourStep, job_file: &Path) -> Result<FourKey, JobError> {
    let key = FourKey::from_env(&step.key_env)
        .map_err(|e| JobError::Config { path: job_file.display().to_string(), message: format!("[four]: {e}") })?;
    crlbatch_four::preflight(&step.certs, &step.snapshot, &key)?;
    Ok(key)
}

/// The run's issuers as the old certificates' judge: an issuer key whose
/// CRLs are not usable at the evaluation time answers `unknown`, with why.
fn revocations(issuers: &Issuers) -> Revocations {
    let mut r = Revocations::new();
    for i in &issuers.list {
        match &i.state {
            IssuerState::Ready { index, usable: Ok(()), .. } => r.add_index(index.clone()),
            IssuerState::Ready { usable: Err(why), .. } => r.add_unusable(&i.kid_hex, why.clone()),
            IssuerState::Unusable(why) => r.add_unusable(&i.kid_hex, why.clone()),
        }
    }
    r
}

/// Run the step into `staging/four_diff` and `staging/four_rejects`.
pub(crate) fn run_step(
    step: &FourStep,
    key: &FourKey,
    issuers: &Issuers,
    at: Timestamp,
    staging: &Path,
    run_id: &str,
) -> Result<FourOutcome, JobError> {
    let revs = revocations(issuers);
    let r = crlbatch_four::diff(
        &step.certs,
        &step.snapshot,
        key,
        &revs,
        at,
        &staging.join("four_diff"),
        &staging.join("four_rejects"),
        run_id,
    )
    .map_err(JobError::from)?;
    let counts = r.counts;
    tracing::info!(
        compared = counts.compared,
        name_changed = counts.name_changed,
        address_changed = counts.address_changed,
        birth_date_changed = counts.birth_date_changed,
        gender_changed = counts.gender_changed,
        old_revoked_affiliation_changed = counts.old_revoked_affiliation_changed,
        rejected = counts.rejected,
        "basic four diff"
    );
    Ok(FourOutcome { counts, parts: r.parts, reject_parts: r.reject_parts })
}

impl From<FourError> for JobError {
    fn from(e: FourError) -> Self {
        JobError::Four(e)
    }
}
