//! Scale-out: `run --shard I/N` checks only shard `I`'s share of the input
//! (see `crlbatch_check::Shard`) and publishes a shard output; the commit
//! merges the `N` shard outputs into the run's partitions and manifest, once
//! all are there and agree, atomically.
//!
//! Layout under the output folder:
//!
//! ```text
//! .shards/run_date=D/of-N/plan.json      evaluation time and run id shared by the N shards
//! .shards/run_date=D/of-N/shard-I/       results/, rejects/, flagged.keys, _shard.json
//! ```
//!
//! The first shard to reach its CRL step writes the plan (under
//! `_state/run.lock`, so CRL fetching and index storage stay one process at
//! a time); later shards read it, so every shard judges at the same
//! evaluation time and stamps its rows with the same run id. A plan is
//! replaced when it is older than [`PLAN_MAX_AGE_SECS`], when another run
//! was committed since, or when a shard is given another `--at`; shards of
//! an older plan are then ignored by the commit. The last shard to finish
//! commits (so a Kubernetes Indexed Job needs no extra step); `crlbatch
//! commit` does the same by hand. The commit refuses shards that saw
//! different CRLs or inputs: run them again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crlbatch_check::{CertStatus, Shard, SummaryKey};
use crlbatch_crl::{Reason, Timestamp};
use crlbatch_write::{atomic, PartFile};

use crate::config::Job;
use crate::crls::obtain_all;
use crate::error::JobError;
use crate::manifest::{Counts, Manifest, Outputs, ShardInfo, ShardRun, SummaryCount, Timings};
use crate::progress::Step;
use crate::publish::{clean_staging, dataset_report, finish, publish_datasets, summary_counts, write_summary};
use crate::run::{
    build_manifest, check_config, check_into, log_finished, make_run_id, run_date, status_word, ManifestParts,
    RunOptions, RunReport,
};
use crate::state::State;

/// How long a shard waits for the CRL step of another shard (or a whole run).
pub const LOCK_WAIT: Duration = Duration::from_secs(1800);
/// A plan older than this (wall clock) is replaced by the next shard.
pub const PLAN_MAX_AGE_SECS: i64 = 3600;
/// Shard outputs of a plan this old that never committed are removed by the
/// next commit.
pub const ABANDONED_AFTER_SECS: i64 = 7 * 86_400;

/// What the shards of one run share.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Plan {
    plan_id: String,
    at: Timestamp,
    run_date: String,
    count: u32,
    created_at: Timestamp,
    /// The run id in `_manifest.json` when the plan was made (its flagged
    /// keys are the "previous run" of every shard).
    previous_run: Option<String>,
}

fn shards_dir(out: &Path, date: &str, count: u32) -> PathBuf {
    out.join(".shards").join(format!("run_date={date}")).join(format!("of-{count}"))
}

fn state_err(path: &Path, message: impl std::fmt::Display) -> JobError {
    JobError::State { path: path.display().to_string(), message: message.to_string() }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, JobError> {
    match std::fs::read(path) {
        Ok(b) => serde_json::from_slice(&b).map(Some).map_err(|e| state_err(path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(state_err(path, e)),
    }
}

fn write_json<T: Serialize>(path: &Path, v: &T) -> Result<(), JobError> {
    let bytes = serde_json::to_vec_pretty(v).map_err(|e| state_err(path, e))?;
    atomic::write_file(path, &bytes)?;
    Ok(())
}

/// The run id of the latest committed run (`_manifest.json`), if any.
fn latest_run(out: &Path) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("_manifest.json")).ok()?).ok()?;
    v.get("run_id")?.as_str().map(str::to_owned)
}

/// The plan for shards of `count` evaluated around `opts.at` (under the run lock).
fn plan_for(job: &Job, opts: &RunOptions, count: u32) -> Result<Plan, JobError> {
    let date = run_date(opts.at, job.timezone);
    let path = shards_dir(&job.out_dir, &date, count).join("plan.json");
    let previous_run = latest_run(&job.out_dir);
    let now = Timestamp::now();
    if let Some(p) = read_json::<Plan>(&path)? {
        let young = now.0.saturating_sub(p.created_at.0) <= PLAN_MAX_AGE_SECS;
        if young && p.previous_run == previous_run && (!opts.at_given || p.at == opts.at) && p.count == count {
            return Ok(p);
        }
    }
    let plan = Plan { plan_id: make_run_id(now), at: opts.at, run_date: date, count, created_at: now, previous_run };
    write_json(&path, &plan)?;
    tracing::info!(plan = plan.plan_id.as_str(), at = %plan.at, shards = count, "shard plan made");
    Ok(plan)
}

fn summary_key(c: &SummaryCount, path: &Path) -> Result<SummaryKey, JobError> {
    let role = match c.role.as_str() {
        "auth" => "auth",
        "sign" => "sign",
        other => return Err(state_err(path, format!("summary role {other:?} unknown"))),
    };
    let status = CertStatus::ALL
        .iter()
        .copied()
        .find(|s| s.name() == c.status)
        .ok_or_else(|| state_err(path, format!("summary status {:?} unknown", c.status)))?;
    let reason = match &c.reason {
        None => None,
        Some(r) => Some(Reason::from_name(r).ok_or_else(|| state_err(path, format!("summary reason {r:?} unknown")))?),
    };
    Ok((role, c.issuer_kid.clone(), status, reason))
}

/// Run shard `shard` of the job, then commit if it was the last one.
pub(crate) fn run_shard(job: &Job, opts: &RunOptions, shard: Shard) -> Result<RunReport, JobError> {
    let t0 = Instant::now();
    let started = Timestamp::now();
    let out = &job.out_dir;
    let progress = &opts.progress;
    atomic::create_dir_all(out)?;
    let state = State::open(out)?;
    // The same shard twice at once: the second is busy.
    let _shard_lock = state.lock(&job.name, &format!("shard-{}-of-{}.lock", shard.index, shard.count), None)?;
    let files = crlbatch_check::open_inputs_with(&job.records, job.max_row_group_bytes)?;
    progress.rows_total.store(crlbatch_check::rows_to_read(&files, Some(shard)), Ordering::Relaxed);
    if job.four.is_some() {
        tracing::warn!(shard = %shard, "the [four] step runs in runs without --shard only; skipped");
    }

    // 1. CRLs → indexes, one process at a time (the index store is shared).
    progress.set_step(Step::Crls);
    let (plan, crls, previous) = {
        let _run_lock = state.lock(&job.name, "run.lock", Some(LOCK_WAIT))?;
        let plan = plan_for(job, opts, shard.count)?;
        tracing::info!(
            run_id = plan.plan_id.as_str(),
            job = job.name.as_str(),
            shard = %shard,
            at = %plan.at,
            run_date = plan.run_date.as_str(),
            "shard started"
        );
        crate::run::log_overrides(job);
        let crls = obtain_all(job, &state, plan.at, progress)?;
        let previous = state.previous_keys()?;
        (plan, crls, previous)
    };
    let t_crls = t0.elapsed().as_secs_f64();

    // 2. Check this share into a staging folder beside the shard's output.
    progress.set_step(Step::Check);
    let t1 = Instant::now();
    let dir = shards_dir(out, &plan.run_date, shard.count);
    // Staging sits outside the plan's folder (a commit removes that folder
    // whole); leftovers of this shard index's crashed runs are removed.
    let staging_root = out.join(".shards").join(".staging");
    let stale_prefix = format!("{}-of-{}-{}-", plan.run_date, shard.count, shard.index);
    if let Ok(entries) = std::fs::read_dir(&staging_root) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&stale_prefix) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let staging = staging_root.join(format!("{stale_prefix}{}", make_run_id(started)));
    atomic::create_dir_all(&staging)?;
    let cfg = check_config(job, opts, plan.at, &plan.plan_id, Some(shard));
    let results = check_into(&cfg, &files, &crls.issuers, previous.view(), &staging, &staging.join("flagged.keys"))?;
    let t_check = t1.elapsed().as_secs_f64();

    // 3. Publish the shard output (one atomic exchange).
    progress.set_step(Step::Publish);
    let t2 = Instant::now();
    let mut manifest = build_manifest(
        job,
        ManifestParts {
            run_id: &plan.plan_id,
            at: plan.at,
            date: &plan.run_date,
            started,
            worst: crls.worst,
            issuers: crls.reports,
            results: &results,
            summary_files: Vec::new(),
            t_crls,
            t_check,
        },
    );
    manifest.shard = Some(ShardInfo {
        index: shard.index,
        count: shard.count,
        plan_id: plan.plan_id.clone(),
        rows: results.rows_read,
        summary: summary_counts(&results.summary),
    });
    manifest.timings.publish = t2.elapsed().as_secs_f64();
    manifest.timings.total = t0.elapsed().as_secs_f64();
    manifest.finished_at = Timestamp::now();
    write_json(&staging.join("_shard.json"), &manifest)?;
    let shard_dir = dir.join(format!("shard-{}", shard.index));
    {
        // Under the run lock: a commit reads and links the shard outputs
        // under it, so it never sees one swapped halfway.
        let _run_lock = state.lock(&job.name, "run.lock", Some(LOCK_WAIT))?;
        atomic::replace_dir(&staging, &shard_dir)?;
    }
    tracing::info!(
        run_id = plan.plan_id.as_str(),
        shard = %shard,
        rows = results.rows_read,
        attention = results.rows_attention,
        rejected = results.rows_rejected,
        exit_code = crls.worst,
        "shard finished"
    );
    drop(_shard_lock);

    // The last shard to finish commits the run.
    if let Some(report) = commit_inner(job, &state, shard.count, Some(&plan.run_date), false)? {
        return Ok(report);
    }
    progress.set_step(Step::Done);
    Ok(RunReport { manifest, out_dir: out.clone(), manifest_path: shard_dir.join("_shard.json") })
}

/// Merge the shard outputs of `count` shards into the run (`crlbatch
/// commit`). `run_date`: which run (default: the latest with shards).
pub fn commit(job: &Job, count: u32, run_date: Option<&str>) -> Result<RunReport, JobError> {
    let state = State::open(&job.out_dir)?;
    commit_inner(job, &state, count, run_date, true)?
        .ok_or_else(|| JobError::Incomplete(format!("job {}: no shards of {count} to commit", job.name)))
}

/// The comparable part of a shard's view: CRLs used per issuer, and input.
fn fingerprint(m: &Manifest) -> String {
    let issuers: Vec<_> = m
        .issuers
        .iter()
        .map(|i| {
            let crls: Vec<_> = i.crls.iter().map(|c| (c.sha256.clone(), c.this_update)).collect();
            (i.kid.clone(), i.usable, crls)
        })
        .collect();
    let inputs: Vec<_> = m.input.files.iter().map(|f| (f.file.clone(), f.rows, f.row_groups, f.bytes)).collect();
    serde_json::to_string(&(issuers, inputs, m.evaluation_time)).unwrap_or_default()
}

fn commit_inner(
    job: &Job,
    state: &State,
    count: u32,
    run_date: Option<&str>,
    explicit: bool,
) -> Result<Option<RunReport>, JobError> {
    let t0 = Instant::now();
    let out = &job.out_dir;
    let _lock = state.lock(&job.name, "run.lock", Some(LOCK_WAIT))?;
    let date = match run_date {
        Some(d) => d.to_owned(),
        None => match latest_date_with(out, count) {
            Some(d) => d,
            None if explicit => {
                return Err(JobError::Incomplete(format!("job {}: no shards of {count} to commit", job.name)));
            }
            None => return Ok(None),
        },
    };
    let dir = shards_dir(out, &date, count);
    let Some(plan) = read_json::<Plan>(&dir.join("plan.json"))? else {
        return if explicit {
            Err(JobError::Incomplete(format!("job {}: no shards of {count} for run_date {date}", job.name)))
        } else {
            Ok(None)
        };
    };
    // A run published since the plan was made (a whole run, or another
    // plan's commit): these shards' "previous run" and evaluation are out of
    // date. The plan is dropped, so the next shard makes a new one.
    if latest_run(out) != plan.previous_run {
        let _ = std::fs::remove_file(dir.join("plan.json"));
        return Err(JobError::Incomplete(format!(
            "job {}: run_date {date}: another run was published since the shards' plan {} was made; run every \
             shard again",
            job.name, plan.plan_id
        )));
    }
    let mut shards: Vec<(PathBuf, Manifest)> = Vec::new();
    let mut missing = Vec::new();
    // Shards that finished under another plan (an earlier attempt).
    let mut other_plan = 0u32;
    for i in 0..count {
        let d = dir.join(format!("shard-{i}"));
        let m = read_json::<Manifest>(&d.join("_shard.json"))?;
        match m {
            Some(m) if m.shard.as_ref().is_some_and(|s| s.plan_id == plan.plan_id && s.index == i) => {
                shards.push((d, m))
            }
            Some(_) => {
                other_plan += 1;
                missing.push(i.to_string());
            }
            None => missing.push(i.to_string()),
        }
    }
    if !missing.is_empty() && other_plan == u32::try_from(missing.len()).unwrap_or(u32::MAX) {
        // Every shard has finished, but not all under this plan: nothing
        // will complete it by waiting. Say so (75) rather than end quietly.
        return Err(JobError::Incomplete(format!(
            "job {}: run_date {date}: shard(s) {} of {count} finished under another plan than {}; run every shard \
             again",
            job.name,
            missing.join(", "),
            plan.plan_id
        )));
    }
    if !missing.is_empty() {
        if explicit {
            return Err(JobError::Incomplete(format!(
                "job {}: run_date {date}: shard(s) {} of {count} not finished for plan {}",
                job.name,
                missing.join(", "),
                plan.plan_id
            )));
        }
        tracing::info!(run_id = plan.plan_id.as_str(), waiting_for = missing.join(",").as_str(), "not committed yet");
        return Ok(None);
    }
    let Some((_, first)) = shards.first() else { return Ok(None) };
    let print = fingerprint(first);
    let differ: Vec<String> = shards
        .iter()
        .filter(|(_, m)| fingerprint(m) != print)
        .filter_map(|(_, m)| m.shard.as_ref().map(|s| s.index.to_string()))
        .collect();
    if !differ.is_empty() {
        // The next attempt starts from a new plan (a new evaluation time).
        let _ = std::fs::remove_file(dir.join("plan.json"));
        return Err(JobError::Incomplete(format!(
            "job {}: run_date {date}: shard(s) {} saw other CRLs or inputs than shard 0; run every shard again",
            job.name,
            differ.join(", ")
        )));
    }

    // Merge: the part files are hard-linked (the shard outputs stay intact
    // until the run is published), the summary summed, the keys united.
    let started = shards.iter().map(|(_, m)| m.started_at).min().unwrap_or_else(Timestamp::now);
    let run_id = plan.plan_id.clone();
    let staging_root = out.join(".staging");
    clean_staging(&staging_root);
    let staging = staging_root.join(&run_id);
    let mut results_files: Vec<PartFile> = Vec::new();
    let mut rejects_files: Vec<PartFile> = Vec::new();
    let mut summary: BTreeMap<SummaryKey, (u64, u64)> = BTreeMap::new();
    let mut shard_keys: Vec<crlbatch_check::KeyFile> = Vec::new();
    let mut counts = Counts::default();
    let mut worst = 0u8;
    let mut runs = Vec::new();
    let mut t_crls: f64 = 0.0;
    let mut t_check: f64 = 0.0;
    for (d, m) in &shards {
        for (dataset, files, into) in [
            ("results", &m.outputs.results.files, &mut results_files),
            ("rejects", &m.outputs.rejects.files, &mut rejects_files),
        ] {
            let to = staging.join(dataset);
            atomic::create_dir_all(&to)?;
            for f in files {
                link_or_copy(&d.join(dataset).join(&f.file), &to.join(&f.file))?;
                into.push(f.clone());
            }
        }
        let shard_json = d.join("_shard.json");
        if let Some(info) = &m.shard {
            for c in &info.summary {
                let e = summary.entry(summary_key(c, &shard_json)?).or_insert((0, 0));
                e.0 += c.count;
                e.1 += c.basic_four_changed;
            }
            runs.push(ShardRun {
                index: info.index,
                started_at: m.started_at,
                finished_at: m.finished_at,
                rows: info.rows,
                exit_code: m.exit_code,
                timings: m.timings.clone(),
            });
        }
        // Every shard writes its keys: a missing or damaged file is a shard
        // to run again (committing without it would lose its records' keys).
        let keys = crlbatch_check::KeyFile::open_existing(&d.join("flagged.keys"))
            .map_err(|e| JobError::Incomplete(format!("{e}; run that shard again")))?;
        shard_keys.push(keys);
        counts += &m.counts;
        worst = worst.max(m.exit_code);
        t_crls = t_crls.max(m.timings.crls);
        t_check = t_check.max(m.timings.check);
    }
    let views: Vec<_> = shard_keys.iter().map(|k| k.view()).collect();
    let flagged = state.pending_keys_path();
    crlbatch_check::keys::write_merged(&views, Vec::new(), &flagged)?;
    let summary: Vec<(SummaryKey, u64, u64)> = summary.into_iter().map(|(k, (n, b))| (k, n, b)).collect();
    let summary_files = write_summary(&staging.join("summary"), &summary, &run_id)?;
    publish_datasets(&staging, out, &date)?;
    let _ = std::fs::remove_dir_all(&staging);
    let part = format!("run_date={date}");
    let finished = Timestamp::now();
    let mut manifest = first.clone();
    manifest.run_id = run_id;
    manifest.started_at = started;
    manifest.finished_at = finished;
    manifest.exit_code = worst;
    manifest.status = status_word(worst).to_owned();
    manifest.outputs = Outputs {
        results: dataset_report(format!("results/{part}"), results_files),
        summary: dataset_report(format!("summary/{part}"), summary_files),
        rejects: dataset_report(format!("rejects/{part}"), rejects_files),
        four_diff: None,
        four_rejects: None,
    };
    manifest.counts = counts;
    manifest.timings = Timings {
        crls: t_crls,
        check: t_check,
        publish: t0.elapsed().as_secs_f64(),
        total: f64::from(u32::try_from(finished.0.saturating_sub(started.0).max(0)).unwrap_or(u32::MAX)),
    };
    manifest.shard = None;
    manifest.shards = Some(runs);
    let manifest_path = finish(job, state, &manifest, &summary, &flagged)?;
    // The shard outputs are merged: remove them and the plan (staging
    // folders live elsewhere).
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(parent) = dir.parent() {
        let _ = std::fs::remove_dir(parent);
    }
    sweep(out, Timestamp::now());
    tracing::info!(run_id = manifest.run_id.as_str(), shards = count, "shards committed");
    log_finished(&manifest);
    Ok(Some(RunReport { manifest, out_dir: out.clone(), manifest_path }))
}

/// Remove what plans that never committed left behind (their plan made
/// over [`ABANDONED_AFTER_SECS`] ago), and staging folders as old. Called
/// under the run lock, after a commit.
fn sweep(out: &Path, now: Timestamp) {
    let root = out.join(".shards");
    let old = |created: Timestamp| now.0.saturating_sub(created.0) > ABANDONED_AFTER_SECS;
    let Ok(dates) = std::fs::read_dir(&root) else { return };
    for date in dates.flatten() {
        if !date.file_name().to_string_lossy().starts_with("run_date=") {
            continue;
        }
        let Ok(counts) = std::fs::read_dir(date.path()) else { continue };
        for of in counts.flatten() {
            let plan = read_json::<Plan>(&of.path().join("plan.json")).ok().flatten();
            // A folder without a readable plan is judged by its age on disk.
            let created = plan.map(|p| p.created_at).or_else(|| modified(&of.path()));
            if created.is_some_and(old) {
                tracing::info!(folder = %of.path().display(), "removing the shard outputs of an abandoned plan");
                let _ = std::fs::remove_dir_all(of.path());
            }
        }
        let _ = std::fs::remove_dir(date.path());
    }
    if let Ok(staged) = std::fs::read_dir(root.join(".staging")) {
        for e in staged.flatten() {
            if modified(&e.path()).is_some_and(old) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

fn modified(p: &Path) -> Option<Timestamp> {
    let t = std::fs::metadata(p).ok()?.modified().ok()?;
    let secs = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    Some(Timestamp(i64::try_from(secs).ok()?))
}

/// The latest `run_date=` folder holding shards of `count`.
fn latest_date_with(out: &Path, count: u32) -> Option<String> {
    let mut dates: Vec<String> = std::fs::read_dir(out.join(".shards"))
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_prefix("run_date=")).map(str::to_owned))
        .filter(|d| shards_dir(out, d, count).is_dir())
        .collect();
    dates.sort();
    dates.pop()
}

fn link_or_copy(from: &Path, to: &Path) -> Result<(), JobError> {
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to).map(|_| ()).map_err(|e| state_err(from, format!("cannot copy to {}: {e}", to.display())))
}
