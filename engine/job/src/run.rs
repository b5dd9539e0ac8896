//! One run of a job: fetch → parse/verify → index → check → write.
//!
//! 1. For each CA: fingerprint its CRL files; when they are byte-identical
//!    (same SHA-256) to those of the stored index, load that index without
//!    parsing; otherwise parse, verify and index them, and store the result.
//!    A CRL that is rejected leaves the last good index in place (`crls`).
//! 2. Check every record into a staging folder (`.staging/<run id>/`).
//! 3. Publish each dataset's `run_date=` partition with one atomic exchange,
//!    then the manifests (the run's last act), then the state for the next
//!    run (`publish`). A crash at any point leaves no partial file under
//!    `results/`.
//!
//! A run holds `_state/run.lock` (flock) from start to end: a second run of
//! the same job (same output folder) exits at once with [`crate::EXIT_BUSY`].
//! With a shard (`--shard I/N`) the run checks only its share and publishes a
//! shard output instead (see `shard`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crlbatch_check::{CheckConfig, CheckOutput, CheckOutputs, Emit, Issuers, KeyView, RecordsFile, Shard};
use crlbatch_crl::Timestamp;
use crlbatch_write::atomic;

use crate::config::Job;
use crate::crls::obtain_all;
use crate::error::JobError;
use crate::manifest::{Counts, InputReport, IssuerReport, Manifest, Outputs, Timings, MANIFEST_VERSION};
use crate::progress::{Progress, Step};
use crate::publish::{clean_staging, dataset_report, finish, publish_datasets, write_summary};
use crate::state::State;

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
    /// `at` was given by the operator (not "now"); shards then use it as is.
    pub at_given: bool,
    /// Overrides the job's `output.emit`.
    pub emit: Option<Emit>,
    /// Check only this share of the input and publish a shard output.
    pub shard: Option<Shard>,
    /// Counters for a progress display.
    pub progress: Arc<Progress>,
}

impl RunOptions {
    pub fn new(at: Timestamp) -> RunOptions {
        RunOptions { at, at_given: true, emit: None, shard: None, progress: Arc::default() }
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub manifest: Manifest,
    pub out_dir: PathBuf,
    pub manifest_path: PathBuf,
}

/// A run id: UTC start time plus a per-process discriminator.
pub(crate) fn make_run_id(started: Timestamp) -> String {
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

/// The exit class's status word in the manifest.
pub(crate) fn status_word(worst: u8) -> &'static str {
    match worst {
        EXIT_OK => "ok",
        EXIT_TEMPFAIL => "stale_crl",
        _ => "rejected_crl",
    }
}

/// Run a job once (or one shard of it, see [`RunOptions::shard`]).
pub fn run(job: &Job, opts: &RunOptions) -> Result<RunReport, JobError> {
    match opts.shard {
        Some(shard) => crate::shard::run_shard(job, opts, shard),
        None => run_whole(job, opts),
    }
}

fn run_whole(job: &Job, opts: &RunOptions) -> Result<RunReport, JobError> {
    let t0 = Instant::now();
    let started = Timestamp::now();
    let run_id = make_run_id(started);
    let date = run_date(opts.at, job.timezone);
    let out = &job.out_dir;
    let progress = &opts.progress;
    atomic::create_dir_all(out)?;
    let state = State::open(out)?;
    // One run of a job at a time, across processes: held until the run ends.
    let _lock = state.lock_run(&job.name)?;
    // Under the lock, staging folders are those of crashed runs.
    let staging_root = out.join(".staging");
    clean_staging(&staging_root);
    let staging = staging_root.join(&run_id);
    atomic::create_dir_all(&staging)?;
    tracing::info!(run_id = run_id.as_str(), job = job.name.as_str(), at = %opts.at, run_date = date.as_str(), "run started");
    log_overrides(job);

    // The records are opened and their schemas checked first, and the
    // `[four]` key read: a bad input or a missing key fails the run before
    // any CRL work.
    let files = crlbatch_check::open_inputs_with(&job.records, job.max_row_group_bytes)?;
    let four_key = job.four.as_ref().map(|f| crate::four::key(f, &job.file)).transpose()?;
    progress.rows_total.store(files.iter().map(|f| f.rows).sum(), std::sync::atomic::Ordering::Relaxed);

    // 1. CRLs → indexes.
    // The previous run's keys (a file of millions: mapped and checked) are
    // opened meanwhile on another thread.
    progress.set_step(Step::Crls);
    let (crls, previous) = std::thread::scope(|s| {
        let previous = s.spawn(|| state.previous_keys());
        let crls = obtain_all(job, &state, opts.at, progress);
        let previous = previous.join().unwrap_or_else(|_| {
            Err(JobError::State { path: state.dir().display().to_string(), message: "keys thread panicked".into() })
        });
        (crls, previous)
    });
    let (crls, previous) = (crls?, previous?);
    let worst = crls.worst;
    let t_crls = t0.elapsed().as_secs_f64();

    // 2. Check.
    progress.set_step(Step::Check);
    let t1 = Instant::now();
    let cfg = check_config(job, opts, opts.at, &run_id, None);
    let keys = state.pending_keys_path();
    let results = check_into(&cfg, &files, &crls.issuers, previous.view(), &staging, &keys)?;
    let summary_files = write_summary(&staging.join("summary"), &results.summary, &run_id)?;
    let four = match (&job.four, &four_key) {
        (Some(step), Some(key)) => Some(crate::four::run_step(step, key, &crls.issuers, opts.at, &staging, &run_id)?),
        _ => None,
    };
    let t_check = t1.elapsed().as_secs_f64();

    // 3. Publish: partitions, then manifests, then state.
    progress.set_step(Step::Publish);
    let t2 = Instant::now();
    publish_datasets(&staging, out, &date)?;
    let _ = std::fs::remove_dir_all(&staging);
    let mut manifest = build_manifest(
        job,
        ManifestParts {
            run_id: &run_id,
            at: opts.at,
            date: &date,
            started,
            worst,
            issuers: crls.reports,
            results: &results,
            summary_files,
            t_crls,
            t_check,
        },
    );
    if let Some(f) = four {
        manifest.outputs.four_diff = Some(dataset_report(format!("four_diff/run_date={date}"), f.parts));
        manifest.outputs.four_rejects = Some(dataset_report(format!("four_rejects/run_date={date}"), f.reject_parts));
        manifest.four = Some(f.counts);
    }
    manifest.timings.publish = t2.elapsed().as_secs_f64();
    manifest.timings.total = t0.elapsed().as_secs_f64();
    manifest.finished_at = Timestamp::now();
    let manifest_path = finish(job, &state, &manifest, &results.summary, &keys)?;
    progress.set_step(Step::Done);
    log_finished(&manifest);
    Ok(RunReport { manifest, out_dir: out.clone(), manifest_path })
}

/// Settings taken from the environment, named (not their values' secrets).
pub(crate) fn log_overrides(job: &Job) {
    for var in &job.overridden {
        tracing::info!(variable = *var, "job setting overridden by the environment");
    }
}

/// How step 2 checks the records of `job`: all of them, or a shard's share.
pub(crate) fn check_config(
    job: &Job,
    opts: &RunOptions,
    at: Timestamp,
    run_id: &str,
    shard: Option<Shard>,
) -> CheckConfig {
    CheckConfig {
        records: job.records.clone(),
        at,
        emit: opts.emit.unwrap_or(job.emit),
        run_id: run_id.to_owned(),
        threads: job.threads,
        key_buffer_keys: job.key_buffer_keys,
        shard,
        progress: Some(opts.progress.rows_done.clone()),
    }
}

/// Step 2: check into `staging/results` and `staging/rejects`; the keys of
/// the records needing attention into the keys file `keys`.
pub(crate) fn check_into(
    cfg: &CheckConfig,
    files: &[RecordsFile],
    issuers: &Issuers,
    previous: KeyView<'_>,
    staging: &Path,
    keys: &Path,
) -> Result<CheckOutput, JobError> {
    let outputs = CheckOutputs {
        results_dir: staging.join("results"),
        rejects_dir: staging.join("rejects"),
        keys: keys.to_path_buf(),
    };
    Ok(crlbatch_check::check(cfg, files, issuers, previous, &outputs)?)
}

/// What a run's (or a shard's) manifest is made of.
pub(crate) struct ManifestParts<'a> {
    pub run_id: &'a str,
    pub at: Timestamp,
    pub date: &'a str,
    pub started: Timestamp,
    pub worst: u8,
    pub issuers: Vec<IssuerReport>,
    pub results: &'a CheckOutput,
    pub summary_files: Vec<crlbatch_write::PartFile>,
    pub t_crls: f64,
    pub t_check: f64,
}

/// The manifest of a run (or shard) after its check; `finished_at` and the
/// publish and total timings are filled in by the caller.
pub(crate) fn build_manifest(job: &Job, p: ManifestParts<'_>) -> Manifest {
    let part = format!("run_date={}", p.date);
    let r = p.results;
    Manifest {
        manifest_version: MANIFEST_VERSION,
        run_id: p.run_id.to_owned(),
        job: job.name.clone(),
        job_file: job.file.display().to_string(),
        engine_version: env!("CARGO_PKG_VERSION").to_owned(),
        evaluation_time: p.at,
        run_date: p.date.to_owned(),
        timezone: job.timezone.name().to_owned(),
        started_at: p.started,
        finished_at: p.started,
        exit_code: p.worst,
        status: status_word(p.worst).to_owned(),
        issuers: p.issuers,
        input: InputReport {
            records: job.records.display().to_string(),
            files: r.inputs.clone(),
            rows: r.inputs.iter().map(|f| f.rows).sum(),
        },
        outputs: Outputs {
            results: dataset_report(format!("results/{part}"), r.results.clone()),
            summary: dataset_report(format!("summary/{part}"), p.summary_files),
            rejects: dataset_report(format!("rejects/{part}"), r.rejects.clone()),
            four_diff: None,
            four_rejects: None,
        },
        counts: Counts {
            // The rows of this run's share: the whole input, or a shard's.
            records: r.rows_read,
            checked: r.rows_checked,
            attention: r.rows_attention,
            new_since_previous_run: r.rows_new,
            rejected: r.rows_rejected,
            basic_four_changed: r.basic_four_changed,
            emitted: r.rows_emitted,
        },
        timings: Timings { crls: p.t_crls, check: p.t_check, publish: 0.0, total: 0.0 },
        shard: None,
        shards: None,
        four: None,
    }
}

/// The run's last log event: counts only.
pub(crate) fn log_finished(m: &Manifest) {
    tracing::info!(
        run_id = m.run_id.as_str(),
        records = m.counts.records,
        attention = m.counts.attention,
        new = m.counts.new_since_previous_run,
        rejected = m.counts.rejected,
        basic_four_changed = m.counts.basic_four_changed,
        exit_code = m.exit_code,
        seconds = m.timings.total,
        "run finished"
    );
}
