//! One run of a job: fetch → parse/verify → index → check → write.
//!
//! 1. For each CA: fingerprint its CRL files; when they are byte-identical
//!    (same SHA-256) to those of the stored index, load that index without
//!    parsing; otherwise parse, verify and index them, and store the result.
//!    A CRL that is rejected leaves the last good index in place.
//! 2. Check every record into a staging folder (`.staging/<run id>/`).
//! 3. Publish each dataset's `run_date=` partition with one atomic exchange,
//!    then the manifests (the run's last act), then the state for the next
//!    run. A crash at any point leaves no partial file under `results/`.
//!
//! A run holds `_state/run.lock` (flock) from start to end: a second run of
//! the same job (same output folder) exits at once with [`crate::EXIT_BUSY`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use arrow_array_shim::summary_batch;

use crlbatch_check::{CheckConfig, Emit, Issuers};
use crlbatch_crl::{FileDigest, ParseOptions, Timestamp};
use crlbatch_fetch::{FetchRecord, Fingerprint, Outcome, Source};
use crlbatch_index::{index_crls_with, FreshnessPolicy, RevocationIndex};
use crlbatch_write::{atomic, DatasetWriter, TableSchema};

use crate::config::{Job, JobCa};
use crate::error::JobError;
use crate::manifest::{
    Counts, DatasetReport, IndexSource, InputReport, IssuerReport, Manifest, Outputs, Timings, MANIFEST_VERSION,
};
use crate::remote::{self, RemoteCa};
use crate::state::{Built, State};

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: a CRL was rejected (bad signature, malformed, ...).
pub const EXIT_DATAERR: u8 = 65;
/// Exit code: a CRL was stale or not yet valid; retry later.
pub const EXIT_TEMPFAIL: u8 = 75;

/// How often a new CRL is expected (JPKI: daily). A source still serving a
/// CRL this much older than the evaluation time is "not updated yet".
pub const EXPECTED_UPDATE_INTERVAL_SECS: i64 = 86_400;

/// Options of one run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub at: Timestamp,
    /// Overrides the job's `output.emit`.
    pub emit: Option<Emit>,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub manifest: Manifest,
    pub out_dir: PathBuf,
    pub manifest_path: PathBuf,
}

mod arrow_array_shim {
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

/// A run id: UTC start time plus a per-process discriminator.
fn make_run_id(started: Timestamp) -> String {
    let (y, mo, d, h, mi, s) = started.fields();
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let tag = (u64::from(nanos) ^ (u64::from(std::process::id()) << 20)) & 0xff_ffff;
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z-{tag:06x}")
}

/// The run date in the job's time zone.
pub fn run_date(at: Timestamp, tz: chrono_tz::Tz) -> String {
    use chrono::TimeZone;
    match chrono::Utc.timestamp_opt(at.0, 0).single() {
        Some(t) => t.with_timezone(&tz).format("%Y-%m-%d").to_string(),
        None => "0000-00-00".to_owned(),
    }
}

/// A CA's index (if any), how it was obtained, and why it is degraded.
type Obtained = (Option<RevocationIndex>, IndexSource, Option<String>);

/// Obtain the index of one CA: reuse, build, or keep the last good one.
fn obtain_index(
    ca: &JobCa,
    state: &State,
    at: Timestamp,
    opts: &ParseOptions,
    log: &(dyn Fn(&str) + Sync),
) -> Result<Obtained, JobError> {
    let kid = ca.cert.kid_hex();
    let ca_sha = crlbatch_crl::hex(&ca.cert.sha256);
    // What the stored index was built from (a small file); the index itself
    // is read only when it is reused or kept as the last good one.
    let built = state.built(&kid).filter(|b| b.ca_cert_sha256 == ca_sha);
    // Cheap fingerprints first; hash only when they match the stored ones.
    let mut prints: Vec<(String, Fingerprint)> = Vec::new();
    let mut io_problem: Option<String> = None;
    let paths: Vec<&Path> = ca.sources.iter().filter_map(Source::local_path).collect();
    for p in &paths {
        match crlbatch_fetch::stat(p) {
            Ok(f) => prints.push((p.display().to_string(), f)),
            Err(e) => io_problem = Some(e.to_string()),
        }
    }
    if let (Some(built), None) = (&built, &io_problem) {
        if let Some(current) = unchanged(built, &prints) {
            if let Some(index) = state.index(&kid) {
                if current != built.sources {
                    // Same bytes, new stat (copied, touched): remember the new
                    // stat so the next run need not hash again.
                    state.save_built(&kid, &Built { ca_cert_sha256: ca_sha.clone(), sources: current })?;
                }
                log(&format!("ca {}: CRL unchanged, index reused (kid {kid})", ca.name));
                return Ok((Some(index), IndexSource::Reused, None));
            }
        }
    }
    let rejected = match io_problem {
        Some(p) => p,
        None => {
            let names: Vec<(String, &Path)> = paths.iter().map(|p| (p.display().to_string(), *p)).collect();
            match index_crls_with(&ca.cert, &names, at, opts, FreshnessPolicy::Defer) {
                Ok(mut index) => {
                    let sources = prints
                        .into_iter()
                        .zip(&index.meta().crls)
                        .map(|((p, mut f), meta)| {
                            f.sha256 = meta.sha256.clone();
                            (p, f)
                        })
                        .collect();
                    state.save(&kid, &index, &Built { ca_cert_sha256: ca_sha, sources })?;
                    index.compact();
                    log(&format!(
                        "ca {}: indexed {} entries from {} CRL(s) (kid {kid})",
                        ca.name,
                        index.len(),
                        names.len()
                    ));
                    return Ok((Some(index), IndexSource::Built, None));
                }
                Err(r) => r.to_string(),
            }
        }
    };
    log(&format!("ca {}: CRL rejected: {rejected}", ca.name));
    match built.and_then(|_| state.index(&kid)) {
        Some(index) => Ok((
            Some(index),
            IndexSource::LastGood,
            Some(format!("current CRL rejected ({rejected}); last good CRL kept")),
        )),
        None => Ok((None, IndexSource::Unusable, Some(format!("CRL rejected: {rejected}")))),
    }
}

/// When the CRL files are the ones the stored index was built from (same
/// paths and sizes, and either an unchanged stat, ctime included, or the same
/// SHA-256), their fingerprints as of now; `None` when anything changed.
fn unchanged(built: &Built, prints: &[(String, Fingerprint)]) -> Option<Vec<(String, Fingerprint)>> {
    let same_shape = built.sources.len() == prints.len()
        && built.sources.iter().zip(prints).all(|((p1, f1), (p2, f2))| p1 == p2 && f1.size == f2.size);
    if !same_shape {
        return None;
    }
    let mut current = Vec::with_capacity(prints.len());
    for ((_, old), (path, now)) in built.sources.iter().zip(prints) {
        if old.same_stat(now) {
            current.push((path.clone(), old.clone()));
            continue;
        }
        let sha = crlbatch_fetch::sha256_file(Path::new(path)).ok();
        if sha.is_none() || sha != old.sha256 {
            return None;
        }
        current.push((path.clone(), Fingerprint { sha256: sha, ..now.clone() }));
    }
    Some(current)
}

fn dataset_report(rel: String, files: Vec<crlbatch_write::PartFile>) -> DatasetReport {
    let rows = files.iter().map(|f| f.rows).sum();
    DatasetReport { dir: rel, files, rows }
}

/// Remove staging folders left by crashed runs.
fn clean_staging(staging_root: &Path) {
    if let Ok(entries) = std::fs::read_dir(staging_root) {
        for e in entries.flatten() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Run a job once.
pub fn run(job: &Job, opts: &RunOptions, log: &(dyn Fn(&str) + Sync)) -> Result<RunReport, JobError> {
    let t0 = Instant::now();
    let started = Timestamp::now();
    let run_id = make_run_id(started);
    let date = run_date(opts.at, job.timezone);
    let out = &job.out_dir;
    atomic::create_dir_all(out)?;
    let state = State::open(out)?;
    // One run of a job at a time, across processes: held until the run ends.
    let lock_path = state.dir().join("run.lock");
    let _lock = crlbatch_schedule::RunLock::try_acquire(&lock_path).map_err(|e| match e {
        crlbatch_schedule::LockError::Held { .. } => JobError::Busy(format!("job {}: {e}", job.name)),
        crlbatch_schedule::LockError::Io { .. } => {
            JobError::State { path: lock_path.display().to_string(), message: e.to_string() }
        }
    })?;
    // Under the lock, staging folders are those of crashed runs.
    let staging_root = out.join(".staging");
    clean_staging(&staging_root);
    let staging = staging_root.join(&run_id);
    atomic::create_dir_all(&staging)?;
    log(&format!("run {run_id}: job {} at {} (run_date {date})", job.name, opts.at));

    // The records are opened and their schemas checked first: a bad input
    // fails the run before any CRL work.
    let files = crlbatch_check::open_inputs_with(&job.records, job.max_row_group_bytes)?;

    // 1. CRLs → indexes.
    let parse_opts = ParseOptions { limits: job.limits, file_digest: FileDigest::Sha256 };
    let mut issuers = Issuers::new();
    let mut reports = Vec::new();
    let mut worst = EXIT_OK;
    // CAs are independent: obtain their indexes concurrently (hashing or
    // parsing one CRL does not wait for another). Remote CAs are fetched in
    // one pass on their own thread meanwhile.
    let remote_cas: Vec<usize> =
        job.cas.iter().enumerate().filter(|(_, c)| c.sources.iter().any(Source::is_remote)).map(|(i, _)| i).collect();
    let (obtained_local_results, remote) = std::thread::scope(|s| {
        let remote = (!remote_cas.is_empty()).then(|| {
            s.spawn(|| remote::obtain_remote(&job.cas, &remote_cas, state.dir(), &job.fetch, opts.at, job.limits, log))
        });
        let handles: Vec<_> = job
            .cas
            .iter()
            .enumerate()
            .filter(|(i, _)| !remote_cas.contains(i))
            .map(|(i, ca)| (i, s.spawn(|| obtain_index(ca, &state, opts.at, &parse_opts, log))))
            .collect();
        let local: Vec<(usize, Result<Obtained, JobError>)> = handles
            .into_iter()
            .map(|(i, h)| {
                let r = h.join().unwrap_or_else(|_| {
                    Err(JobError::State { path: "ca".into(), message: "indexing thread panicked".into() })
                });
                (i, r)
            })
            .collect();
        let remote = remote.map(|h| h.join().unwrap_or_else(|_| Err(JobError::Fetch("fetch thread panicked".into()))));
        (local, remote)
    });
    let mut fetched: Vec<(usize, RemoteCa)> = match remote {
        Some(r) => r?,
        None => Vec::new(),
    };
    let mut obtained: Vec<(Result<Obtained, JobError>, Vec<FetchRecord>)> = (0..job.cas.len())
        .map(|i| {
            if let Some(p) = fetched.iter().position(|(j, _)| *j == i) {
                let (_, r) = fetched.swap_remove(p);
                (Ok((r.index, r.source, r.detail)), r.fetch)
            } else {
                (Err(JobError::State { path: "ca".into(), message: "CA not processed".into() }), Vec::new())
            }
        })
        .collect();
    for (i, r) in obtained_local_results {
        if let Some(slot) = obtained.get_mut(i) {
            slot.0 = r;
        }
    }
    for (ca, (got, fetch)) in job.cas.iter().zip(obtained) {
        let (index, source, mut detail) = got?;
        // Fetch outcomes: refused data is fixed at the source (65); network
        // faults and a CRL not yet re-issued are worth a retry later (75).
        for f in &fetch {
            // The CRL served is the same as before (304, or the same CRL
            // again): fine while it is recent; once a newer one is due (JPKI
            // publishes daily), the publisher is late: retry later.
            let due = f.this_update.is_some_and(|t| t.0.saturating_add(EXPECTED_UPDATE_INTERVAL_SECS) <= opts.at.0);
            match f.outcome {
                Outcome::Rejected => worst = worst.max(EXIT_DATAERR),
                Outcome::Failed if worst == EXIT_OK => worst = EXIT_TEMPFAIL,
                Outcome::NotModified | Outcome::NotUpdatedYet if due && worst == EXIT_OK => worst = EXIT_TEMPFAIL,
                _ => {}
            }
        }
        let kid = ca.cert.kid_hex();
        let mut report = IssuerReport {
            name: ca.name.clone(),
            kid: kid.clone(),
            ca_cert: ca.cert_path.display().to_string(),
            ca_cert_sha256: crlbatch_crl::hex(&ca.cert.sha256),
            index: source,
            usable: false,
            detail: None,
            entries: 0,
            crls: Vec::new(),
            fetch,
        };
        if matches!(source, IndexSource::LastGood | IndexSource::Unusable) && report.fetch.is_empty() {
            worst = worst.max(EXIT_DATAERR);
        } else if source == IndexSource::Unusable && worst == EXIT_OK {
            // Every source answered but the set is not usable (e.g. two
            // sources serve the same partition): the data needs fixing.
            worst = EXIT_DATAERR;
        }
        match index {
            Some(index) => {
                let usable = index.meta().usable_at(opts.at);
                if let Err(why) = &usable {
                    log(&format!("ca {}: not usable at {}: {why}", ca.name, opts.at));
                    if worst == EXIT_OK {
                        worst = EXIT_TEMPFAIL;
                    }
                    detail = Some(match detail {
                        Some(d) => format!("{d}; {why}"),
                        None => why.clone(),
                    });
                }
                report.usable = usable.is_ok();
                report.entries = index.len();
                report.crls = index.meta().crls.clone();
                issuers.add_index(Arc::new(index), opts.at);
            }
            None => issuers.add_unusable(ca.cert.kid.clone(), detail.clone().unwrap_or_default()),
        }
        report.detail = detail;
        reports.push(report);
    }
    let t_crls = t0.elapsed().as_secs_f64();

    // 2. Check.
    let t1 = Instant::now();
    let previous = state.previous_keys()?;
    let cfg = CheckConfig {
        records: job.records.clone(),
        at: opts.at,
        emit: opts.emit.unwrap_or(job.emit),
        run_id: run_id.clone(),
        threads: job.threads,
    };
    let results =
        crlbatch_check::check(&cfg, &files, &issuers, &previous, &staging.join("results"), &staging.join("rejects"))?;
    let summary_spec = TableSchema::summary()?;
    let mut sw = DatasetWriter::new(
        &staging.join("summary"),
        summary_spec.arrow()?,
        summary_spec.schema_version,
        &run_id,
        "part",
    )?;
    let batch = summary_batch(&summary_spec.arrow()?, &results.summary, &run_id)
        .map_err(|e| crlbatch_write::WriteError::Schema(e.to_string()))?;
    sw.write(&batch)?;
    let summary_files = sw.finish()?;
    let t_check = t1.elapsed().as_secs_f64();

    // 3. Publish: partitions, then manifests, then state.
    let t2 = Instant::now();
    let part = format!("run_date={date}");
    for dataset in ["results", "summary", "rejects"] {
        atomic::replace_dir(&staging.join(dataset), &out.join(dataset).join(&part))?;
    }
    let _ = std::fs::remove_dir_all(&staging);
    let records_rows: u64 = results.inputs.iter().map(|f| f.rows).sum();
    let status = match worst {
        EXIT_OK => "ok",
        EXIT_TEMPFAIL => "stale_crl",
        _ => "rejected_crl",
    };
    let mut manifest = Manifest {
        manifest_version: MANIFEST_VERSION,
        run_id: run_id.clone(),
        job: job.name.clone(),
        job_file: job.file.display().to_string(),
        engine_version: env!("CARGO_PKG_VERSION").to_owned(),
        evaluation_time: opts.at,
        run_date: date.clone(),
        timezone: job.timezone.name().to_owned(),
        started_at: started,
        finished_at: started,
        exit_code: worst,
        status: status.to_owned(),
        issuers: reports,
        input: InputReport {
            records: job.records.display().to_string(),
            files: results.inputs.clone(),
            rows: records_rows,
        },
        outputs: Outputs {
            results: dataset_report(format!("results/{part}"), results.results.clone()),
            summary: dataset_report(format!("summary/{part}"), summary_files),
            rejects: dataset_report(format!("rejects/{part}"), results.rejects.clone()),
        },
        counts: Counts {
            records: records_rows,
            checked: results.rows_checked,
            attention: results.rows_attention,
            new_since_previous_run: results.rows_new,
            rejected: results.rows_rejected,
            basic_four_changed: results.basic_four_changed,
            emitted: results.rows_emitted,
        },
        timings: Timings { crls: t_crls, check: t_check, publish: 0.0, total: 0.0 },
    };
    manifest.timings.publish = t2.elapsed().as_secs_f64();
    manifest.timings.total = t0.elapsed().as_secs_f64();
    manifest.finished_at = Timestamp::now();
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| JobError::State { path: out.display().to_string(), message: e.to_string() })?;
    atomic::write_file(&out.join("manifests").join(&part).join("_manifest.json"), &json)?;
    let manifest_path = out.join("_manifest.json");
    atomic::write_file(&manifest_path, &json)?;
    state.save_keys(&results.flagged)?;
    if let Some(path) = &job.metrics {
        let last_success = state.last_success(if worst == EXIT_OK { Some(manifest.finished_at) } else { None })?;
        crate::metrics::write(path, &crate::metrics::render(&manifest, &results.summary, last_success))?;
    }
    // The analyst report (report.html) beside the outputs; failing to write it fails the run.
    let report_rows: Vec<crlbatch_report::SummaryRow> = results
        .summary
        .iter()
        .map(|((role, kid, status, reason), count, b4)| crlbatch_report::SummaryRow {
            role: (*role).to_owned(),
            issuer_kid: kid.clone(),
            status: status.name().to_owned(),
            reason: reason.map(|r| r.name().to_owned()),
            count: *count,
            basic_four_changed: *b4,
        })
        .collect();
    let report_json = serde_json::to_value(&manifest)
        .map_err(|e| JobError::State { path: out.display().to_string(), message: e.to_string() })?;
    crlbatch_report::write_for_run(out, &report_json, &report_rows).map_err(|e| match e {
        crlbatch_report::ReportError::Write(w) => JobError::Output(w),
        other => JobError::State {
            path: out.join(crlbatch_report::REPORT_FILE).display().to_string(),
            message: other.to_string(),
        },
    })?;
    log(&format!(
        "run {run_id}: {} records, {} need attention ({} new), {} rejected, basic four changed {}; exit {worst}",
        manifest.counts.records,
        manifest.counts.attention,
        manifest.counts.new_since_previous_run,
        manifest.counts.rejected,
        manifest.counts.basic_four_changed
    ));
    Ok(RunReport { manifest, out_dir: out.clone(), manifest_path })
}
