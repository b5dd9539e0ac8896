//! Publishing a run's outputs: the summary table, the `run_date=`
//! partitions (one atomic exchange each), then the manifests (the run's last
//! act), then the state for the next run, metrics and the report.

use std::path::{Path, PathBuf};

use crlbatch_check::SummaryKey;
use crlbatch_write::{atomic, DatasetWriter, PartFile, TableSchema};

use crate::config::Job;
use crate::error::JobError;
use crate::manifest::{DatasetReport, Manifest, SummaryCount};
use crate::run::EXIT_OK;
use crate::state::State;

/// The datasets of a run, each published as one `run_date=` partition.
pub(crate) const DATASETS: [&str; 3] = ["results", "summary", "rejects"];
/// Published too when the run staged them (the `[four]` step).
pub(crate) const OPTIONAL_DATASETS: [&str; 2] = ["four_diff", "four_rejects"];

pub(crate) mod arrow_array_shim {
    //! The summary table as an Arrow batch.
    use std::sync::Arc;

    use arrow_array::builder::{Int64Builder, StringBuilder};
    use arrow_array::{ArrayRef, RecordBatch};
    use arrow_schema::{ArrowError, SchemaRef};

    use crlbatch_check::SummaryKey;

    pub fn summary_batch(
        schema: &SchemaRef,
        rows: &[(SummaryKey, u64, u64)],
        run_id: &str,
    ) -> Result<RecordBatch, ArrowError> {
        let mut role = StringBuilder::new();
        let mut kid = StringBuilder::new();
        let mut status = StringBuilder::new();
        let mut reason = StringBuilder::new();
        let mut count = Int64Builder::new();
        let mut b4c = Int64Builder::new();
        let mut run = StringBuilder::new();
        for ((r, k, s, rsn), n, b) in rows {
            role.append_value(r);
            kid.append_value(k);
            status.append_value(s.name());
            reason.append_option(rsn.map(|x| x.name()));
            count.append_value(i64::try_from(*n).unwrap_or(i64::MAX));
            b4c.append_value(i64::try_from(*b).unwrap_or(i64::MAX));
            run.append_value(run_id);
        }
        let cols: Vec<ArrayRef> = vec![
            Arc::new(role.finish()),
            Arc::new(kid.finish()),
            Arc::new(status.finish()),
            Arc::new(reason.finish()),
            Arc::new(count.finish()),
            Arc::new(b4c.finish()),
            Arc::new(run.finish()),
        ];
        RecordBatch::try_new(schema.clone(), cols)
    }
}

/// Write the summary table into `dir`.
pub(crate) fn write_summary(
    dir: &Path,
    summary: &[(SummaryKey, u64, u64)],
    run_id: &str,
) -> Result<Vec<PartFile>, JobError> {
    let spec = TableSchema::summary()?;
    let mut sw = DatasetWriter::new(dir, spec.arrow()?, spec.schema_version, run_id, "part")?;
    let batch = arrow_array_shim::summary_batch(&spec.arrow()?, summary, run_id)
        .map_err(|e| crlbatch_write::WriteError::Schema(e.to_string()))?;
    sw.write(&batch)?;
    Ok(sw.finish()?)
}

/// The summary as text rows (a shard's manifest, the report).
pub(crate) fn summary_counts(summary: &[(SummaryKey, u64, u64)]) -> Vec<SummaryCount> {
    summary
        .iter()
        .map(|((role, kid, status, reason), n, b)| SummaryCount {
            role: (*role).to_owned(),
            issuer_kid: kid.clone(),
            status: status.name().to_owned(),
            reason: reason.map(|r| r.name().to_owned()),
            count: *n,
            basic_four_changed: *b,
        })
        .collect()
}

/// Put each staged dataset at `<out>/<dataset>/run_date=<date>`, atomically.
pub(crate) fn publish_datasets(staging: &Path, out: &Path, date: &str) -> Result<(), JobError> {
    let part = format!("run_date={date}");
    for dataset in DATASETS {
        atomic::replace_dir(&staging.join(dataset), &out.join(dataset).join(&part))?;
    }
    for dataset in OPTIONAL_DATASETS {
        let target = out.join(dataset).join(&part);
        if staging.join(dataset).is_dir() {
            atomic::replace_dir(&staging.join(dataset), &target)?;
        } else if target.exists() {
            // A re-run of this date without the step: its old partition
            // must not stand beside the new results (moved aside in one
            // rename, then deleted).
            let aside = staging.join(format!("{dataset}.old"));
            std::fs::rename(&target, &aside).map_err(|e| crlbatch_write::WriteError::io(&target, &e))?;
            let _ = std::fs::remove_dir_all(&aside);
        }
    }
    Ok(())
}

pub(crate) fn dataset_report(rel: String, files: Vec<crlbatch_write::PartFile>) -> DatasetReport {
    let rows = files.iter().map(|f| f.rows).sum();
    DatasetReport { dir: rel, files, rows }
}

/// Remove staging folders left by crashed runs.
pub(crate) fn clean_staging(staging_root: &Path) {
    if let Ok(entries) = std::fs::read_dir(staging_root) {
        for e in entries.flatten() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// After the datasets: the manifests, the keys for the next run, metrics and
/// the report. Returns the path of `_manifest.json`.
pub(crate) fn finish(
    job: &Job,
    state: &State,
    manifest: &Manifest,
    summary: &[(SummaryKey, u64, u64)],
    flagged_keys: &Path,
) -> Result<PathBuf, JobError> {
    let out = &job.out_dir;
    let part = format!("run_date={}", manifest.run_date);
    let json = serde_json::to_vec_pretty(manifest)
        .map_err(|e| JobError::State { path: out.display().to_string(), message: e.to_string() })?;
    atomic::write_file(&out.join("manifests").join(&part).join("_manifest.json"), &json)?;
    let manifest_path = out.join("_manifest.json");
    atomic::write_file(&manifest_path, &json)?;
    state.install_keys(flagged_keys)?;
    if let Some(path) = &job.metrics {
        let ok = manifest.exit_code == EXIT_OK;
        let last_success = state.last_success(if ok { Some(manifest.finished_at) } else { None })?;
        crate::metrics::write(path, &crate::metrics::render(manifest, summary, last_success))?;
    }
    // The analyst report (report.html) beside the outputs; failing to write it fails the run.
    let report_rows = summary_counts(summary);
    let report_json = serde_json::to_value(manifest)
        .map_err(|e| JobError::State { path: out.display().to_string(), message: e.to_string() })?;
    crlbatch_report::write_for_run(out, &report_json, &report_rows).map_err(|e| match e {
        crlbatch_report::ReportError::Write(w) => JobError::Output(w),
        other => JobError::State {
            path: out.join(crlbatch_report::REPORT_FILE).display().to_string(),
            message: other.to_string(),
        },
    })?;
    Ok(manifest_path)
}
