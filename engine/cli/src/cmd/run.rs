//! `crlbatch run` and `crlbatch validate`

use crlbatch_check::Emit;
use crlbatch_job::{run as run_job, Job, JobError, RunOptions};

use crate::args::{EmitArg, RunArgs, ValidateArgs};
use crate::cmd;
use crate::exit::{self, CliError, CliResult};

impl From<JobError> for CliError {
    fn from(e: JobError) -> Self {
        CliError::new(e.exit_code(), e.to_string())
    }
}

pub fn run(a: RunArgs) -> CliResult {
    let at = cmd::at(&a.at)?;
    let job = Job::load(&a.job)?;
    let emit = a.emit.map(|e| match e {
        EmitArg::Attention => Emit::Attention,
        EmitArg::All => Emit::All,
    });
    // Log lines carry counts, paths and key identifiers only: never a PPID,
    // a local user id or basic four information.
    let log = |m: &str| eprintln!("crlbatch: {m}");
    let report = run_job(&job, &RunOptions { at, emit }, &log)?;
    if a.json {
        let v = serde_json::to_value(&report.manifest).map_err(|e| CliError::new(exit::SOFTWARE, e.to_string()))?;
        cmd::print_json(&v)?;
    }
    eprintln!(
        "crlbatch: results in {}/results/run_date={}/ (manifest {})",
        report.out_dir.display(),
        report.manifest.run_date,
        report.manifest_path.display()
    );
    match report.manifest.exit_code {
        exit::OK => Ok(()),
        code => Err(CliError::new(
            code,
            format!(
                "run {} finished with status {}: see the manifest's issuers[].detail",
                report.manifest.run_id, report.manifest.status
            ),
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
