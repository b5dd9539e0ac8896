//! Every snippet of docs/queries.md (DuckDB SQL, Polars, pandas) run against
//! a generated job of two run dates by tests/py/queries.py: the three answers
//! to each question must agree with each other, with the same answer computed
//! with plain pyarrow, and with the run manifests' counts.
//!
//! Run date 1 (2026-11-26) is the README quickstart: the bundled sample, all
//! CRLs fresh. Run date 2 (2026-11-27): the next day's CRLs (same generator
//! seed, cRLNumber 2) for three CAs while auth-2019's publisher is late (its
//! CRL is stale: unknown, exit 75), and a tenth of the records left the input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

const QUERIES: [&str; 8] =
    ["verdicts", "basic-four", "new-attention", "dropped", "unknown", "trend", "customers", "rejects"];
const LIBS: [&str; 3] = ["duckdb", "polars", "pandas"];
const AUTH_2019_KID: &str = "f930bfaee17e9e1fd7f380c5ffbcda1b3bf03529";

fn ok(o: &std::process::Output, what: &str) {
    assert!(o.status.success(), "{what}: {}\n{}", String::from_utf8_lossy(&o.stdout), common::stderr(o));
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// The repository's job file, its sample paths made absolute, optionally
/// with the CRLs of some CAs and the records taken from `day2`.
fn job_text(day2: Option<&Path>) -> String {
    let sample = common::repo().join("data/sample");
    let text = std::fs::read_to_string(common::repo().join("jobs/nightly-type2.toml")).unwrap();
    assert!(text.contains("\"../data/sample/") && text.contains("dir = \"../out/nightly-type2\""), "{text}");
    let mut text = text.replace("\"../data/sample/", &format!("\"{}/", sample.display()));
    if let Some(d) = day2 {
        for ca in ["sign-2023", "sign-2019", "auth-2023"] {
            let from = format!("crl = [\"{}/crl/{ca}.crl\"]", sample.display());
            assert!(text.contains(&from), "{text}");
            text = text.replace(&from, &format!("crl = [\"{}/crl/{ca}.crl\"]", d.display()));
        }
        let from = format!("records = \"{}/records\"", sample.display());
        assert!(text.contains(&from), "{text}");
        text = text.replace(&from, &format!("records = \"{}/records\"", d.display()));
    }
    text
}

/// Each question's answers, by library, as (columns, sorted rows); and the
/// independent answer.
struct Answers {
    by_query: BTreeMap<String, BTreeMap<String, Value>>,
    truth: BTreeMap<String, Value>,
}

fn sorted(t: &Value) -> Value {
    let mut rows = t["rows"].as_array().unwrap().clone();
    rows.sort_by_key(|r| r.to_string());
    json!({"columns": t["columns"], "rows": rows})
}

fn run_queries(root: &Path) -> Answers {
    let runner = common::repo().join("engine/cli/tests/py/queries.py");
    let doc = common::repo().join("docs/queries.md");
    let records = common::repo().join("data/sample/records");
    let o = Command::new("python3")
        .args([runner.as_os_str(), doc.as_os_str(), root.as_os_str(), records.as_os_str()])
        .output()
        .expect("python3 with duckdb, pyarrow, polars and pandas (scripts/requirements.txt)");
    ok(&o, "queries.py");
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut by_query: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    for s in v["snippets"].as_array().unwrap() {
        let (q, lib) = (s["query"].as_str().unwrap().to_owned(), s["lib"].as_str().unwrap().to_owned());
        let prev = by_query.entry(q.clone()).or_default().insert(lib.clone(), sorted(s));
        assert!(prev.is_none(), "two {lib} snippets for {q}");
    }
    let truth = v["truth"].as_object().unwrap().iter().map(|(k, t)| (k.clone(), sorted(t))).collect();
    let a = Answers { by_query, truth };
    // Every question of the page, answered by each library exactly as by plain pyarrow.
    assert_eq!(a.by_query.keys().map(String::as_str).collect::<Vec<_>>(), sorted_names(), "questions of the doc");
    for (q, libs) in &a.by_query {
        assert_eq!(libs.keys().map(String::as_str).collect::<Vec<_>>(), sorted_libs(), "{q}");
        for (lib, got) in libs {
            let want = &a.truth[q];
            assert_eq!(got["columns"], want["columns"], "{q} ({lib}): columns");
            let (g, w) = (got["rows"].as_array().unwrap(), want["rows"].as_array().unwrap());
            let only_got: Vec<_> = g.iter().filter(|r| !w.contains(r)).take(5).collect();
            let only_want: Vec<_> = w.iter().filter(|r| !g.contains(r)).take(5).collect();
            assert!(
                g == w,
                "{q} ({lib}): {} rows, pyarrow {}; only in {lib} (first 5): {only_got:?}; only in pyarrow: {only_want:?}",
                g.len(),
                w.len()
            );
        }
    }
    a
}

fn sorted_names() -> Vec<&'static str> {
    let mut v = QUERIES.to_vec();
    v.sort_unstable();
    v
}

fn sorted_libs() -> Vec<&'static str> {
    let mut v = LIBS.to_vec();
    v.sort_unstable();
    v
}

impl Answers {
    fn rows(&self, q: &str) -> &Vec<Value> {
        self.truth[q]["rows"].as_array().unwrap()
    }
    fn col(&self, q: &str, name: &str) -> usize {
        self.truth[q]["columns"].as_array().unwrap().iter().position(|c| c == name).unwrap()
    }
    /// Sum of an integer column over the rows where `filter` holds.
    fn sum(&self, q: &str, name: &str, filter: impl Fn(&[Value]) -> bool) -> u64 {
        let c = self.col(q, name);
        self.rows(q).iter().filter(|r| filter(r.as_array().unwrap())).map(|r| r[c].as_u64().unwrap()).sum()
    }
}

/// The trend's auth row of a run date: good, revoked, expired, unknown.
fn auth_by_status(a: &Answers, run_date: &str) -> Vec<u64> {
    let rows: Vec<_> = a.rows("trend").iter().filter(|r| r[0] == run_date && r[1] == "auth").collect();
    assert_eq!(rows.len(), 1, "{run_date}: {:?}", a.rows("trend"));
    (2..6).map(|i| rows[0][i].as_u64().unwrap()).collect()
}

fn count(m: &Value, k: &str) -> u64 {
    m["counts"][k].as_u64().unwrap()
}

/// Figures every run date must show, whatever the data: each question's
/// answer tied to the manifest of the latest run.
fn check_latest(a: &Answers, m: &Value) {
    let run_date = m["run_date"].as_str().unwrap();
    // Verdicts: every checked record has one auth certificate; basic four as counted by the run.
    assert_eq!(a.sum("verdicts", "certificates", |r| r[0] == "auth"), count(m, "checked"));
    assert_eq!(a.sum("verdicts", "basic_four_changed", |_| true), count(m, "basic_four_changed"));
    assert_eq!(
        a.sum("verdicts", "certificates", |r| r[..3] == [json!("sign"), json!("revoked"), json!("affiliationChanged")]),
        count(m, "basic_four_changed")
    );
    // Basic four: one row per record so flagged.
    assert_eq!(a.rows("basic-four").len() as u64, count(m, "basic_four_changed"));
    assert!(count(m, "basic_four_changed") > 500, "{}", m["counts"]);
    // New since the previous run: as the run counted them.
    assert_eq!(a.rows("new-attention").len() as u64, count(m, "new_since_previous_run"));
    // Unknown: as many per role as the summary counts.
    for role in ["auth", "sign"] {
        assert_eq!(
            a.sum("unknown", "certificates", |r| r[0] == role),
            a.sum("verdicts", "certificates", |r| r[0] == role && r[1] == "unknown"),
            "{role}"
        );
    }
    // Issuer keys the job has no CA for: named as such, with no CA name.
    let unknown_issuers: Vec<_> = a.rows("unknown").iter().filter(|r| r[2].is_null()).collect();
    assert_eq!(unknown_issuers.len(), 3, "{:?}", a.rows("unknown"));
    for r in unknown_issuers {
        assert_eq!(r[3], format!("unknown issuer {}: no CRL configured for this key", r[1].as_str().unwrap()));
    }
    // Trend: one row per role per run date, every status counted.
    assert_eq!(auth_by_status(a, run_date).iter().sum::<u64>(), count(m, "checked"), "{run_date}");
    // Customers: every third input record is a customer; those needing attention are listed.
    assert!(a.rows("customers").len() as u64 > count(m, "attention") / 4, "{}", a.rows("customers").len());
    assert!((a.rows("customers").len() as u64) < count(m, "attention") / 2);
    assert!(a.rows("customers").iter().all(|r| r[0] != "C999999"), "the digits-only PPID matches no record");
    // Rejects: as many as the run rejected, with the sample's three errors.
    assert_eq!(a.sum("rejects", "rows", |_| true), count(m, "rejected"));
    let errors: Vec<_> = a
        .rows("rejects")
        .iter()
        .map(|r| r[2].as_str().unwrap())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        errors,
        [
            "missing required value",
            "serial number has 21 octets of magnitude (maximum 20)",
            "serial number is not hexadecimal"
        ]
    );
}

#[test]
fn every_doc_snippet_answers_like_pyarrow_and_the_manifests() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let jobs = root.join("jobs");
    std::fs::create_dir_all(&jobs).unwrap();
    let out = root.join("out/nightly-type2");

    // Run date 1: the README quickstart.
    let job1 = jobs.join("nightly-type2.toml");
    std::fs::write(&job1, job_text(None)).unwrap();
    let o = common::crlbatch(&["run", job1.to_str().unwrap(), "--at", "2026-11-26T03:00:00Z"]);
    ok(&o, "run 1");
    let m1 = read_json(&out.join("manifests/run_date=2026-11-26/_manifest.json"));
    assert_eq!(m1["exit_code"], 0);

    let a = run_queries(root);
    check_latest(&a, &m1);
    // First run: everything is new, nothing dropped off, one run date.
    assert_eq!(count(&m1, "new_since_previous_run"), count(&m1, "attention"));
    assert!(a.rows("dropped").is_empty());
    assert_eq!(a.rows("trend").len(), 2);
    assert!(a.rows("unknown").iter().all(|r| r[2].is_null()), "every CA usable: {:?}", a.rows("unknown"));

    // Run date 2: the next day's CRLs but auth-2019's (stale), a tenth of the records gone.
    let day2 = root.join("day2");
    let sample = common::repo().join("data/sample");
    let o = common::crlbatch(&[
        "gen",
        "--out",
        day2.to_str().unwrap(),
        "--seed",
        "42",
        "--this-update",
        "2026-11-26T15:00:00Z",
        "--crl-number",
        "2",
        "--only",
        "sign-2019",
        "--only",
        "sign-2023",
        "--only",
        "auth-2023",
    ]);
    ok(&o, "gen day 2");
    for ca in ["sign-2019", "sign-2023", "auth-2023", "auth-2019"] {
        let der = format!("ca/{ca}.der");
        assert_eq!(std::fs::read(day2.join(&der)).unwrap(), std::fs::read(sample.join(&der)).unwrap(), "{ca}: same CA");
    }
    std::fs::create_dir_all(day2.join("records")).unwrap();
    let script = "import sys, pyarrow as pa, pyarrow.parquet as pq\n\
                  t = pq.read_table(sys.argv[1])\n\
                  pq.write_table(t.take(pa.array([i for i in range(t.num_rows) if i % 10 != 9])), sys.argv[2])";
    let o = Command::new("python3")
        .args(["-c", script])
        .arg(sample.join("records/part-00000.parquet"))
        .arg(day2.join("records/part-00000.parquet"))
        .output()
        .unwrap();
    ok(&o, "records of day 2");
    let job2 = jobs.join("day2.toml");
    std::fs::write(&job2, job_text(Some(&day2))).unwrap();
    let o = common::crlbatch(&["run", job2.to_str().unwrap(), "--at", "2026-11-27T03:00:00Z"]);
    assert_eq!(o.status.code(), Some(75), "stale auth-2019 CRL: {}", common::stderr(&o));
    let m2 = read_json(&out.join("manifests/run_date=2026-11-27/_manifest.json"));
    assert_eq!(m2["run_date"], "2026-11-27");
    assert_eq!(count(&m2, "records"), 9_000);

    let a = run_queries(root);
    check_latest(&a, &m2);
    assert!(count(&m2, "new_since_previous_run") > 1_000, "{}", m2["counts"]);
    // Dropped off: the previous attention list less the records carried over.
    let carried = count(&m2, "attention") - count(&m2, "new_since_previous_run");
    assert_eq!(a.rows("dropped").len() as u64, count(&m1, "attention") - carried);
    assert!(!a.rows("dropped").is_empty());
    // Unknown: the stale CA, by name, with the manifest's reason.
    let stale = m2["issuers"].as_array().unwrap().iter().find(|i| i["kid"] == AUTH_2019_KID).unwrap();
    assert_eq!(stale["usable"], false);
    let row = a.rows("unknown").iter().find(|r| r[1] == AUTH_2019_KID).expect("auth-2019 unknowns");
    assert_eq!(
        row.as_array().unwrap()[..4],
        [json!("auth"), json!(AUTH_2019_KID), json!("auth-2019"), stale["detail"].clone()]
    );
    assert_eq!(row[3], "stale CRL (nextUpdate 2026-11-26T15:00:00Z)");
    // Trend: both run dates (the first as it was), and a jump in unknown.
    assert_eq!(a.rows("trend").len(), 4);
    assert_eq!(auth_by_status(&a, "2026-11-26").iter().sum::<u64>(), count(&m1, "checked"));
    assert!(auth_by_status(&a, "2026-11-27")[3] > auth_by_status(&a, "2026-11-26")[3] + 2_000, "{:?}", a.rows("trend"));
}
