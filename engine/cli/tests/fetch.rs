//! `crlbatch run` with CRLs over HTTP from a real server on loopback
//! (tests/common/http.rs): every network fault and every bad body, each
//! asserting the fetch outcome in the manifest, the exit code, and that the
//! last good CRL and index are kept (or, without one, that the CA's
//! certificates are `unknown`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{crlbatch, stderr};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::http::{Reply, Server};
use serde_json::Value;

const AT: &str = "2026-11-26T03:00:00Z";

struct Fx {
    _d: tempfile::TempDir,
    root: PathBuf,
    server: Server,
}

/// Generated PKI and records; sign-2023's CRL (or its partitions) over HTTP,
/// the other CAs from local files.
fn fixture(partitions: u32, extra: &str) -> Fx {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().to_owned();
    let o = crlbatch(&[
        "gen",
        "--out",
        root.to_str().unwrap(),
        "--seed",
        "3",
        "--entries",
        "3000",
        "--records",
        "2000",
        "--partitions",
        &partitions.to_string(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let server = Server::start();
    let mut urls = Vec::new();
    let local = |name: &str| {
        if partitions == 1 {
            format!("\"crl/{name}.crl\"")
        } else {
            (1..=partitions).map(|p| format!("\"crl/{name}/p{p:04}.crl\"")).collect::<Vec<_>>().join(", ")
        }
    };
    if partitions == 1 {
        let body = std::fs::read(root.join("crl/sign-2023.crl")).unwrap();
        server.script("/sign-2023.crl", vec![Reply::ok(&body, "v1")]);
        urls.push(server.url("/sign-2023.crl"));
    } else {
        for p in 1..=partitions {
            let body = std::fs::read(root.join(format!("crl/sign-2023/p{p:04}.crl"))).unwrap();
            let path = format!("/sign-2023/p{p:04}.crl");
            server.script(&path, vec![Reply::ok(&body, &format!("p{p}v1"))]);
            urls.push(server.url(&path));
        }
    }
    let urls = urls.iter().map(|u| format!("\"{u}\"")).collect::<Vec<_>>().join(", ");
    let job = format!(
        r#"
name = "fetch-test"
[[ca]]
name = "sign-2023"
cert = "ca/sign-2023.der"
crl = [{urls}]
[[ca]]
name = "sign-2019"
cert = "ca/sign-2019.der"
crl = [{}]
[[ca]]
name = "auth-2023"
cert = "ca/auth-2023.der"
crl = [{}]
[[ca]]
name = "auth-2019"
cert = "ca/auth-2019.der"
crl = [{}]
[input]
records = "records"
[output]
dir = "out"
[fetch]
attempts = 3
backoff_base_ms = 10
backoff_max_ms = 100
deadline_secs = 3
read_timeout_secs = 1
connect_timeout_secs = 1
{extra}
"#,
        local("sign-2019"),
        local("auth-2023"),
        local("auth-2019")
    );
    std::fs::write(root.join("job.toml"), job).unwrap();
    Fx { _d: d, root, server }
}

impl Fx {
    fn run_at(&self, at: &str) -> (Output, Value) {
        let job = self.root.join("job.toml");
        let o = crlbatch(&["run", job.to_str().unwrap(), "--at", at]);
        let m: Value = serde_json::from_slice(&std::fs::read(self.root.join("out/_manifest.json")).unwrap_or_default())
            .unwrap_or(Value::Null);
        if m != Value::Null {
            common::assert_valid("manifest.schema.json", &m);
        }
        (o, m)
    }

    fn run(&self) -> (Output, Value) {
        self.run_at(AT)
    }

    /// The bytes of another sign-2023 CRL of the same PKI (same seed and
    /// keys), generated with `extra` options (`--this-update`, `--crl-number`).
    fn sign_crl(&self, dir: &str, extra: &[&str]) -> Vec<u8> {
        let out = self.root.join(dir);
        let mut args =
            vec!["gen", "--out", out.to_str().unwrap(), "--seed", "3", "--entries", "3000", "--only", "sign-2023"];
        args.extend_from_slice(extra);
        let o = crlbatch(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read(out.join("crl/sign-2023.crl")).unwrap()
    }

    fn crl(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.root.join("crl").join(name)).unwrap()
    }

    /// Store folders of the remote sources.
    fn stores(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.root.join("out/_state/sources"))
            .map(|r| r.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// SHA-256 and size of the one stored CRL, and whether its index exists;
    /// asserts no temporary file is left.
    fn stored(&self) -> (String, u64, bool) {
        let stores = self.stores();
        assert_eq!(stores.len(), 1);
        let dir = &stores[0];
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            assert!(!e.file_name().to_string_lossy().starts_with(".incoming-"), "temporary file left: {e:?}");
        }
        let meta: Value = serde_json::from_slice(&std::fs::read(dir.join("source.json")).unwrap()).unwrap();
        let bytes = std::fs::metadata(dir.join(format!("crl-{}.der", meta["sha256"].as_str().unwrap()))).unwrap().len();
        let crls = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("crl-"))
            .count();
        assert_eq!(crls, 1, "only the CRL in use is kept");
        (meta["sha256"].as_str().unwrap().to_owned(), bytes, dir.join("index.crlidx").exists())
    }
}

fn issuer<'a>(m: &'a Value, name: &str) -> &'a Value {
    m["issuers"].as_array().unwrap().iter().find(|i| i["name"] == name).unwrap()
}

fn fetch0(m: &Value) -> &Value {
    &issuer(m, "sign-2023")["fetch"][0]
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

/// Good sign-role verdicts for the sign-2023 key, from the summary table.
fn good_sign_2023(root: &Path, m: &Value) -> u64 {
    let kid = issuer(m, "sign-2023")["kid"].as_str().unwrap().to_owned();
    let glob = root.join(format!("out/summary/run_date={}/*.parquet", m["run_date"].as_str().unwrap()));
    let sql = format!(
        "select coalesce(sum(count), 0) from read_parquet('{}') where role = 'sign' and issuer_kid = '{kid}' and status = 'good'",
        glob.display()
    );
    let o = Command::new("python3")
        .args(["-c", &format!("import duckdb; print(duckdb.sql(\"\"\"{sql}\"\"\").fetchall()[0][0])")])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
}

/// A good first run: the CRL fetched, verified, stored, indexed.
fn first_run(fx: &Fx) -> (Value, (String, u64, bool), u64) {
    let (o, m) = fx.run();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let f = fetch0(&m);
    assert_eq!(f["outcome"], "updated");
    assert_eq!(f["serving"], "new");
    assert_eq!(f["http_status"], 200);
    assert_eq!(f["attempts"], 1);
    assert_eq!(f["etag"], "\"v1\"");
    assert_eq!(f["crl_number"], "1");
    assert_eq!(issuer(&m, "sign-2023")["index"], "built");
    assert_eq!(issuer(&m, "sign-2023")["usable"], true);
    let stored = fx.stored();
    assert!(stored.2, "index stored beside the CRL");
    let good = good_sign_2023(&fx.root, &m);
    assert!(good > 100, "{good}");
    // The log has one structured line per source.
    assert!(stderr(&o).contains("fetch source=http://127.0.0.1:"), "{}", stderr(&o));
    (m, stored, good)
}

/// After a failed or refused fetch: the last good CRL and index still serve.
fn assert_last_good_kept(fx: &Fx, m: &Value, stored: &(String, u64, bool), good: u64) {
    let f = fetch0(m);
    assert_eq!(f["serving"], "stored", "{f}");
    assert_eq!(f["sha256"], stored.0.as_str());
    assert_eq!(f["crl_number"], "1");
    let i = issuer(m, "sign-2023");
    assert_eq!(i["index"], "last_good", "{i}");
    assert_eq!(i["usable"], true);
    assert_eq!(&fx.stored(), stored);
    assert_eq!(good_sign_2023(&fx.root, m), good);
}

#[test]
fn ok_then_304_reuses_the_stored_crl_without_parsing() {
    let fx = fixture(1, "");
    let (m1, stored, good) = first_run(&fx);
    assert_eq!(fx.server.seen()[0].if_none_match, None);
    fx.server.clear_seen();
    let (o, m) = fx.run();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(fx.server.seen()[0].if_none_match.as_deref(), Some("\"v1\""));
    let f = fetch0(&m);
    assert_eq!(f["outcome"], "not_modified");
    assert_eq!(f["http_status"], 304);
    assert_eq!(f["serving"], "stored");
    assert_eq!(issuer(&m, "sign-2023")["index"], "reused");
    assert_eq!(issuer(&m, "sign-2023")["entries"], issuer(&m1, "sign-2023")["entries"]);
    assert_eq!(fx.stored(), stored);
    assert_eq!(good_sign_2023(&fx.root, &m), good);
    for k in ["records", "checked", "attention", "rejected", "basic_four_changed"] {
        assert_eq!(m["counts"][k], m1["counts"][k], "{k}");
    }
    assert_eq!(m["counts"]["new_since_previous_run"], 0);
}

#[test]
fn server_error_then_success_on_retry() {
    let fx = fixture(1, "");
    let body = fx.crl("sign-2023.crl");
    fx.server.script("/sign-2023.crl", vec![Reply::status(500), Reply::status(503), Reply::ok(&body, "v1")]);
    let (o, m) = fx.run();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let f = fetch0(&m);
    assert_eq!(f["outcome"], "updated");
    assert_eq!(f["attempts"], 3);
    assert_eq!(fx.server.seen().len(), 3);
}

#[test]
fn too_many_requests_honours_retry_after() {
    let fx = fixture(1, "");
    let body = fx.crl("sign-2023.crl");
    fx.server.script(
        "/sign-2023.crl",
        vec![Reply::Status { code: 429, retry_after: Some("1".into()) }, Reply::ok(&body, "v1")],
    );
    // Retry-After is honoured up to backoff_max: raise it for this test.
    let job = std::fs::read_to_string(fx.root.join("job.toml"))
        .unwrap()
        .replace("backoff_max_ms = 100", "backoff_max_ms = 2000");
    std::fs::write(fx.root.join("job.toml"), job).unwrap();
    let (o, m) = fx.run();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let f = fetch0(&m);
    assert_eq!(f["outcome"], "updated");
    assert_eq!(f["attempts"], 2);
    assert!(f["seconds"].as_f64().unwrap() >= 1.0, "{f}");
}

#[test]
fn not_found_fails_without_retry_and_keeps_the_last_good_crl() {
    let fx = fixture(1, "");
    let (_, stored, good) = first_run(&fx);
    fx.server.script("/sign-2023.crl", vec![Reply::status(404)]);
    fx.server.clear_seen();
    let (o, m) = fx.run();
    assert_eq!(code(&o), 75, "{}", stderr(&o));
    let f = fetch0(&m);
    assert_eq!(f["outcome"], "failed");
    assert_eq!(f["transient"], false);
    assert_eq!(f["http_status"], 404);
    assert_eq!(f["attempts"], 1);
    assert_eq!(f["error"], "HTTP 404 Not Found");
    assert_eq!(fx.server.seen().len(), 1);
    assert_last_good_kept(&fx, &m, &stored, good);
    assert_eq!(m["status"], "stale_crl");
}

/// A body broken off by the network (`fault` of the whole CRL): retried as
/// transient up to the attempts allowed, then failed; the last good kept.
fn broken_body_fails_keeping_the_last_good_crl(fault: impl Fn(Vec<u8>) -> Reply) {
    let fx = fixture(1, "");
    let (_, stored, good) = first_run(&fx);
    fx.server.script("/sign-2023.crl", vec![fault(fx.crl("sign-2023.crl"))]);
    let (o, m) = fx.run();
    assert_eq!(code(&o), 75, "{}", stderr(&o));
    let f = fetch0(&m);
    assert_eq!(f["outcome"], "failed");
    assert_eq!(f["transient"], true);
    assert_eq!(f["attempts"], 3);
    assert!(f["error"].as_str().unwrap().starts_with("body not received in full"), "{f}");
    assert_last_good_kept(&fx, &m, &stored, good);
}

#[test]
fn connection_reset_mid_body_is_retried_then_fails_keeping_the_last_good_crl() {
    broken_body_fails_keeping_the_last_good_crl(|body| Reply::Reset { after: body.len() / 2, body });
}

#[test]
fn truncated_body_fails_keeping_the_last_good_crl() {
    broken_body_fails_keeping_the_last_good_crl(|body| Reply::Truncated { after: body.len() - 100, body });
}

#[test]
fn body_over_the_size_limit_is_refused_declared_or_not() {
    let fx = fixture(1, "[limits]\nmax_crl_bytes = 1000000\n");
    let (_, stored, good) = first_run(&fx);
    let big = vec![0x30u8; 2_000_000];
    fx.server.script("/sign-2023.crl", vec![Reply::ok(&big, "big")]);
    let (o, m) = fx.run();
    assert_eq!(code(&o), 65, "{}", stderr(&o));
    let f = fetch0(&m);
    assert_eq!(f["outcome"], "rejected");
    assert_eq!(f["error"], "response declares 2000000 bytes, over the limit of 1000000 (limits.max_crl_bytes)");
    assert_last_good_kept(&fx, &m, &stored, good);
    fx.server.script("/sign-2023.crl", vec![Reply::Unsized { body: big }]);
    let (o, m) = fx.run();
    assert_eq!(code(&o), 65, "{}", stderr(&o));
    let f = fetch0(&m);
    assert_eq!(f["outcome"], "rejected");
    assert_eq!(f["error"], "body exceeds the limit of 1000000 bytes (limits.max_crl_bytes)");
    assert!(f["bytes"].as_u64().unwrap() > 1_000_000);
    assert_last_good_kept(&fx, &m, &stored, good);
}

#[test]
fn slow_body_past_the_deadline_fails_in_time() {
    let fx = fixture(1, "");
    let (_, stored, good) = first_run(&fx);
    let body = fx.crl("sign-2023.crl");
    fx.server.script("/sign-2023.crl", vec![Reply::Slow { body, chunk: 2000, pause: Duration::from_millis(400) }]);
    let t = Instant::now();
    let (o, m) = fx.run();
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    assert_eq!(code(&o), 75, "{}", stderr(&o));
    let f = fetch0(&m);
    assert_eq!(f["outcome"], "failed");
    assert_eq!(f["error"], "no complete response within the deadline of 3 s");
    assert!(f["seconds"].as_f64().unwrap() < 4.0, "{f}");
    assert_last_good_kept(&fx, &m, &stored, good);
}

/// A body that is refused: the outcome, the reason, the last good kept.
fn refused(fx: &Fx, body: Vec<u8>, want: &str) {
    let (_, stored, good) = first_run(fx);
    fx.server.script("/sign-2023.crl", vec![Reply::ok(&body, "v2")]);
    let (o, m) = fx.run();
    assert_eq!(code(&o), 65, "{}", stderr(&o));
    let f = fetch0(&m);
    assert_eq!(f["outcome"], "rejected");
    assert_eq!(f["transient"], false);
    let err = f["error"].as_str().unwrap();
    assert!(err.contains(want), "{err}");
    assert_last_good_kept(fx, &m, &stored, good);
    assert!(issuer(&m, "sign-2023")["detail"].as_str().unwrap().ends_with("last good CRL kept"));
}

#[test]
fn html_page_with_status_200_is_refused() {
    let fx = fixture(1, "");
    refused(&fx, b"<!DOCTYPE html><html><body>Maintenance</body></html>\n".to_vec(), "/sign-2023.crl: ");
}

#[test]
fn crl_with_a_bad_signature_is_refused() {
    let fx = fixture(1, "");
    let mut body = fx.crl("sign-2023.crl");
    let last = body.len() - 1;
    body[last] ^= 1;
    refused(&fx, body, "signature");
}

#[test]
fn crl_of_another_ca_is_refused() {
    let fx = fixture(1, "");
    let body = fx.crl("sign-2019.crl");
    refused(&fx, body, "authorityKeyIdentifier");
}

#[test]
fn delta_crl_is_refused() {
    let fx = fixture(1, "");
    let cas = crlbatch_gen::generate_cas(3).unwrap();
    let ca = cas.iter().find(|c| c.spec == crlbatch_gen::CaSpec::new(crlbatch_gen::Hierarchy::Sign, 2023)).unwrap();
    let mut params =
        crlbatch_gen::CrlParams::daily(crlbatch_crl::Timestamp::parse_rfc3339("2026-11-25T16:00:00Z").unwrap(), 2);
    params.delta_base = Some(1);
    let mut body = Vec::new();
    crlbatch_gen::write_crl(&mut body, ca, &params, &[], 3).unwrap();
    refused(&fx, body, "delta");
}

#[test]
fn older_crl_is_refused_as_a_rollback() {
    let fx = fixture(1, "");
    let older = fx.sign_crl("older", &["--this-update", "2026-11-25T14:00:00Z", "--crl-number", "1"]);
    let newer = fx.sign_crl("newer", &["--crl-number", "2"]);
    fx.server.script("/sign-2023.crl", vec![Reply::ok(&newer, "n")]);
    let (o, m) = fx.run();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(fetch0(&m)["crl_number"], "2");
    let stored = fx.stored();
    // A replayed older CRL (lower number, older thisUpdate) must not replace it.
    fx.server.script("/sign-2023.crl", vec![Reply::ok(&older, "o")]);
    let (o, m) = fx.run();
    assert_eq!(code(&o), 65, "{}", stderr(&o));
    let f = fetch0(&m);
    assert_eq!(f["outcome"], "rejected");
    assert_eq!(f["error"], "rollback refused: cRLNumber 1 is lower than 2, the last accepted");
    assert_eq!(f["crl_number"], "2");
    assert_eq!(f["serving"], "stored");
    assert_eq!(fx.stored(), stored);
}

#[test]
fn stale_crl_is_refused_and_without_a_last_good_one_everything_is_unknown() {
    let fx = fixture(1, "");
    let old = fx.sign_crl("old", &["--this-update", "2026-11-24T15:00:00Z"]);
    fx.server.script("/sign-2023.crl", vec![Reply::ok(&old, "s")]);
    let (o, m) = fx.run();
    assert_eq!(code(&o), 65, "{}", stderr(&o));
    let f = fetch0(&m);
    assert_eq!(f["outcome"], "rejected");
    assert!(f["error"].as_str().unwrap().ends_with("stale CRL (nextUpdate 2026-11-25T15:00:00Z)"), "{f}");
    assert_eq!(f["serving"], "none");
    let i = issuer(&m, "sign-2023");
    assert_eq!(i["index"], "unusable");
    assert_eq!(i["usable"], false);
    assert!(i["detail"].as_str().unwrap().starts_with("no CRL for 1 of 1 source(s): http://"), "{i}");
    assert_eq!(good_sign_2023(&fx.root, &m), 0);
    assert!(m["counts"]["attention"].as_u64().unwrap() > 100);
}

/// A CRL issued after the evaluation time (clock skew, or an evaluation
/// time fixed earlier): not refused data but a failed fetch worth a retry
/// (75); nothing is `good` without a CRL.
#[test]
fn a_crl_not_yet_valid_is_a_failed_fetch_to_retry() {
    let fx = fixture(1, "");
    let future = fx.sign_crl("future", &["--this-update", "2026-11-26T12:00:00Z"]);
    fx.server.script("/sign-2023.crl", vec![Reply::ok(&future, "s")]);
    let (o, m) = fx.run();
    assert_eq!(code(&o), 75, "{}", stderr(&o));
    let f = fetch0(&m);
    assert_eq!(f["outcome"], "failed", "{f}");
    assert_eq!(f["transient"], true, "{f}");
    assert!(f["error"].as_str().unwrap().ends_with("not yet valid (thisUpdate 2026-11-26T12:00:00Z)"), "{f}");
    assert_eq!(f["serving"], "none");
    assert_eq!(issuer(&m, "sign-2023")["usable"], false);
    assert_eq!(good_sign_2023(&fx.root, &m), 0);
}

#[test]
fn same_crl_again_is_not_updated_yet_and_stale_last_good_means_unknown() {
    let fx = fixture(1, "");
    let (_, stored, good) = first_run(&fx);
    // The server ignores validators and sends the same CRL with a new ETag.
    let body = fx.crl("sign-2023.crl");
    fx.server.script("/sign-2023.crl", vec![Reply::ok(&body, "v1-again")]);
    let (o, m) = fx.run();
    // 12 hours old: no newer CRL is due yet, so not a reason to retry.
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let f = fetch0(&m);
    assert_eq!(f["outcome"], "not_updated_yet");
    assert_eq!(f["error"], Value::Null);
    assert_eq!(f["etag"], "\"v1-again\"");
    assert_eq!(issuer(&m, "sign-2023")["index"], "reused");
    assert_eq!(fx.stored().0, stored.0);
    assert_eq!(good_sign_2023(&fx.root, &m), good);
    // A day later the source is down: the stored CRL is stale, nothing is good.
    fx.server.script("/sign-2023.crl", vec![Reply::status(503)]);
    let (o, m) = fx.run_at("2026-11-27T03:00:00Z");
    assert_eq!(code(&o), 75, "{}", stderr(&o));
    let i = issuer(&m, "sign-2023");
    assert_eq!(fetch0(&m)["serving"], "stored");
    assert_eq!(i["usable"], false);
    assert!(i["detail"].as_str().unwrap().contains("stale CRL"), "{i}");
    assert_eq!(good_sign_2023(&fx.root, &m), 0);
}

#[test]
fn one_partition_of_many_failing() {
    let fx = fixture(3, "");
    let (o, m) = fx.run();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let i = issuer(&m, "sign-2023");
    assert_eq!(i["fetch"].as_array().unwrap().len(), 3);
    assert_eq!(i["crls"].as_array().unwrap().len(), 3);
    assert_eq!(i["usable"], true);
    let entries = i["entries"].as_u64().unwrap();
    assert!(entries > 2900, "{entries}");
    let good = good_sign_2023(&fx.root, &m);
    assert!(good > 100);
    // Partition 1 fails: its last good CRL still serves, the CA stays usable.
    fx.server.script("/sign-2023/p0002.crl", vec![Reply::status(500)]);
    let (o, m) = fx.run();
    assert_eq!(code(&o), 75, "{}", stderr(&o));
    let i = issuer(&m, "sign-2023");
    let outcomes: Vec<&str> = i["fetch"].as_array().unwrap().iter().map(|f| f["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["not_modified", "failed", "not_modified"]);
    assert_eq!(i["fetch"][1]["attempts"], 3);
    assert_eq!(i["index"], "last_good");
    assert_eq!(i["usable"], true);
    assert_eq!(i["entries"].as_u64().unwrap(), entries);
    assert_eq!(good_sign_2023(&fx.root, &m), good);
    // Without a last good CRL for that partition, the CA is unusable as a
    // whole (the other partitions are indexed, for records that name their
    // distribution point: tests/ldap.rs).
    std::fs::remove_dir_all(fx.root.join("out")).unwrap();
    let (o, m) = fx.run();
    assert_eq!(code(&o), 75, "{}", stderr(&o));
    let i = issuer(&m, "sign-2023");
    assert_eq!(i["index"], "built");
    assert_eq!(i["usable"], false);
    let detail = i["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(&format!("no CRL for 1 of 3 source(s): {}", fx.server.url("/sign-2023/p0002.crl"))),
        "{detail}"
    );
    assert_eq!(good_sign_2023(&fx.root, &m), 0);
}

/// jobs/nightly-type2-http.toml as documented: the sample's CRLs served by
/// Python's http.server (a third-party server; Last-Modified and
/// If-Modified-Since instead of ETags).
#[test]
fn bundled_http_job_runs_against_python_http_server() {
    let repo = common::repo();
    let d = tempfile::tempdir().unwrap();
    let (mut server, port) = common::python_http_server(&repo.join("data/sample/crl"));
    let text = std::fs::read_to_string(repo.join("jobs/nightly-type2-http.toml"))
        .unwrap()
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"))
        .replace("\"../data/", &format!("\"{}/data/", repo.display()))
        .replace("\"../out/nightly-type2-http\"", "\"out\"")
        .replace("\"../out/nightly-type2-http.prom\"", "\"metrics.prom\"");
    let job = d.path().join("job.toml");
    std::fs::write(&job, text).unwrap();
    let manifest =
        || -> Value { serde_json::from_slice(&std::fs::read(d.path().join("out/_manifest.json")).unwrap()).unwrap() };
    let o = crlbatch(&["run", job.to_str().unwrap(), "--at", AT]);
    let m1 = manifest();
    let o2 = crlbatch(&["run", job.to_str().unwrap(), "--at", AT]);
    let m2 = manifest();
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(code(&o2), 0, "{}", stderr(&o2));
    for i in m1["issuers"].as_array().unwrap() {
        assert_eq!(i["fetch"][0]["outcome"], "updated", "{i}");
        assert!(i["fetch"][0]["last_modified"].is_string(), "{i}");
        assert_eq!(i["usable"], true);
    }
    for i in m2["issuers"].as_array().unwrap() {
        assert_eq!(i["fetch"][0]["outcome"], "not_modified", "{i}");
        assert_eq!(i["index"], "reused");
    }
    let prom = std::fs::read_to_string(d.path().join("metrics.prom")).unwrap();
    assert!(
        prom.contains(
            "crlbatch_fetch_sources{job=\"nightly-type2-http\",issuer=\"sign-2023\",outcome=\"not_modified\"} 1"
        ),
        "{prom}"
    );
    // The same verdicts as the local job on the same sample.
    assert_eq!(m1["counts"]["attention"], m2["counts"]["attention"]);
    assert_eq!(m1["counts"]["records"], 10_000);
}

#[test]
fn fetch_settings_and_sources_are_validated_with_one_line_errors() {
    let fx = fixture(1, "");
    let job = fx.root.join("job.toml");
    let text = std::fs::read_to_string(&job).unwrap();
    let cases = [
        (text.replace("attempts = 3", "attempts = 0"), "[fetch] attempts = 0: use 1 to 20"),
        (
            text.replace("deadline_secs = 3", "deadline_secs = -1"),
            "[fetch] deadline_secs = -1: use a number of seconds above 0 and at most 86400",
        ),
        (text.replace("attempts = 3", "attempts = 3\nretries = 2"), "unknown field `retries`"),
        (
            text.replace(
                "crl = [\"crl/sign-2019.crl\"]",
                &format!("crl = [\"crl/sign-2019.crl\", \"{}\"]", fx.server.url("/x.crl")),
            ),
            "[[ca]] #2: crl mixes local and http(s) sources",
        ),
        (
            text.replace("crl = [\"crl/sign-2019.crl\"]", "crl = [\"ftp://example/x.crl\"]"),
            "unsupported CRL source \"ftp://example/x.crl\"",
        ),
        (
            text.replace(
                "crl = [\"crl/sign-2019.crl\"]",
                &format!("crl = [\"{}\"]", fx.server.url("/sign-2023.crl").replace("http://", "HTTP://")),
            ),
            "is listed twice (also in [[ca]] #1)",
        ),
        (
            text.replace("backoff_max_ms = 100", "backoff_max_ms = 99999999"),
            "[fetch] backoff_max_ms = 99999999: use at most 3600000",
        ),
        (
            text.replace("crl = [\"crl/sign-2019.crl\"]", "crl = [\"https://user:pw@example/x.crl\"]"),
            "credentials in URLs are not accepted",
        ),
    ];
    for (bad, want) in cases {
        std::fs::write(&job, &bad).unwrap();
        let o = crlbatch(&["run", job.to_str().unwrap(), "--at", AT]);
        assert_eq!(code(&o), 78, "{want}: {}", stderr(&o));
        let e = stderr(&o);
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(e.contains(want), "{want}: {e}");
    }
}

/// An https source under a private PKI: trusted through `[fetch]
/// tls_ca_file`, refused (certificate error, last good kept) without it.
#[test]
fn https_source_with_a_private_root() {
    use std::io::BufRead;
    let fx = fixture(1, "");
    let tls = fx.root.join("tls");
    std::fs::create_dir_all(&tls).unwrap();
    let openssl = |args: &[&str]| {
        let o = Command::new("openssl").args(args).current_dir(&tls).output().unwrap();
        assert!(o.status.success(), "openssl {args:?}: {}", stderr(&o));
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "30",
        "-subj",
        "/CN=crlbatch test root",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        tls.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "30",
        "-extfile",
        "ext.cnf",
    ]);
    let script = "import functools,http.server,ssl,sys\n\
ctx=ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1], sys.argv[2])\n\
h=functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[3])\n\
s=http.server.ThreadingHTTPServer(('127.0.0.1', 0), h); s.socket=ctx.wrap_socket(s.socket, server_side=True)\n\
print(s.server_address[1], flush=True); s.serve_forever()\n";
    let mut server = Command::new("python3")
        .args(["-c", script])
        .arg(tls.join("leaf.pem"))
        .arg(tls.join("leaf.key"))
        .arg(fx.root.join("crl"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut port = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap()).read_line(&mut port).unwrap();
    let url = format!("https://127.0.0.1:{}/sign-2023.crl", port.trim());
    let job = fx.root.join("job.toml");
    let text = std::fs::read_to_string(&job).unwrap().replace(&fx.server.url("/sign-2023.crl"), &url);
    std::fs::write(&job, text.replace("[fetch]\n", "[fetch]\ntls_ca_file = \"tls/ca.pem\"\n")).unwrap();
    let (o1, m1) = fx.run();
    // Without the private root, the server's certificate is not trusted.
    std::fs::write(&job, &text).unwrap();
    let (o2, m2) = fx.run();
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(code(&o1), 0, "{}", stderr(&o1));
    let f = fetch0(&m1);
    assert_eq!(f["outcome"], "updated", "{f}");
    assert_eq!(f["source"], url.as_str());
    assert_eq!(code(&o2), 75, "{}", stderr(&o2));
    let f = fetch0(&m2);
    assert_eq!(f["outcome"], "failed");
    assert!(f["error"].as_str().unwrap().contains("UnknownIssuer"), "{f}");
    assert_eq!(f["serving"], "stored");
    assert_eq!(issuer(&m2, "sign-2023")["usable"], true);
    // A bad bundle is a configuration error.
    std::fs::write(&job, text.replace("[fetch]\n", "[fetch]\ntls_ca_file = \"job.toml\"\n")).unwrap();
    let o = crlbatch(&["run", job.to_str().unwrap(), "--at", AT]);
    assert_eq!(code(&o), 78, "{}", stderr(&o));
    assert!(stderr(&o).contains("[fetch] tls_ca_file "), "{}", stderr(&o));
}

/// A partition served at another partition's URL (a misconfigured mirror,
/// or an attacker on plain HTTP): both CRLs verify, but the set is not a set
/// of partitions, and the CA is not usable — never `good` for the partition
/// that went missing.
#[test]
fn the_same_partition_at_two_urls_makes_the_ca_unusable() {
    let fx = fixture(3, "");
    let p1 = fx.crl("sign-2023/p0001.crl");
    fx.server.script("/sign-2023/p0002.crl", vec![Reply::ok(&p1, "p1-again")]);
    let (o, m) = fx.run();
    assert_eq!(code(&o), 65, "{}", stderr(&o));
    let i = issuer(&m, "sign-2023");
    let outcomes: Vec<&str> = i["fetch"].as_array().unwrap().iter().map(|f| f["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["updated", "updated", "updated"]);
    assert_eq!(i["index"], "unusable");
    assert_eq!(i["usable"], false);
    assert_eq!(
        i["detail"],
        format!(
            "{}: the CRL it serves has the same distribution point as another source; CA not usable",
            fx.server.url("/sign-2023/p0002.crl")
        )
    );
    assert_eq!(good_sign_2023(&fx.root, &m), 0);
}
