//! `crlbatch-report`: the analyst run report. Each run writes `report.html`
//! beside its outputs: one self-contained file (inline CSS and SVG, no
//! script, no network fetch; a Content-Security-Policy forbids any) with the
//! verdict counts by role and reason, basic-four changes, the new records
//! per run date over the job's history (from the previous runs' manifests),
//! CRL freshness and size per issuer, and the step timings.
//!
//! Inputs are the run manifest as JSON (so an older manifest with a field
//! missing still renders) and the run's summary rows. No personal data is
//! among them, and the report adds none.

mod history;
mod html;
mod render;
mod svg;
mod time;

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use history::{MAX_HISTORY_RUNS, MAX_MANIFEST_BYTES};

/// The report's file name, in the output folder and in the run's manifest folder.
pub const REPORT_FILE: &str = "report.html";

/// One row of the run's summary: certificates per role, issuer key, verdict
/// and reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SummaryRow {
    /// `auth` or `sign`.
    pub role: String,
    /// The issuer key id, lowercase hex.
    pub issuer_kid: String,
    /// `good`, `revoked`, `expired` or `unknown`.
    pub status: String,
    /// The RFC 5280 reason name, when revoked with one.
    pub reason: Option<String>,
    pub count: u64,
    /// Of `count`, records whose basic four information changed.
    pub basic_four_changed: u64,
}

/// Why the report could not be written.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReportError {
    /// The manifest's `run_date` is missing or not `YYYY-MM-DD` (it names
    /// the folder the report goes to).
    RunDate { value: String },
    /// The file could not be written.
    Write(crlbatch_write::WriteError),
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::RunDate { value } => write!(f, "report: manifest run_date {value:?} is not YYYY-MM-DD"),
            ReportError::Write(e) => write!(f, "report: {e}"),
        }
    }
}

impl std::error::Error for ReportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReportError::Write(e) => Some(e),
            ReportError::RunDate { .. } => None,
        }
    }
}

impl From<crlbatch_write::WriteError> for ReportError {
    fn from(e: crlbatch_write::WriteError) -> Self {
        ReportError::Write(e)
    }
}

/// Render the report of the run whose manifest JSON is `manifest`;
/// `history` = manifests of previous runs (any order, may include the
/// current one's run_date: deduplicated by run_date, the current wins).
pub fn render(manifest: &Value, history: &[Value], summary: &[SummaryRow]) -> String {
    render::page(manifest, history, summary, &[])
}

/// Read history from `<out_dir>/manifests/run_date=*/_manifest.json`,
/// render, and write atomically (temporary file, fsync, rename) to
/// `<out_dir>/manifests/run_date=<D>/report.html` and
/// `<out_dir>/report.html`. Returns the path of the latter. A previous
/// manifest that cannot be read is skipped and named in the report.
pub fn write_for_run(out_dir: &Path, manifest: &Value, summary: &[SummaryRow]) -> Result<PathBuf, ReportError> {
    let date = match manifest.get("run_date") {
        Some(Value::String(d)) if time::is_run_date(d) => d.as_str(),
        other => return Err(ReportError::RunDate { value: other.map(Value::to_string).unwrap_or_default() }),
    };
    let (history, skipped) = history::read(out_dir);
    let page = render::page(manifest, &history, summary, &skipped);
    crlbatch_write::atomic::write_file(
        &out_dir.join("manifests").join(format!("run_date={date}")).join(REPORT_FILE),
        page.as_bytes(),
    )?;
    let path = out_dir.join(REPORT_FILE);
    crlbatch_write::atomic::write_file(&path, page.as_bytes())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use serde_json::json;

    fn manifest(date: &str, new: u64) -> Value {
        json!({
            "manifest_version": 1,
            "run_id": format!("{date}-run"),
            "job": "nightly-type2",
            "job_file": "jobs/nightly-type2.toml",
            "engine_version": "0.1.0",
            "evaluation_time": "2026-11-26T03:00:00Z",
            "run_date": date,
            "timezone": "Asia/Tokyo",
            "started_at": "2026-11-27T02:54:31Z",
            "finished_at": "2026-11-27T02:54:32Z",
            "exit_code": 0,
            "status": "ok",
            "issuers": [
                {"name": "sign-2023", "kid": "9886edfc", "index": "built", "usable": true, "detail": null,
                 "entries": 10000, "fetch": [],
                 "crls": [{"source": "crl/sign-2023.crl", "crl_number": "7", "this_update": "2026-11-25T15:00:00Z",
                           "next_update": "2026-11-26T15:00:00Z", "entries": 10000, "bytes": 376216}]},
                {"name": "auth-2019", "kid": "f930bfae", "index": "unusable", "usable": false,
                 "detail": "CRL expired at 2026-11-26T01:00:00Z", "entries": 0, "fetch": [], "crls": []}
            ],
            "counts": {"records": 10000, "checked": 9926, "attention": 2321, "new_since_previous_run": new,
                       "rejected": 74, "basic_four_changed": 864, "emitted": 2321},
            "timings": {"crls": 0.002349, "check": 0.0116, "publish": 0.0015, "total": 1.5}
        })
    }

    fn row(role: &str, kid: &str, status: &str, reason: Option<&str>, count: u64, b4: u64) -> SummaryRow {
        SummaryRow {
            role: role.into(),
            issuer_kid: kid.into(),
            status: status.into(),
            reason: reason.map(str::to_owned),
            count,
            basic_four_changed: b4,
        }
    }

    fn summary() -> Vec<SummaryRow> {
        vec![
            row("sign", "9886edfc", "good", None, 7000, 0),
            row("sign", "9886edfc", "revoked", Some("affiliationChanged"), 864, 864),
            row("sign", "9886edfc", "revoked", Some("keyCompromise"), 1234, 0),
            row("sign", "9886edfc", "revoked", None, 5, 0),
            row("auth", "f930bfae", "unknown", None, 9926, 0),
        ]
    }

    fn assert_self_contained(page: &str) {
        for bad in ["http://", "https://", "src=", "href=", "url(", "<script", "@import", "<link"] {
            assert!(!page.contains(bad), "{bad} in the page");
        }
    }

    #[test]
    fn shows_the_exact_figures() {
        let m = manifest("2026-11-26", 17);
        let history = vec![manifest("2026-11-24", 2321), manifest("2026-11-25", 0), manifest("2026-11-26", 999)];
        let page = render(&m, &history, &summary());
        assert_self_contained(&page);
        for want in [
            "<h1>Run report: nightly-type2</h1>",
            "ok (exit 0)",
            "<dt>Run date</dt><dd>2026-11-26 (Asia/Tokyo)</dd>",
            "<code>2026-11-26-run</code>",
            // verdicts: role x status, and by reason.
            "<tr><td>sign</td><td class=\"n\">7,000</td><td class=\"n\">2,103</td><td class=\"n\">0</td><td class=\"n\">9,103</td></tr>",
            "<title>sign \u{b7} revoked \u{b7} keyCompromise: 1,234</title>",
            "<title>auth \u{b7} unknown: 9,926</title>",
            "<td>revoked</td><td>no reason code</td><td class=\"n\">5</td>",
            // basic four.
            "<strong id=\"basic-four-total\">864</strong>",
            "<title>sign-2023 \u{b7} sign: 864</title>",
            // history: deduplicated, the current run wins.
            "<title>2026-11-24: 2,321</title>",
            "<title>2026-11-25: 0</title>",
            "<title>2026-11-26: 17</title>",
            // freshness.
            "<title>sign-2023: 12.0 h</title>",
            "<td class=\"n\">12.0 h</td><td class=\"n\">12.0 h</td>",
            "376,216<br>0.38 MB",
            "<title>sign-2023: 0.38 MB (376,216)</title>",
            "<td class=\"n\">10,000</td><td class=\"yes\">yes</td>",
            "<td class=\"no\">no</td><td>CRL expired at 2026-11-26T01:00:00Z</td>",
            // timings.
            "<title>CRLs: fetch, verify, index: 2.3 ms</title>",
            "<title>total: 1.50 s</title>",
        ] {
            assert!(page.contains(want), "missing {want:?}");
        }
        assert!(!page.contains(": 999</title>"), "a history entry beat the current run");
        // Two column charts over the 3 run dates: new records, CRL growth.
        assert_eq!(page.matches("<g class=\"col\">").count(), 6);
    }

    #[test]
    fn crl_growth_per_run_date() {
        let mut m = manifest("2026-11-26", 1);
        let mut a = manifest("2026-11-24", 1);
        let mut b = manifest("2026-11-25", 1);
        let total = |v: &serde_json::Value| -> u64 {
            v["issuers"].as_array().unwrap().iter().map(|i| i["entries"].as_u64().unwrap()).sum()
        };
        let base = total(&m);
        a["issuers"][0]["entries"] = json!(m["issuers"][0]["entries"].as_u64().unwrap() - 1234);
        b["issuers"][0]["entries"] = json!(m["issuers"][0]["entries"].as_u64().unwrap() + 20);
        m["issuers"][1]["entries"] = json!(m["issuers"][1]["entries"].as_u64().unwrap() + 5);
        assert_eq!(total(&b) - total(&a), 1254);
        assert_eq!(total(&m), base + 5);
        let page = render(&m, &[a, b], &summary());
        let at = page.rfind("CRL entries added since the previous run date</title>").unwrap();
        let chart = page[at..].split("</svg>").next().unwrap();
        // 24th: no previous run; 25th: +1,254; 26th: +5 - 20 = -15.
        for want in ["2026-11-24: n/a</title>", "2026-11-25: +1,254</title>", "2026-11-26: -15</title>"] {
            assert!(chart.contains(want), "{want}: {chart}");
        }
    }

    #[test]
    fn escapes_everything_from_configuration() {
        let mut m = manifest("2026-11-26", 1);
        m["job"] = json!("<script>alert(1)</script>");
        m["issuers"][0]["name"] = json!("<img src=x onerror=alert(2)>");
        m["issuers"][1]["detail"] = json!("\"quoted\" & <b>bold</b>");
        m["timezone"] = json!("Asia/Tokyo' onload='x");
        let rows = vec![row("sign<", "9886edfc", "revoked", Some("<r>"), 1, 0)];
        let page = render(&m, &[], &rows);
        // (The escaped name holds the text `src=`, so no assert_self_contained here.)
        assert!(!page.contains("<img") && !page.contains("<b>") && !page.contains("onload='"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("&lt;img src=x onerror=alert(2)&gt;"));
        assert!(page.contains("&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;"));
        assert!(page.contains("sign&lt; \u{b7} revoked \u{b7} &lt;r&gt;: 1"));
    }

    #[test]
    fn old_or_odd_manifests_render() {
        for m in [
            json!({}),
            json!(null),
            json!([1, 2]),
            json!({"run_date": 5, "counts": "many", "issuers": {"a": 1}, "timings": {"total": "slow"}}),
            json!({"issuers": [{"crls": [{"this_update": "yesterday", "bytes": -1}]}, 7, {"name": null}]}),
            json!({"evaluation_time": "2026-11-26T03:00:00Z",
                   "issuers": [{"name": "x", "crls": [{"this_update": "2026-11-26T04:00:00Z"}]}]}),
        ] {
            let page = render(&m, &[json!("junk"), json!({"run_date": "2026-01-01"})], &[]);
            assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"), "{m}");
            assert!(!page.contains("NaN") && !page.contains("inf"), "{m}");
            assert_self_contained(&page);
        }
        let page = render(&json!({}), &[], &[]);
        assert!(page.contains("No summary rows"));
        assert!(page.contains("No issuer in this manifest"));
        assert!(page.contains("No timings in this manifest"));
    }

    #[test]
    fn writes_both_copies_and_refuses_odd_run_dates() {
        let d = std::env::temp_dir().join(format!("crlbatch-report-write-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let m = manifest("2026-11-26", 3);
        let prev = manifest("2026-11-25", 8);
        std::fs::create_dir_all(d.join("manifests/run_date=2026-11-25")).unwrap();
        std::fs::write(d.join("manifests/run_date=2026-11-25/_manifest.json"), prev.to_string()).unwrap();
        std::fs::create_dir_all(d.join("manifests/run_date=2026-11-23")).unwrap();
        std::fs::write(d.join("manifests/run_date=2026-11-23/_manifest.json"), "{").unwrap();
        let path = write_for_run(&d, &m, &summary()).unwrap();
        assert_eq!(path, d.join("report.html"));
        let page = std::fs::read_to_string(&path).unwrap();
        assert_eq!(page, std::fs::read_to_string(d.join("manifests/run_date=2026-11-26/report.html")).unwrap());
        assert!(page.contains("<title>2026-11-25: 8</title>") && page.contains("<title>2026-11-26: 3</title>"));
        assert!(
            page.contains("history: skipped") && page.contains("run_date=2026-11-23"),
            "skipped manifest not named"
        );
        for bad in [json!("../../etc"), json!(20261126), Value::Null] {
            let mut m = m.clone();
            m["run_date"] = bad;
            let e = write_for_run(&d, &m, &[]).unwrap_err();
            assert!(matches!(e, ReportError::RunDate { .. }) && e.to_string().contains("not YYYY-MM-DD"), "{e}");
        }
        std::fs::remove_dir_all(&d).unwrap();
    }
}
