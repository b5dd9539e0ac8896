//! `crlbatch schedule`: the built-in scheduler (engine/schedule), firing each
//! job at its `schedule` in its time zone, one run at a time.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};

use crlbatch_job::{run as run_job, Job, JobError, RunOptions};
use crlbatch_schedule::{run_loop, Entry, FireResult, RunnerError, Schedule, Stop, SystemClock};

use crate::args::ScheduleArgs;
use crate::exit::{CliError, CliResult};

/// Exit code: bad configuration (sysexits EX_CONFIG).
const CONFIG: u8 = 78;

/// `6h`, `90m`, `3600s`, `1d`, or plain seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (t.get(..i).unwrap_or(""), t.get(i..).unwrap_or("")),
        None => (t, "s"),
    };
    let n: u64 = num.parse().map_err(|_| format!("--grace {s:?}: expected e.g. 6h, 90m, 3600s or 1d"))?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => return Err(format!("--grace {s:?}: unit must be s, m, h or d")),
    };
    Ok(Duration::from_secs(secs))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A job and its parsed schedule.
fn load(path: &Path) -> CliResult<(Job, Schedule)> {
    let job = Job::load(path)?;
    let expr = job.schedule.clone().ok_or_else(|| {
        CliError::new(
            CONFIG,
            format!("{}: job {:?} has no schedule (e.g. schedule = \"30 2 * * *\")", path.display(), job.name),
        )
    })?;
    let schedule =
        Schedule::parse(&expr, job.timezone).map_err(|e| CliError::new(CONFIG, format!("{}: {e}", path.display())))?;
    Ok((job, schedule))
}

pub fn run(a: ScheduleArgs) -> CliResult {
    let grace = parse_duration(&a.grace).map_err(|e| CliError::new(2, e))?;
    let mut jobs = Vec::new();
    for p in &a.jobs {
        let (job, schedule) = load(p)?;
        jobs.push((p.clone(), job, schedule));
    }
    // Environment overrides apply to every job loaded: with several jobs
    // they would share one output folder (or input) and overwrite each
    // other's runs. So do two jobs whose output folders are the same.
    if jobs.len() > 1 {
        if let Some((p, j, _)) = jobs.iter().find(|(_, j, _)| !j.overridden.is_empty()) {
            return Err(CliError::new(
                CONFIG,
                format!(
                    "{}: {} set in the environment would apply to all {} jobs: run one scheduler per job, or put \
                     the paths in the job files",
                    p.display(),
                    j.overridden.join(", "),
                    jobs.len()
                ),
            ));
        }
        for (k, (p, j, _)) in jobs.iter().enumerate() {
            if let Some((q, _, _)) = jobs.iter().skip(k + 1).find(|(_, o, _)| o.out_dir == j.out_dir) {
                return Err(CliError::new(
                    CONFIG,
                    format!("{} and {}: the same output folder {}", p.display(), q.display(), j.out_dir.display()),
                ));
            }
        }
    }
    if a.dry_run {
        let from = match &a.from {
            None => Utc::now(),
            Some(s) => DateTime::parse_from_rfc3339(s)
                .map_err(|e| CliError::new(2, format!("--from {s:?}: {e}")))?
                .with_timezone(&Utc),
        };
        for (_, job, schedule) in &jobs {
            println!("job {}: {:?} in {}", job.name, schedule.expression(), job.timezone.name());
            for t in schedule.upcoming(from, a.count) {
                let local = t.with_timezone(&job.timezone);
                println!("  {}  {}", local.to_rfc3339_opts(SecondsFormat::Secs, true), rfc3339(t));
            }
        }
        return Ok(());
    }
    let state = match &a.state {
        Some(p) => p.clone(),
        None => jobs.first().map(|(_, j, _)| j.out_dir.join("_state").join("scheduler.json")).unwrap_or_default(),
    };
    let entries: Vec<Entry> =
        jobs.iter().map(|(_, job, schedule)| Entry { name: job.name.clone(), schedule: schedule.clone() }).collect();
    let stop = Stop::install_signals().map_err(|e| CliError::new(crate::exit::SOFTWARE, format!("signals: {e}")))?;
    let mut fire = |entry: &Entry, slot: DateTime<Utc>| -> FireResult {
        let Some((path, _, _)) = jobs.iter().find(|(_, j, _)| j.name == entry.name) else {
            return FireResult::Failed("job not found".into());
        };
        // The job file is read again for each run: edits apply at the next one.
        let job = match Job::load(path) {
            Ok(j) => j,
            Err(e) => return FireResult::Failed(e.to_string()),
        };
        tracing::info!(job = job.name.as_str(), slot = rfc3339(slot).as_str(), "schedule: run due");
        match run_job(&job, &RunOptions::new(crlbatch_crl::Timestamp::now())) {
            Ok(r) if r.manifest.exit_code == 0 => FireResult::Succeeded,
            Ok(r) => FireResult::Failed(format!("exit {} ({})", r.manifest.exit_code, r.manifest.status)),
            Err(e @ JobError::Busy(_)) => FireResult::Busy(e.to_string()),
            Err(e) => FireResult::Failed(format!("exit {}: {e}", e.exit_code())),
        }
    };
    let mut events = |e: &crlbatch_schedule::Event| tracing::info!("schedule: {e}");
    run_loop(&entries, &state, grace, &stop, &SystemClock, &mut fire, &mut events).map_err(|e| {
        let code = match &e {
            RunnerError::AlreadyRunning { .. } => crlbatch_job::EXIT_BUSY,
            RunnerError::Config(_) => CONFIG,
            _ => 74,
        };
        CliError::new(code, e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn grace_durations() {
        assert_eq!(parse_duration("6h"), Ok(Duration::from_secs(21_600)));
        assert_eq!(parse_duration("90m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse_duration("3600s"), Ok(Duration::from_secs(3_600)));
        assert_eq!(parse_duration("3600"), Ok(Duration::from_secs(3_600)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("6 hours").is_err());
        assert!(parse_duration("h").is_err());
    }
}
