//! The page: header, verdicts, basic-four changes, history, CRL freshness,
//! step timings. Reads the manifest as JSON so that an older manifest
//! (a field missing or of another type) still renders: what is missing is
//! shown as a dash or its section says so.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde_json::Value;

use crate::history::dedupe;
use crate::html::{duration, esc, f, hours, int, mb, s, text, u, DASH};
use crate::svg::{columns, hbar, Bar, Column};
use crate::time::parse_utc;
use crate::SummaryRow;

const CSS: &str = r#"
:root { --fg:#1d2430; --muted:#5b6472; --line:#d9dee5; --bg:#ffffff; --panel:#f6f8fa;
  --good:#2e7d32; --revoked:#c62828; --expired:#757575; --unknown:#ef8f00; --other:#5c6bc0; --cur:#1565c0; }
* { box-sizing: border-box; }
body { margin: 0; padding: 20px 24px 48px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto,
  "Noto Sans", "Noto Sans CJK JP", sans-serif; color: var(--fg); background: var(--bg); max-width: 1200px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 14px; margin: 16px 0 6px; color: var(--muted); }
p.note, p.empty { color: var(--muted); margin: 4px 0 8px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 10px; color: #fff; font-weight: 600; }
.badge.ok { background: var(--good); } .badge.warn { background: var(--unknown); } .badge.bad { background: var(--revoked); }
dl.meta { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 2px 16px; margin: 12px 0; }
dl.meta dt { color: var(--muted); } dl.meta dd { margin: 0; font-variant-numeric: tabular-nums; }
.kpis { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.kpi { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 130px; }
.kpi .n { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; } .kpi .k { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 10px; text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
td.t { white-space: nowrap; }
#freshness-table { font-size: 12px; } #freshness-table th, #freshness-table td { padding: 3px 6px; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.yes { color: var(--good); font-weight: 600; } .no { color: var(--revoked); font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 8px 24px; }
.scroll { overflow-x: auto; max-width: 100%; }
svg.chart { display: block; margin: 6px 0; font-size: 12px; }
svg.chart text.label { fill: var(--fg); } svg.chart text.value { fill: var(--fg); font-weight: 600; }
svg.chart .axis { stroke: #9aa3ad; stroke-width: 1; }
.st-good { fill: var(--good); } .st-revoked { fill: var(--revoked); } .st-expired { fill: var(--expired); }
.st-unknown { fill: var(--unknown); } .st-other { fill: var(--other); } .st-cur { fill: var(--cur); }
details { margin: 6px 0; } summary { cursor: pointer; color: var(--muted); }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
@media print { body { padding: 0; } .scroll { overflow: visible; } }
"#;

/// The CSS class of a verdict.
fn status_class(status: &str) -> &'static str {
    match status {
        "good" => "st-good",
        "revoked" => "st-revoked",
        "expired" => "st-expired",
        "unknown" => "st-unknown",
        _ => "st-other",
    }
}

/// Verdicts in their usual order, others after (alphabetically).
fn status_rank(status: &str) -> u8 {
    match status {
        "good" => 0,
        "revoked" => 1,
        "expired" => 2,
        "unknown" => 3,
        _ => 4,
    }
}

fn reason_text(status: &str, reason: Option<&str>) -> String {
    match reason {
        Some(r) => r.to_owned(),
        None if status == "revoked" => "no reason code".to_owned(),
        None => DASH.to_owned(),
    }
}

/// The whole page.
pub(crate) fn page(m: &Value, history: &[Value], summary: &[SummaryRow], notes: &[String]) -> String {
    let names: HashMap<&str, &str> = issuers(m).filter_map(|i| Some((s(i, "kid")?, s(i, "name")?))).collect();
    let mut o = String::with_capacity(64 * 1024);
    let job = s(m, "job").unwrap_or("job");
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>crlbatch run report: {} {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(job),
        text(m, "run_date"),
    );
    header(&mut o, m);
    verdicts(&mut o, summary, &names);
    basic_four(&mut o, m, summary, &names);
    history_section(&mut o, m, history);
    freshness(&mut o, m);
    timings(&mut o, m);
    if !notes.is_empty() {
        o.push_str("<h2 id=\"notes\">Notes</h2>\n<ul>\n");
        for n in notes {
            let _ = writeln!(o, "<li>history: skipped {}</li>", esc(n));
        }
        o.push_str("</ul>\n");
    }
    let _ = write!(
        o,
        "<footer>crlbatch {} &middot; from the run manifest <code>manifests/run_date={}/_manifest.json</code> and \
         the run&rsquo;s summary; a single file, nothing loaded from the network.</footer>\n</body>\n</html>\n",
        text(m, "engine_version"),
        text(m, "run_date"),
    );
    o
}

fn issuers(m: &Value) -> impl Iterator<Item = &Value> {
    m.get("issuers").and_then(Value::as_array).into_iter().flatten()
}

fn header(o: &mut String, m: &Value) {
    let exit = u(m, "exit_code");
    let badge = match exit {
        Some(0) => "ok",
        Some(75) => "warn",
        _ => "bad",
    };
    let exit_text = exit.map_or_else(|| DASH.to_owned(), |e| e.to_string());
    let _ = write!(
        o,
        "<header>\n<h1>Run report: {job}</h1>\n<p><span class=\"badge {badge}\" id=\"status\">{status} \
         (exit {exit_text})</span></p>\n<dl class=\"meta\">\n",
        job = text(m, "job"),
        status = text(m, "status"),
    );
    let tz = s(m, "timezone").map(|t| format!(" ({})", esc(t))).unwrap_or_default();
    let rows = [
        ("Job", text(m, "job")),
        ("Run id", format!("<code>{}</code>", text(m, "run_id"))),
        ("Evaluation time", text(m, "evaluation_time")),
        ("Run date", format!("{}{tz}", text(m, "run_date"))),
        ("Started", text(m, "started_at")),
        ("Finished", text(m, "finished_at")),
        ("Engine version", text(m, "engine_version")),
        ("Job file", format!("<code>{}</code>", text(m, "job_file"))),
    ];
    for (k, v) in rows {
        let _ = writeln!(o, "<dt>{k}</dt><dd>{v}</dd>");
    }
    o.push_str("</dl>\n</header>\n");
    let Some(c) = m.get("counts") else { return };
    o.push_str("<div class=\"kpis\">\n");
    for (key, label) in [
        ("records", "records"),
        ("checked", "checked"),
        ("attention", "need attention"),
        ("new_since_previous_run", "new since previous run"),
        ("rejected", "rejected rows"),
        ("basic_four_changed", "basic four changed"),
    ] {
        if let Some(n) = u(c, key) {
            let _ = writeln!(
                o,
                "<div class=\"kpi\" id=\"kpi-{key}\"><div class=\"n\">{}</div><div class=\"k\">{label}</div></div>",
                int(n)
            );
        }
    }
    o.push_str("</div>\n");
}

fn issuer_name<'a>(names: &HashMap<&str, &'a str>, kid: &'a str) -> &'a str {
    names.get(kid).copied().unwrap_or(kid)
}

/// (role, (status rank, status), reason): sorts in reading order.
type ReasonKey<'a> = (&'a str, (u8, &'a str), Option<&'a str>);

fn verdicts(o: &mut String, summary: &[SummaryRow], names: &HashMap<&str, &str>) {
    o.push_str("<section id=\"verdicts\">\n<h2>Verdicts by role and reason</h2>\n");
    if summary.is_empty() {
        o.push_str("<p class=\"empty\">No summary rows: no record was checked.</p>\n</section>\n");
        return;
    }
    // role x status.
    let mut statuses: Vec<&str> = summary.iter().map(|r| r.status.as_str()).collect();
    statuses.sort_by_key(|st| (status_rank(st), *st));
    statuses.dedup();
    let mut by_role: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for r in summary {
        *by_role.entry(&r.role).or_default().entry(&r.status).or_default() += r.count;
    }
    o.push_str("<table id=\"verdicts-by-role\">\n<tr><th>role</th>");
    for st in &statuses {
        let _ = write!(o, "<th class=\"n\">{}</th>", esc(st));
    }
    o.push_str("<th class=\"n\">total</th></tr>\n");
    for (role, counts) in &by_role {
        let _ = write!(o, "<tr><td>{}</td>", esc(role));
        for st in &statuses {
            let _ = write!(o, "<td class=\"n\">{}</td>", int(counts.get(st).copied().unwrap_or(0)));
        }
        let _ = writeln!(o, "<td class=\"n\">{}</td></tr>", int(counts.values().sum()));
    }
    o.push_str("</table>\n");

    // role x status x reason.
    let mut by_reason: BTreeMap<ReasonKey<'_>, u64> = BTreeMap::new();
    for r in summary {
        *by_reason.entry((&r.role, (status_rank(&r.status), &r.status), r.reason.as_deref())).or_default() += r.count;
    }
    let bars: Vec<Bar> = by_reason
        .iter()
        .map(|((role, (_, st), reason), n)| Bar {
            label: if reason.is_some() || *st == "revoked" {
                format!("{role} \u{b7} {st} \u{b7} {}", reason_text(st, *reason))
            } else {
                format!("{role} \u{b7} {st}")
            },
            value: *n as f64,
            text: int(*n),
            class: status_class(st),
        })
        .collect();
    o.push_str("<div class=\"charts\">\n<div>\n");
    o.push_str(&hbar("Certificates by role, verdict and reason", &bars));
    o.push_str(
        "\n</div>\n<div>\n<table id=\"verdicts-by-reason\">\n<tr><th>role</th><th>verdict</th><th>reason</th>\
                <th class=\"n\">certificates</th></tr>\n",
    );
    for ((role, (_, st), reason), n) in &by_reason {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            esc(role),
            esc(st),
            esc(&reason_text(st, *reason)),
            int(*n),
        );
    }
    o.push_str("</table>\n</div>\n</div>\n");

    // Per issuer, folded.
    let mut rows: Vec<&SummaryRow> = summary.iter().collect();
    rows.sort_by(|a, b| {
        (issuer_name(names, &a.issuer_kid), &a.role, status_rank(&a.status), &a.status, &a.reason).cmp(&(
            issuer_name(names, &b.issuer_kid),
            &b.role,
            status_rank(&b.status),
            &b.status,
            &b.reason,
        ))
    });
    o.push_str(
        "<details><summary>By issuer key</summary>\n<table id=\"verdicts-by-issuer\">\n<tr><th>issuer</th>\
                <th>kid</th><th>role</th><th>verdict</th><th>reason</th><th class=\"n\">certificates</th>\
                <th class=\"n\">basic four changed</th></tr>\n",
    );
    for r in rows {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td></tr>",
            esc(issuer_name(names, &r.issuer_kid)),
            esc(&r.issuer_kid),
            esc(&r.role),
            esc(&r.status),
            esc(&reason_text(&r.status, r.reason.as_deref())),
            int(r.count),
            int(r.basic_four_changed)
        );
    }
    o.push_str("</table>\n</details>\n</section>\n");
}

fn basic_four(o: &mut String, m: &Value, summary: &[SummaryRow], names: &HashMap<&str, &str>) {
    o.push_str("<section id=\"basic-four\">\n<h2>Basic-four changes</h2>\n");
    let total = m.get("counts").and_then(|c| u(c, "basic_four_changed"));
    o.push_str(
        "<p class=\"note\">Records whose linked signing certificate is revoked with affiliationChanged \
                (name, date of birth, sex or address changed).",
    );
    if let Some(t) = total {
        let _ = write!(o, " This run: <strong id=\"basic-four-total\">{}</strong> records.", int(t));
    }
    o.push_str("</p>\n");
    let mut by: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for r in summary.iter().filter(|r| r.basic_four_changed > 0) {
        *by.entry((&r.issuer_kid, &r.role)).or_default() += r.basic_four_changed;
    }
    if by.is_empty() {
        o.push_str("<p class=\"empty\">No basic-four changes in this run.</p>\n</section>\n");
        return;
    }
    let bars: Vec<Bar> = by
        .iter()
        .map(|((kid, role), n)| Bar {
            label: format!("{} \u{b7} {role}", issuer_name(names, kid)),
            value: *n as f64,
            text: int(*n),
            class: "st-revoked",
        })
        .collect();
    o.push_str("<div class=\"charts\">\n<div>\n");
    o.push_str(&hbar("Basic-four changes by issuer and role", &bars));
    o.push_str(
        "\n</div>\n<div>\n<table id=\"basic-four-by-issuer\">\n<tr><th>issuer</th><th>kid</th><th>role</th>\
                <th class=\"n\">basic four changed</th></tr>\n",
    );
    for ((kid, role), n) in &by {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            esc(issuer_name(names, kid)),
            esc(kid),
            esc(role),
            int(*n)
        );
    }
    o.push_str("</table>\n</div>\n</div>\n</section>\n");
}

fn history_section(o: &mut String, m: &Value, history: &[Value]) {
    o.push_str(
        "<section id=\"history\">\n<h2>New per run date</h2>\n<p class=\"note\">Records newly needing \
                attention (revoked, expired or unknown, and not so in the previous run: \
                <code>new_since_previous_run</code>), per run of this job, read from the runs&rsquo; manifests. \
                The current run is in blue.</p>\n",
    );
    let runs = dedupe(m, history);
    let current = s(m, "run_date");
    let cols: Vec<Column> = runs
        .iter()
        .map(|r| {
            let new = r.get("counts").and_then(|c| u(c, "new_since_previous_run"));
            let date = s(r, "run_date").unwrap_or(DASH);
            Column {
                label: date.to_owned(),
                value: new.map(|n| n as f64),
                text: new.map_or_else(|| "n/a".to_owned(), int),
                class: if Some(date) == current { "st-cur" } else { "st-other" },
            }
        })
        .collect();
    o.push_str("<div class=\"scroll\">\n");
    o.push_str(&columns("New since previous run, per run date", &cols));
    o.push_str("\n</div>\n");
    // New revocations as the CRLs tell them: the change in listed entries
    // (all issuers) since the previous run date (net: entries removed, such
    // as a lifted certificateHold, count against it).
    let entries: Vec<Option<u64>> = runs.iter().map(|r| issuers(r).map(|i| u(i, "entries")).sum()).collect();
    let growth: Vec<Column> = runs
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let date = s(r, "run_date").unwrap_or(DASH);
            let prev = k.checked_sub(1).and_then(|p| entries.get(p).copied().flatten());
            let diff =
                entries.get(k).copied().flatten().zip(prev).map(|(now, before)| i128::from(now) - i128::from(before));
            Column {
                label: date.to_owned(),
                value: diff.map(|d| if d > 0 { d as f64 } else { 0.0 }),
                text: diff.map_or_else(
                    || "n/a".to_owned(),
                    |d| {
                        if d > 0 {
                            format!("+{}", int(u64::try_from(d.unsigned_abs()).unwrap_or(u64::MAX)))
                        } else if d < 0 {
                            format!("-{}", int(u64::try_from(d.unsigned_abs()).unwrap_or(u64::MAX)))
                        } else {
                            "0".to_owned()
                        }
                    },
                ),
                class: if Some(date) == current { "st-cur" } else { "st-other" },
            }
        })
        .collect();
    o.push_str(
        "<p class=\"note\">New revocations on the CRLs: the change in entries listed by all issuers since the \
         previous run date (net of entries removed, such as a lifted certificateHold).</p>\n<div class=\"scroll\">\n",
    );
    o.push_str(&columns("CRL entries added since the previous run date", &growth));
    o.push_str("\n</div>\n");
    if runs.is_empty() {
        o.push_str("</section>\n");
        return;
    }
    o.push_str(
        "<details><summary>Runs</summary>\n<table id=\"history-runs\">\n<tr><th>run date</th><th>run id</th>\
                <th>status</th><th class=\"n\">exit</th><th class=\"n\">records</th><th class=\"n\">attention</th>\
                <th class=\"n\">new</th><th class=\"n\">basic four changed</th><th class=\"n\">CRL entries (distinct)</th></tr>\n",
    );
    for r in runs.iter().rev() {
        let c = r.get("counts");
        let count = |k: &str| c.and_then(|c| u(c, k)).map_or_else(|| DASH.to_owned(), int);
        let entries: Option<u64> = issuers(r).map(|i| u(i, "entries")).sum();
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            text(r, "run_date"),
            text(r, "run_id"),
            text(r, "status"),
            u(r, "exit_code").map_or_else(|| DASH.to_owned(), |e| e.to_string()),
            count("records"),
            count("attention"),
            count("new_since_previous_run"),
            count("basic_four_changed"),
            entries.map_or_else(|| DASH.to_owned(), int),
        );
    }
    o.push_str("</table>\n</details>\n</section>\n");
}

fn freshness(o: &mut String, m: &Value) {
    o.push_str("<section id=\"freshness\">\n<h2>CRL freshness and size per issuer</h2>\n");
    let at = s(m, "evaluation_time").and_then(parse_utc);
    let _ = writeln!(
        o,
        "<p class=\"note\">Age and time left are at the evaluation time, {}. A CRL is fresh when \
         thisUpdate &le; t &lt; nextUpdate.</p>",
        text(m, "evaluation_time")
    );
    let list: Vec<&Value> = issuers(m).collect();
    if list.is_empty() {
        o.push_str("<p class=\"empty\">No issuer in this manifest.</p>\n</section>\n");
        return;
    }
    let hours_between = |from: Option<i64>, to: Option<i64>| Some((to? - from?) as f64 / 3600.0);
    let mut left_bars = Vec::new();
    let mut size_bars = Vec::new();
    let mut rows = String::new();
    for i in &list {
        let name = s(i, "name").or_else(|| s(i, "kid")).unwrap_or(DASH);
        let usable = i.get("usable").and_then(Value::as_bool);
        let mut detail = s(i, "detail").map(esc).unwrap_or_default();
        for fr in i.get("fetch").and_then(Value::as_array).into_iter().flatten() {
            let outcome = s(fr, "outcome").unwrap_or("fetched");
            let attempts = u(fr, "attempts").map(|a| format!(", {a} attempt(s)")).unwrap_or_default();
            let err = s(fr, "error").map(|e| format!(": {}", esc(e))).unwrap_or_default();
            if !detail.is_empty() {
                detail.push_str("<br>");
            }
            let _ = write!(detail, "fetch {}{attempts}{err}", esc(outcome));
        }
        let crls: Vec<&Value> = i.get("crls").and_then(Value::as_array).into_iter().flatten().collect();
        let n_crls = crls.len();
        let (usable_cell, usable_class) = match usable {
            Some(true) => ("yes", "yes"),
            Some(false) => ("no", "no"),
            None => (DASH, ""),
        };
        let issuer_cells = format!(
            "<td>{}<br><span class=\"mono\" title=\"{}\">{}</span></td><td>{}</td>",
            esc(name),
            text(i, "kid"),
            esc(&short_kid(s(i, "kid").unwrap_or(DASH))),
            text(i, "index")
        );
        let tail = format!(
            "<td class=\"n\">{}</td><td class=\"{usable_class}\">{usable_cell}</td><td>{}</td>",
            u(i, "entries").map_or_else(|| DASH.to_owned(), int),
            if detail.is_empty() { DASH.to_owned() } else { detail },
        );
        if crls.is_empty() {
            let _ = writeln!(rows, "<tr>{issuer_cells}<td colspan=\"7\">no CRL</td>{tail}</tr>",);
        }
        for (k, c) in crls.iter().enumerate() {
            let label = if n_crls > 1 { format!("{name} #{}", k + 1) } else { name.to_owned() };
            let this = s(c, "this_update").and_then(parse_utc);
            let next = s(c, "next_update").and_then(parse_utc);
            let age = hours_between(this, at);
            let left = hours_between(at, next);
            if let Some(l) = left {
                let fresh = usable != Some(false) && l > 0.0 && age.is_some_and(|a| a >= 0.0);
                left_bars.push(Bar {
                    label: label.clone(),
                    value: l,
                    text: hours(l),
                    class: if fresh { "st-good" } else { "st-unknown" },
                });
            }
            let bytes = u(c, "bytes");
            if let Some(b) = bytes {
                size_bars.push(Bar {
                    label: label.clone(),
                    value: b as f64,
                    text: format!("{} ({})", mb(b), int(b)),
                    class: "st-other",
                });
            }
            let _ = writeln!(
                rows,
                "<tr>{}<td class=\"n\">{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td><td class=\"n\">{}</td>{}</tr>",
                if k == 0 { issuer_cells.clone() } else { "<td colspan=\"2\">\u{21b3}</td>".to_owned() },
                text(c, "crl_number"),
                text(c, "this_update"),
                s(c, "next_update").map_or_else(|| "none".to_owned(), esc),
                age.map_or_else(|| DASH.to_owned(), hours),
                left.map_or_else(|| DASH.to_owned(), hours),
                bytes.map_or_else(|| DASH.to_owned(), |b| format!("{}<br>{}", int(b), mb(b))),
                u(c, "entries").map_or_else(|| DASH.to_owned(), int),
                if k == 0 { tail.clone() } else { "<td></td><td></td><td></td>".to_owned() },
            );
        }
    }
    o.push_str("<div class=\"charts\">\n<div>\n<h3>Hours left until nextUpdate</h3>\n");
    o.push_str(&hbar("Hours left until nextUpdate, per CRL", &left_bars));
    o.push_str("\n</div>\n<div>\n<h3>CRL size</h3>\n");
    o.push_str(&hbar("CRL size in bytes, per CRL", &size_bars));
    o.push_str(
        "\n</div>\n</div>\n<div class=\"scroll\">\n<table id=\"freshness-table\">\n<tr><th>issuer</th><th>index</th>\
                <th class=\"n\">number</th><th>thisUpdate</th><th>nextUpdate</th><th class=\"n\">age</th>\
                <th class=\"n\">left</th><th class=\"n\">size (bytes)</th><th class=\"n\">entries</th>\
                <th class=\"n\" title=\"distinct serials in the index\">distinct</th><th>usable</th><th>detail</th></tr>\n",
    );
    o.push_str(&rows);
    o.push_str("</table>\n</div>\n</section>\n");
}

/// The first 16 hex digits of a key id (the full one is in the tooltip).
fn short_kid(kid: &str) -> String {
    if kid.chars().count() > 16 {
        let mut s: String = kid.chars().take(16).collect();
        s.push('\u{2026}');
        s
    } else {
        kid.to_owned()
    }
}

fn timings(o: &mut String, m: &Value) {
    o.push_str("<section id=\"timings\">\n<h2>Step timings</h2>\n");
    let Some(t) = m.get("timings") else {
        o.push_str("<p class=\"empty\">No timings in this manifest.</p>\n</section>\n");
        return;
    };
    let bars: Vec<Bar> = [
        ("crls", "CRLs: fetch, verify, index"),
        ("check", "check records, write results"),
        ("publish", "publish"),
        ("total", "total"),
    ]
    .into_iter()
    .filter_map(|(k, label)| {
        let v = f(t, k)?;
        Some(Bar {
            label: label.to_owned(),
            value: v,
            text: duration(v),
            class: if k == "total" { "st-cur" } else { "st-other" },
        })
    })
    .collect();
    o.push_str(&hbar("Seconds per step", &bars));
    let _ =
        writeln!(o, "\n<p class=\"note\">Started {}, finished {}.</p>", text(m, "started_at"), text(m, "finished_at"));
    o.push_str("</section>\n");
}
