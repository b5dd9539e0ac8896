//! `crlbatch run` and `crlbatch validate`

use std::sync::Arc;

use crlbatch_check::{Emit, Shard};
use crlbatch_job::{commit as commit_shards, run as run_job, Job, JobError, RunOptions, RunReport};

use crate::args::{CommitArgs, EmitArg, RunArgs, ValidateArgs};
use crate::cmd;
use crate::exit::{self, CliError, CliResult};
use crate::logging::Logging;
use crate::progress::Bars;

impl From<JobError> for CliError {
    fn from(e: JobError) -> Self {
        CliError::new(e.exit_code(), e.to_string())
    }
}

/// The shard of this process: `--shard I/N`, or JOB_COMPLETION_INDEX (set by
/// a Kubernetes Indexed Job) with `--shards N` / CRLBATCH_SHARDS.
fn shard_of(a: &RunArgs) -> CliResult<Option<Shard>> {
    let usage = |m: String| CliError::new(exit::USAGE, m);
    if let Some(s) = &a.shard {
        return s.parse::<Shard>().map(Some).map_err(|e| usage(format!("--shard: {e}")));
    }
    let index = std::env::var("JOB_COMPLETION_INDEX").ok();
    match (index, a.shards) {
        (None, None) => Ok(None),
        (Some(_), None) => Ok(None),
        (None, Some(n)) => Err(usage(format!("--shards {n} needs --shard I/N or JOB_COMPLETION_INDEX"))),
        (Some(i), Some(n)) => {
            let i: u32 = i.trim().parse().map_err(|_| usage(format!("JOB_COMPLETION_INDEX {i:?} is not a number")))?;
            Shard::new(i, n).map(Some).map_err(|e| usage(format!("JOB_COMPLETION_INDEX: {e}")))
        }
    }
}

pub fn run(a: RunArgs, logging: &Logging) -> CliResult {
    let at = cmd::at(&a.at)?;
    let job = Job::load(&a.job)?;
    let emit = a.emit.map(|e| match e {
        EmitArg::Attention => Emit::Attention,
        EmitArg::All => Emit::All,
    });
    let shard = shard_of(&a)?;
    let opts = RunOptions { at, at_given: a.at.at.is_some(), emit, shard, progress: Arc::default() };
    let report = {
        let _bars = logging.bars.clone().map(|mp| Bars::start(mp, opts.progress.clone()));
        run_job(&job, &opts)?
    };
    finish(&report, a.json)
}

pub fn commit(a: CommitArgs) -> CliResult {
    let job = Job::load(&a.job)?;
    let report = commit_shards(&job, a.shards, a.run_date.as_deref())?;
    finish(&report, a.json)
}

fn finish(report: &RunReport, json: bool) -> CliResult {
    if json {
        let v = serde_json::to_value(&report.manifest).map_err(|e| CliError::new(exit::SOFTWARE, e.to_string()))?;
        cmd::print_json(&v)?;
    }
    let m = &report.manifest;
    if let Some(s) = &m.shard {
        tracing::info!(
            shard = format!("{}/{}", s.index, s.count).as_str(),
            output = report.manifest_path.display().to_string().as_str(),
            "shard output written; the run is committed when every shard has finished"
        );
    } else {
        tracing::info!(
            results = format!("{}/results/run_date={}/", report.out_dir.display(), m.run_date).as_str(),
            manifest = report.manifest_path.display().to_string().as_str(),
            report = report.out_dir.join("report.html").display().to_string().as_str(),
            "outputs published"
        );
    }
    match m.exit_code {
        exit::OK => Ok(()),
        code => Err(CliError::new(
            code,
            format!("run {} finished with status {}: see the manifest's issuers[].detail", m.run_id, m.status),
        )),
    }
}

pub fn validate(a: ValidateArgs) -> CliResult {
    let mut first_err = None;
    for path in &a.jobs {
        match Job::load(path) {
            Ok(job) => {
                let cas: Vec<String> =
                    job.cas.iter().map(|c| format!("{} ({} CRL source(s))", c.name, c.sources.len())).collect();
                println!("{}: ok: job {:?}, {} CA(s): {}", path.display(), job.name, job.cas.len(), cas.join(", "));
                for var in &job.overridden {
                    println!("{}: note: overridden by the environment: {var}", path.display());
                }
                if !job.records.exists() {
                    println!(
                        "{}: warning: records path {} does not exist (yet)",
                        path.display(),
                        job.records.display()
                    );
                }
            }
            Err(e) => {
                eprintln!("crlbatch: error: {e}");
                first_err.get_or_insert(CliError::new(e.exit_code(), "job file invalid"));
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
