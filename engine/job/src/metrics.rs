//! Prometheus metrics of a run, in the text exposition format, for the
//! node_exporter textfile collector: written after the manifest, atomically
//! (temporary file in the same folder, then rename), to the job's
//! `output.metrics` path (a `*.prom` file). No personal data: labels are the
//! job name, CA names, key identifiers, roles, statuses and outcomes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crlbatch_check::SummaryKey;
use crlbatch_crl::Timestamp;
use crlbatch_fetch::Outcome;

use crate::error::JobError;
use crate::manifest::Manifest;

/// A label value, escaped as the exposition format requires.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// One metric family being written.
struct Family<'a> {
    out: &'a mut String,
}

impl Family<'_> {
    fn start<'a>(out: &'a mut String, name: &str, kind: &str, help: &str) -> Family<'a> {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        Family { out }
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", esc(v))).collect();
        let _ = writeln!(self.out, "{name}{{{}}} {value}", l.join(","));
    }
}

/// Seconds since the epoch, as a sample value.
fn secs(t: Timestamp) -> f64 {
    // i64 seconds: exact in f64 for any date of interest (|t| < 2^53).
    #[allow(clippy::cast_precision_loss)]
    let v = t.0 as f64;
    v
}

// Counts below 2^53 are exact; larger ones only lose precision in a gauge.
#[allow(clippy::cast_precision_loss)]
fn count(n: u64) -> f64 {
    n as f64
}

/// The metrics text of one run. `last_success` is the finish time of the
/// latest run that exited 0 (this one or an earlier one).
pub fn render(m: &Manifest, summary: &[(SummaryKey, u64, u64)], last_success: Option<Timestamp>) -> String {
    let job = m.job.as_str();
    let mut out = String::new();
    let o = &mut out;
    let mut f =
        Family::start(o, "crlbatch_run_last_completion_timestamp_seconds", "gauge", "When the last run finished.");
    f.sample("crlbatch_run_last_completion_timestamp_seconds", &[("job", job)], secs(m.finished_at));
    if let Some(t) = last_success {
        let mut f = Family::start(
            o,
            "crlbatch_run_last_success_timestamp_seconds",
            "gauge",
            "When the last run with exit code 0 finished.",
        );
        f.sample("crlbatch_run_last_success_timestamp_seconds", &[("job", job)], secs(t));
    }
    let mut f = Family::start(
        o,
        "crlbatch_run_exit_code",
        "gauge",
        "Exit code of the last run (0 ok, 65 rejected CRL, 75 retry later).",
    );
    f.sample("crlbatch_run_exit_code", &[("job", job)], f64::from(m.exit_code));
    let mut f =
        Family::start(o, "crlbatch_run_step_duration_seconds", "gauge", "Duration of each step of the last run.");
    for (step, v) in [
        ("crls", m.timings.crls),
        ("check", m.timings.check),
        ("publish", m.timings.publish),
        ("total", m.timings.total),
    ] {
        f.sample("crlbatch_run_step_duration_seconds", &[("job", job), ("step", step)], v);
    }
    let mut f = Family::start(o, "crlbatch_records", "gauge", "Records of the last run, by outcome.");
    let c = &m.counts;
    for (what, n) in [
        ("read", c.records),
        ("checked", c.checked),
        ("attention", c.attention),
        ("new_since_previous_run", c.new_since_previous_run),
        ("rejected", c.rejected),
        ("basic_four_changed", c.basic_four_changed),
    ] {
        f.sample("crlbatch_records", &[("job", job), ("outcome", what)], count(n));
    }
    let mut verdicts: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for ((role, _, status, _), n, _) in summary {
        *verdicts.entry((role, status.name())).or_default() += n;
    }
    let mut f = Family::start(o, "crlbatch_verdicts", "gauge", "Certificates of the last run, by role and status.");
    for ((role, status), n) in &verdicts {
        f.sample("crlbatch_verdicts", &[("job", job), ("role", role), ("status", status)], count(*n));
    }
    let issuer_gauges: [(&str, &str); 6] = [
        ("crlbatch_issuer_usable", "1 when every CRL of the issuer key is fresh and verified at the evaluation time."),
        ("crlbatch_issuer_entries", "Revoked serials of the issuer key."),
        ("crlbatch_crl_this_update_timestamp_seconds", "thisUpdate of each CRL in use."),
        ("crlbatch_crl_next_update_timestamp_seconds", "nextUpdate of each CRL in use."),
        ("crlbatch_crl_age_seconds", "Evaluation time minus thisUpdate of each CRL in use."),
        ("crlbatch_crl_number", "cRLNumber of each CRL in use."),
    ];
    for (name, help) in issuer_gauges {
        let mut f = Family::start(o, name, "gauge", help);
        for i in &m.issuers {
            let base = [("job", job), ("issuer", i.name.as_str()), ("kid", i.kid.as_str())];
            match name {
                "crlbatch_issuer_usable" => f.sample(name, &base, f64::from(u8::from(i.usable))),
                "crlbatch_issuer_entries" => f.sample(name, &base, count(i.entries)),
                _ => {
                    for crl in &i.crls {
                        let labels = [base[0], base[1], base[2], ("source", crl.source.as_str())];
                        let v = match name {
                            "crlbatch_crl_this_update_timestamp_seconds" => Some(secs(crl.this_update)),
                            "crlbatch_crl_next_update_timestamp_seconds" => crl.next_update.map(secs),
                            "crlbatch_crl_age_seconds" => Some(secs(m.evaluation_time) - secs(crl.this_update)),
                            _ => crl.crl_number.as_deref().and_then(|n| n.parse::<f64>().ok()),
                        };
                        if let Some(v) = v {
                            f.sample(name, &labels, v);
                        }
                    }
                }
            }
        }
    }
    let mut f = Family::start(o, "crlbatch_fetch_sources", "gauge", "Remote CRL sources of the last run, by outcome.");
    for i in &m.issuers {
        let mut by: BTreeMap<&str, u64> = BTreeMap::new();
        for r in &i.fetch {
            *by.entry(r.outcome.name()).or_default() += 1;
        }
        for (outcome, n) in by {
            f.sample(
                "crlbatch_fetch_sources",
                &[("job", job), ("issuer", i.name.as_str()), ("outcome", outcome)],
                count(n),
            );
        }
    }
    let mut f = Family::start(
        o,
        "crlbatch_fetch_failures",
        "gauge",
        "Remote CRL sources that failed or were refused in the last run.",
    );
    for i in &m.issuers {
        if !i.fetch.is_empty() {
            let bad =
                i.fetch.iter().filter(|r| matches!(r.outcome, Outcome::Failed | Outcome::Rejected)).count() as u64;
            f.sample("crlbatch_fetch_failures", &[("job", job), ("issuer", i.name.as_str())], count(bad));
        }
    }
    out
}

/// Write `text` to `path` atomically (node_exporter must never read half).
pub fn write(path: &Path, text: &str) -> Result<(), JobError> {
    crlbatch_write::atomic::write_file(path, text.as_bytes())?;
    Ok(())
}
