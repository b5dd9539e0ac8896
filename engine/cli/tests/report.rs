//! `report.html` end to end: the sample job run on three dates into one
//! output folder, then the report rendered by headless Chromium (installed
//! by `.ci/run` from Debian packages). Checks that it renders without a
//! console message or page error, that the rendered DOM shows the figures
//! of the manifests and of the summary (read back with pyarrow), that it
//! names no network address, and that a screenshot is produced.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Run dates 2026-11-24 (CRLs not yet valid), 2026-11-27 (expired) and,
/// last, 2026-11-26 (fresh): the report at the top of the output folder is
/// the fresh run's, with the two others as history.
const RUNS: [&str; 3] = ["2026-11-24T03:00:00Z", "2026-11-27T03:00:00Z", "2026-11-26T03:00:00Z"];

/// Longest a Chromium render may take.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(120);

fn job_toml(repo: &Path) -> String {
    let sample = repo.join("data/sample");
    let s = sample.display();
    let mut t = String::from("name = \"report-test\"\nschedule = \"30 2 * * *\"\ntimezone = \"Asia/Tokyo\"\n");
    for ca in ["sign-2023", "sign-2019", "auth-2023", "auth-2019"] {
        t.push_str(&format!("\n[[ca]]\nname = \"{ca}\"\ncert = \"{s}/ca/{ca}.der\"\ncrl = [\"{s}/crl/{ca}.crl\"]\n"));
    }
    t.push_str(&format!("\n[input]\nrecords = \"{s}/records\"\n\n[output]\ndir = \"out\"\n"));
    t
}

/// `chromium` on PATH; the test fails (it does not skip) without it.
fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("chromium is not installed: `apt-get install chromium` (.ci/run does) to render report.html in this test");
}

/// Run headless Chromium on `page` with `args`, killed after
/// [`CHROMIUM_TIMEOUT`].
fn render(page: &Path, args: &[&str]) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    // Drain the pipes while waiting (the DOM is larger than a pipe buffer).
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut b).unwrap();
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut b).unwrap();
        b
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > CHROMIUM_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish rendering {} in {CHROMIUM_TIMEOUT:?}", page.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output { status, stdout: t_out.join().unwrap(), stderr: t_err.join().unwrap() }
}

/// Chromium's stderr lines about the page: console messages (the page has
/// no script, so any is a problem: a CSP refusal, a load error), uncaught
/// errors, and errors naming the file. Its unrelated noise (D-Bus, sandbox,
/// GPU) is left out.
fn page_errors(stderr: &str, file: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| {
            l.contains(":CONSOLE")
                || l.contains("Uncaught")
                || l.contains("Refused to")
                || (l.contains("ERROR:") && l.contains(file))
        })
        .map(str::to_owned)
        .collect()
}

/// `1234567` as `1,234,567`, as the report writes counts.
fn int(n: u64) -> String {
    let d = n.to_string();
    let mut o = String::new();
    for (i, c) in d.chars().enumerate() {
        if i > 0 && (d.len() - i).is_multiple_of(3) {
            o.push(',');
        }
        o.push(c);
    }
    o
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// The summary Parquet of one run date, read back with pyarrow.
fn summary_rows(out: &Path, date: &str) -> Vec<Value> {
    let dir = out.join("summary").join(format!("run_date={date}"));
    let o = Command::new("python3")
        .args([
            "-c",
            "import json, sys, pyarrow.parquet as pq; print(json.dumps(pq.read_table(sys.argv[1]).to_pylist()))",
            dir.to_str().unwrap(),
        ])
        .output()
        .expect("python3 with pyarrow (scripts/test installs it)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice::<Value>(&o.stdout).unwrap().as_array().unwrap().clone()
}

#[test]
fn report_renders_in_chromium_with_the_runs_figures() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    std::fs::write(root.join("job.toml"), job_toml(&common::repo())).unwrap();
    let job = root.join("job.toml");
    for at in RUNS {
        let o = common::crlbatch(&["run", job.to_str().unwrap(), "--at", at]);
        // Fresh: 0; stale (not yet valid, expired): 75. Both publish.
        assert!(matches!(o.status.code(), Some(0 | 75)), "run --at {at}: {}", common::stderr(&o));
    }
    let out = root.join("out");
    let report = out.join("report.html");
    let manifest = read_json(&out.join("_manifest.json"));
    assert_eq!(manifest["run_date"], "2026-11-26");
    assert_eq!(manifest["status"], "ok");

    // One report per run date, beside its manifest; the top one is the last run's.
    let mut history = BTreeMap::new();
    for at in RUNS {
        let date = &at[..10];
        let dir = out.join("manifests").join(format!("run_date={date}"));
        assert!(dir.join("report.html").is_file(), "no report for {date}");
        history.insert(date.to_owned(), read_json(&dir.join("_manifest.json")));
    }
    let html = std::fs::read_to_string(&report).unwrap();
    assert_eq!(html, std::fs::read_to_string(out.join("manifests/run_date=2026-11-26/report.html")).unwrap());

    // Self-contained: no network address, no external reference.
    for bad in ["http://", "https://", "src=", "href=", "url(", "<script", "<link", "@import"] {
        assert!(!html.contains(bad), "report.html contains {bad:?}");
    }

    // Render: no error about the page, and the DOM shows the figures.
    let file = report.to_str().unwrap();
    let o = render(&report, &["--dump-dom"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "chromium --dump-dom failed: {stderr}");
    let errors = page_errors(&stderr, file);
    assert!(errors.is_empty(), "chromium reported errors about the page:\n{}", errors.join("\n"));
    let dom = String::from_utf8(o.stdout).unwrap();
    assert!(dom.contains("</html>"), "no DOM dumped: {dom}");
    let mut want: Vec<String> = vec![
        "<h1>Run report: report-test</h1>".into(),
        "ok (exit 0)".into(),
        format!("<code>{}</code>", manifest["run_id"].as_str().unwrap()),
        "<dt>Evaluation time</dt><dd>2026-11-26T03:00:00Z</dd>".into(),
        "<dt>Run date</dt><dd>2026-11-26 (Asia/Tokyo)</dd>".into(),
        format!("<dt>Engine version</dt><dd>{}</dd>", manifest["engine_version"].as_str().unwrap()),
    ];
    for id in ["verdicts", "basic-four", "history", "freshness", "timings"] {
        want.push(format!("<section id=\"{id}\">"));
    }
    for (key, v) in manifest["counts"].as_object().unwrap() {
        if key != "emitted" {
            want.push(format!(
                "<div class=\"kpi\" id=\"kpi-{key}\"><div class=\"n\">{}</div>",
                int(v.as_u64().unwrap())
            ));
        }
    }

    // Verdict counts by role and reason, and by role, from the summary Parquet.
    let rows = summary_rows(&out, "2026-11-26");
    assert!(!rows.is_empty());
    let mut by_reason: BTreeMap<(String, String, Option<String>), u64> = BTreeMap::new();
    let mut by_role: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut b4_by_issuer: BTreeMap<String, u64> = BTreeMap::new();
    let mut b4 = 0;
    for r in &rows {
        let (role, status) = (r["role"].as_str().unwrap().to_owned(), r["status"].as_str().unwrap().to_owned());
        let reason = r["reason"].as_str().map(str::to_owned);
        let n = r["count"].as_u64().unwrap();
        *by_reason.entry((role.clone(), status.clone(), reason)).or_default() += n;
        *by_role.entry((role, status)).or_default() += n;
        let b = r["basic_four_changed"].as_u64().unwrap();
        *b4_by_issuer.entry(r["issuer_kid"].as_str().unwrap().to_owned()).or_default() += b;
        b4 += b;
    }
    for ((role, status, reason), n) in &by_reason {
        let label = match (reason, status.as_str()) {
            (Some(r), _) => format!("{role} \u{b7} {status} \u{b7} {r}"),
            (None, "revoked") => format!("{role} \u{b7} {status} \u{b7} no reason code"),
            (None, _) => format!("{role} \u{b7} {status}"),
        };
        want.push(format!("<title>{label}: {}</title>", int(*n)));
    }
    for role in ["auth", "sign"] {
        let mut row = format!("<tr><td>{role}</td>");
        let mut total = 0;
        for status in ["good", "revoked", "expired", "unknown"] {
            let n = by_role.get(&(role.to_owned(), status.to_owned())).copied().unwrap_or(0);
            total += n;
            row.push_str(&format!("<td class=\"n\">{}</td>", int(n)));
        }
        row.push_str(&format!("<td class=\"n\">{}</td></tr>", int(total)));
        want.push(row);
    }

    // Basic-four changes: the total, and per issuer.
    assert_eq!(manifest["counts"]["basic_four_changed"].as_u64().unwrap(), b4);
    assert!(b4 > 0, "the sample has basic-four changes");
    want.push(format!("<strong id=\"basic-four-total\">{}</strong>", int(b4)));

    // CRL freshness and size per issuer.
    for i in manifest["issuers"].as_array().unwrap() {
        let name = i["name"].as_str().unwrap();
        let crl = &i["crls"][0];
        let bytes = crl["bytes"].as_u64().unwrap();
        assert_eq!(crl["next_update"], "2026-11-26T15:00:00Z");
        assert_eq!(crl["this_update"], "2026-11-25T15:00:00Z");
        want.push(format!("<title>{name}: 12.0 h</title>"));
        want.push(format!("<title>{name}: {:.2} MB ({})</title>", bytes as f64 / 1e6, int(bytes)));
        want.push(format!(
            "<td class=\"n\">12.0 h</td><td class=\"n\">12.0 h</td><td class=\"n\">{}<br>{:.2} MB</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"yes\">yes</td>",
            int(bytes),
            bytes as f64 / 1e6,
            int(crl["entries"].as_u64().unwrap()),
            int(i["entries"].as_u64().unwrap()),
        ));
        let kid = i["kid"].as_str().unwrap();
        if let Some(n) = b4_by_issuer.get(kid).filter(|n| **n > 0) {
            want.push(format!("<title>{name} \u{b7} sign: {}</title>", int(*n)));
        }
    }

    // New per run date, over the history.
    for (date, m) in &history {
        want.push(format!("<title>{date}: {}</title>", int(m["counts"]["new_since_previous_run"].as_u64().unwrap())));
    }
    // Two column charts per run date: new records, and CRL entries added
    // (the same CRLs on every date here: n/a for the first, then 0).
    assert_eq!(dom.matches("<g class=\"col\">").count(), 2 * RUNS.len());
    let mut dates: Vec<&String> = history.keys().collect();
    dates.sort();
    for (k, date) in dates.iter().enumerate() {
        want.push(format!("<title>{date}: {}</title>", if k == 0 { "n/a" } else { "0" }));
    }
    assert_ne!(history["2026-11-24"]["counts"]["new_since_previous_run"], 0);

    // Step timings are charted.
    for step in ["CRLs: fetch, verify, index", "check records, write results", "publish", "total"] {
        want.push(format!("<title>{step}: "));
    }

    let missing: Vec<&String> = want.iter().filter(|w| !dom.contains(w.as_str())).collect();
    assert!(missing.is_empty(), "the rendered report lacks:\n{missing:#?}");

    // A screenshot: a PNG of the window's width.
    let shots = tempfile::tempdir().unwrap();
    let png = shots.path().join("r.png");
    let o = render(&report, &[&format!("--screenshot={}", png.display()), "--window-size=1200,2000"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "chromium --screenshot failed: {stderr}");
    let errors = page_errors(&stderr, file);
    assert!(errors.is_empty(), "chromium reported errors about the page:\n{}", errors.join("\n"));
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("no screenshot {}: {e}", png.display()));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), 1200, "PNG width");
    assert!(bytes.len() > 30_000, "screenshot of {} bytes: blank page?", bytes.len());
}
