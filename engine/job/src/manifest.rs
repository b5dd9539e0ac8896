//! The run manifest (`_manifest.json`), written last. It names no PPID, no
//! local user id and no basic four information.

use serde::{Deserialize, Serialize};

use crlbatch_check::InputFile;
use crlbatch_crl::Timestamp;
use crlbatch_index::CrlMeta;
use crlbatch_write::PartFile;

/// The manifest format version.
pub const MANIFEST_VERSION: u32 = 1;

/// How a CA's index was obtained in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexSource {
    /// The CRL files were unchanged (same SHA-256): the stored index was loaded.
    Reused,
    /// The CRLs were parsed, verified and indexed.
    Built,
    /// The current CRLs were rejected; the last good index was kept.
    LastGood,
    /// No usable index: every certificate of this issuer is `unknown`.
    Unusable,
}

/// One issuer key in the run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssuerReport {
    pub name: String,
    pub kid: String,
    pub ca_cert: String,
    pub ca_cert_sha256: String,
    pub index: IndexSource,
    /// Fresh at the evaluation time: verdicts can be `good`.
    pub usable: bool,
    /// Why not usable, or why the current CRL was rejected.
    pub detail: Option<String>,
    pub entries: u64,
    pub crls: Vec<CrlMeta>,
    /// One record per http(s) source (empty for local files).
    pub fetch: Vec<crlbatch_fetch::FetchRecord>,
}

/// Files of one output dataset for this run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatasetReport {
    /// Relative to the output folder, e.g. `results/run_date=2026-11-26`.
    pub dir: String,
    pub files: Vec<PartFile>,
    pub rows: u64,
}

/// Record counts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Counts {
    pub records: u64,
    pub checked: u64,
    pub attention: u64,
    pub new_since_previous_run: u64,
    pub rejected: u64,
    pub basic_four_changed: u64,
    pub emitted: u64,
}

impl std::ops::AddAssign<&Counts> for Counts {
    fn add_assign(&mut self, c: &Counts) {
        self.records += c.records;
        self.checked += c.checked;
        self.attention += c.attention;
        self.new_since_previous_run += c.new_since_previous_run;
        self.rejected += c.rejected;
        self.basic_four_changed += c.basic_four_changed;
        self.emitted += c.emitted;
    }
}

/// Seconds per step.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Timings {
    pub crls: f64,
    pub check: f64,
    pub publish: f64,
    pub total: f64,
}

/// `_manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub manifest_version: u32,
    pub run_id: String,
    pub job: String,
    pub job_file: String,
    pub engine_version: String,
    pub evaluation_time: Timestamp,
    pub run_date: String,
    pub timezone: String,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub exit_code: u8,
    pub status: String,
    pub issuers: Vec<IssuerReport>,
    pub input: InputReport,
    pub outputs: Outputs,
    pub counts: Counts,
    pub timings: Timings,
    /// In a shard's manifest (`.shards/.../shard-I/_shard.json`): which
    /// shard, of which plan, and its summary counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
    /// In a committed run's manifest: the shards it was made of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<Vec<ShardRun>>,
    /// With a `[four]` step: its counts (no values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub four: Option<crate::four::FourCounts>,
}

/// A shard's identity in its own manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardInfo {
    pub index: u32,
    pub count: u32,
    /// The plan all shards of one run share (evaluation time, run date).
    pub plan_id: String,
    /// Rows of this shard's share of the input.
    pub rows: u64,
    pub summary: Vec<SummaryCount>,
}

/// One summary row, as text (a shard's manifest carries them to the commit;
/// the report draws them).
pub use crlbatch_report::SummaryRow as SummaryCount;

/// One shard of a committed run (its rows carry the run's id, the plan id).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardRun {
    pub index: u32,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub rows: u64,
    pub exit_code: u8,
    pub timings: Timings,
}

/// The records read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InputReport {
    pub records: String,
    pub files: Vec<InputFile>,
    pub rows: u64,
}

/// The datasets written.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outputs {
    pub results: DatasetReport,
    pub summary: DatasetReport,
    pub rejects: DatasetReport,
    /// With a `[four]` step: the field-level diff and its unreadable rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub four_diff: Option<DatasetReport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub four_rejects: Option<DatasetReport>,
}
