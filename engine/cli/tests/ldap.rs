//! `crlbatch run` with partition CRLs read from a real OpenLDAP `slapd` on
//! loopback (tests/common/ldap.rs), loaded with `crlbatch gen --partitions`
//! CRLs: every partition fresh (discovered), a missing entry, a missing
//! attribute, an entry holding another CA's CRL, one stale partition among
//! many, a server that is down, a server that never answers; each asserting
//! the fetch outcomes in the manifest, the exit code and the verdicts, per
//! partition when the records name their distribution point.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::ldap::{dn_of, Entry, Slapd};
use common::{crlbatch, stderr};
use serde_json::Value;

const AT: &str = "2026-11-26T03:00:00Z";
const PARTS: usize = 4;

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Generated CRLs: `fresh` (valid at AT) and `old` (the same CAs and
/// partitions two days earlier: stale at AT).
struct Fx {
    _d: tempfile::TempDir,
    root: PathBuf,
    /// Per partition of sign-2023: its LDAP DN.
    dns: Vec<String>,
}

fn gen(out: &Path, this_update: &str) {
    let o = crlbatch(&[
        "gen",
        "--out",
        out.to_str().unwrap(),
        "--seed",
        "5",
        "--entries",
        "2000",
        "--partitions",
        &PARTS.to_string(),
        "--this-update",
        this_update,
        "--only",
        "sign-2023",
        "--only",
        "sign-2019",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

fn fixture() -> Fx {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().to_owned();
    gen(&root.join("fresh"), "2026-11-25T15:00:00Z");
    gen(&root.join("old"), "2026-11-23T15:00:00Z");
    let g: Value = serde_json::from_slice(&std::fs::read(root.join("fresh/gen.json")).unwrap()).unwrap();
    let ca = g["cas"].as_array().unwrap().iter().find(|c| c["name"] == "sign-2023").unwrap();
    let dns = ca["crls"].as_array().unwrap().iter().map(|c| dn_of(c["distribution_point"].as_str().unwrap())).collect();
    Fx { _d: d, root, dns }
}

impl Fx {
    fn crl(&self, set: &str, ca: &str, p: usize) -> Vec<u8> {
        std::fs::read(self.root.join(format!("{set}/crl/{ca}/p{:04}.crl", p + 1))).unwrap()
    }

    /// Entries for every partition of sign-2023, fresh, changed by `f`.
    fn entries(&self, f: impl Fn(usize) -> Option<Option<Vec<u8>>>) -> Vec<Entry> {
        (0..PARTS)
            .filter_map(|p| {
                let crl = match f(p) {
                    Some(x) => x?,
                    None => self.crl("fresh", "sign-2023", p),
                };
                Some(Entry { dn: self.dns[p].clone(), crl: Some(crl) })
            })
            .collect()
    }

    /// A job reading sign-2023 from `ldap` (a `[ca.ldap]` body), with
    /// records naming distribution points.
    fn job(&self, ldap: &str, fetch: &str) -> PathBuf {
        let job = self.root.join("job.toml");
        std::fs::write(
            &job,
            format!(
                r#"
name = "ldap-test"
[[ca]]
name = "sign-2023"
cert = "fresh/ca/sign-2023.der"
[ca.ldap]
{ldap}
[input]
records = "records.parquet"
[output]
dir = "out"
emit = "all"
[fetch]
{fetch}
"#
            ),
        )
        .unwrap();
        self.records();
        job
    }

    /// Records of sign-2023 certificates (auth role columns, one per case):
    /// `rev1` revoked in partition 1; `p1`..`p4` not revoked, in partitions
    /// 1..4; `nodp` without a distribution point; `elsewhere` in a point no
    /// partition covers.
    fn records(&self) {
        let kid = {
            let g: Value = serde_json::from_slice(&std::fs::read(self.root.join("fresh/gen.json")).unwrap()).unwrap();
            g["cas"].as_array().unwrap().iter().find(|c| c["name"] == "sign-2023").unwrap()["kid"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let rev1 = first_serial(&self.root.join("fresh/crl/sign-2023/p0001.crl"));
        let mut rows = vec![("rev1".to_owned(), rev1, Some(self.dns[0].clone()))];
        for p in 0..PARTS {
            rows.push((format!("p{}", p + 1), format!("{}", p + 1), Some(self.dns[p].clone())));
        }
        rows.push(("nodp".into(), "9".into(), None));
        rows.push((
            "elsewhere".into(),
            "a".into(),
            Some("CN=Nowhere CRLDP,OU=CRL Distribution Points,O=JPKI,C=JP".into()),
        ));
        let rows: Vec<Value> = rows
            .into_iter()
            .map(|(id, serial, dp)| serde_json::json!({"ppid": id, "auth_issuer_kid": kid, "auth_serial": serial, "auth_crl_dp": dp}))
            .collect();
        let script = r#"
import json, sys, pyarrow as pa, pyarrow.parquet as pq
rows = json.loads(sys.argv[2])
pq.write_table(pa.table({
    "ppid": [r["ppid"] for r in rows],
    "auth_issuer_kid": [r["auth_issuer_kid"] for r in rows],
    "auth_serial": [r["auth_serial"] for r in rows],
    "auth_crl_dp": pa.array([r["auth_crl_dp"] for r in rows], pa.string()),
}), sys.argv[1])
"#;
        let o = Command::new("python3")
            .args(["-c", script, self.root.join("records.parquet").to_str().unwrap(), &Value::from(rows).to_string()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }

    fn run(&self, job: &Path) -> (Output, Value) {
        let o = crlbatch(&["run", job.to_str().unwrap(), "--at", AT]);
        let m = serde_json::from_slice(&std::fs::read(self.root.join("out/_manifest.json")).unwrap())
            .unwrap_or(Value::Null);
        (o, m)
    }

    /// ppid → (auth_status, detail) from the results.
    fn verdicts(&self) -> std::collections::BTreeMap<String, (String, String)> {
        let script = r#"
import glob, json, sys, pyarrow.parquet as pq
out = {}
# The latest run date last (earlier runs' partitions stay).
for f in sorted(glob.glob(sys.argv[1] + "/results/*/*.parquet")):
    for r in pq.read_table(f).to_pylist():
        out[r["ppid"]] = [r["auth_status"], r["detail"] or ""]
print(json.dumps(out))
"#;
        let o = Command::new("python3").args(["-c", script, self.root.join("out").to_str().unwrap()]).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: std::collections::BTreeMap<String, (String, String)> = serde_json::from_slice(&o.stdout).unwrap();
        v
    }
}

/// The first serial listed by a CRL (lowercase hex), read by OpenSSL.
fn first_serial(crl: &Path) -> String {
    let o =
        Command::new("openssl").args(["crl", "-inform", "DER", "-noout", "-text", "-in"]).arg(crl).output().unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    let line = text.lines().find(|l| l.trim_start().starts_with("Serial Number:")).unwrap();
    let hex = line.split(':').nth(1).unwrap().trim().to_lowercase();
    hex.trim_start_matches('0').to_owned()
}

fn status<'a>(v: &'a std::collections::BTreeMap<String, (String, String)>, id: &str) -> &'a str {
    v[id].0.as_str()
}

const QUICK: &str =
    "attempts = 2\nbackoff_base_ms = 10\nbackoff_max_ms = 20\nread_timeout_secs = 5\ndeadline_secs = 20";

#[test]
fn discovered_partitions_all_fresh_then_unchanged_then_server_down_keeps_last_good() {
    let fx = fixture();
    let mut ldap = Slapd::start(&fx.entries(|_| None));
    let base = "ou=CRL Distribution Points,ou=JPKI for digital signature,o=JPKI,c=JP";
    let job = fx.job(&format!("server = \"{}\"\nbase = \"{base}\"\ndiscover = true", ldap.server()), QUICK);
    let (o, m) = fx.run(&job);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let i = &m["issuers"][0];
    assert_eq!(i["usable"], true, "{i}");
    let fetch = i["fetch"].as_array().unwrap();
    assert_eq!(fetch.len(), PARTS);
    for f in fetch {
        assert_eq!(f["outcome"], "updated", "{f}");
        assert_eq!(f["http_status"], Value::Null);
        assert!(f["source"].as_str().unwrap().starts_with(&format!("{}/cn=City", ldap.server())), "{f}");
        assert!(f["source"].as_str().unwrap().ends_with("?certificateRevocationList;binary"), "{f}");
    }
    let e = stderr(&o);
    assert_eq!(e.matches("\"message\":\"fetch\"").count() + e.matches(" fetch source=").count(), PARTS, "{e}");
    let v = fx.verdicts();
    assert_eq!(status(&v, "rev1"), "revoked");
    for id in ["p1", "p2", "p3", "p4", "nodp"] {
        assert_eq!(status(&v, id), "good", "{id}");
    }
    // A point no partition names: no proof.
    assert_eq!(
        v["elsewhere"],
        ("unknown".into(), "auth: no CRL partition of its issuer covers its distribution point".into())
    );

    // Again: the same values, not parsed again.
    let (o, m) = fx.run(&job);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for f in m["issuers"][0]["fetch"].as_array().unwrap() {
        assert_eq!(f["outcome"], "not_updated_yet", "{f}");
    }

    // The server goes away: the discovery and every source fail; the last
    // good CRLs (fresh at AT) are kept; temporary failure.
    ldap.stop();
    let (o, m) = fx.run(&job);
    assert_eq!(code(&o), 75, "{}", stderr(&o));
    let i = &m["issuers"][0];
    let fetch = i["fetch"].as_array().unwrap();
    assert_eq!(fetch.len(), PARTS + 1, "{i}");
    for f in &fetch[..PARTS] {
        assert_eq!(f["outcome"], "failed", "{f}");
        assert_eq!(f["transient"], true);
        assert_eq!(f["attempts"], 2);
        assert_eq!(f["serving"], "stored");
        assert!(f["error"].as_str().unwrap().starts_with("cannot connect to ldap://127.0.0.1:"), "{f}");
    }
    let disc = &fetch[PARTS];
    assert!(disc["source"].as_str().unwrap().ends_with("??sub?(cn=*CRLDP)"), "{disc}");
    assert!(disc["error"].as_str().unwrap().ends_with("the 4 entries found last time are read"), "{disc}");
    assert_eq!(i["index"], "last_good");
    assert_eq!(i["usable"], true);
    let v = fx.verdicts();
    assert_eq!(status(&v, "rev1"), "revoked");
    assert_eq!(status(&v, "nodp"), "good");
}

#[test]
fn missing_entry_missing_attribute_and_another_cas_crl_leave_only_their_partitions_unknown() {
    let fx = fixture();
    // p2: no entry; p3: the entry without the attribute; p4: sign-2019's CRL
    // of the same distribution point.
    let mut entries = fx.entries(|p| match p {
        1 => Some(None),
        3 => Some(Some(fx.crl("fresh", "sign-2019", 3))),
        _ => None,
    });
    for e in &mut entries {
        if e.dn == fx.dns[2] {
            e.crl = None;
        }
    }
    let ldap = Slapd::start(&entries);
    let base = "ou=CRL Distribution Points,ou=JPKI for digital signature,o=JPKI,c=JP";
    let list: Vec<String> = fx.dns.iter().map(|d| format!("\"{}\"", d.split(",ou=CRL").next().unwrap())).collect();
    let job =
        fx.job(&format!("server = \"{}\"\nbase = \"{base}\"\nentries = [{}]", ldap.server(), list.join(", ")), QUICK);
    let (o, m) = fx.run(&job);
    // A refused CRL and failed sources: the failures make it "retry later".
    assert_eq!(code(&o), 75, "{}", stderr(&o));
    let i = &m["issuers"][0];
    let f = i["fetch"].as_array().unwrap();
    assert_eq!(f[0]["outcome"], "updated");
    assert_eq!(f[1]["outcome"], "failed");
    assert_eq!(f[1]["transient"], false);
    assert_eq!(f[1]["attempts"], 1);
    assert_eq!(f[1]["error"], format!("no such entry {:?} in the directory (LDAP result 32 noSuchObject)", fx.dns[1]));
    assert_eq!(f[2]["outcome"], "failed");
    assert_eq!(f[2]["error"], format!("entry {:?} has no attribute certificateRevocationList;binary", fx.dns[2]));
    assert_eq!(f[3]["outcome"], "rejected");
    assert_eq!(f[3]["serving"], "none");
    assert!(f[3]["error"].as_str().unwrap().contains("authorityKeyIdentifier"), "{}", f[3]);
    assert_eq!(i["usable"], false);
    assert!(i["detail"].as_str().unwrap().starts_with("no CRL for 3 of 4 source(s): "), "{i}");
    let v = fx.verdicts();
    // Partition 1 is fresh and verified: its certificates are judged.
    assert_eq!(status(&v, "rev1"), "revoked");
    assert_eq!(status(&v, "p1"), "good");
    // The others name their partition.
    for p in 1..PARTS {
        assert_eq!(status(&v, &format!("p{}", p + 1)), "unknown");
        let detail = &v[&format!("p{}", p + 1)].1;
        assert!(detail.starts_with(&format!("auth: partition {}: no CRL from ldap://", fx.dns[p])), "{detail}");
    }
    // Without a distribution point, every partition must be fresh.
    assert_eq!(status(&v, "nodp"), "unknown");
    assert!(v["nodp"].1.starts_with("auth: no CRL for 3 partition(s): ldap://127.0.0.1:"), "{:?}", v["nodp"]);
}

#[test]
fn one_stale_partition_among_many() {
    let fx = fixture();
    let ldap = Slapd::start(&fx.entries(|p| (p == 2).then(|| Some(fx.crl("old", "sign-2023", 2)))));
    let base = "ou=CRL Distribution Points,ou=JPKI for digital signature,o=JPKI,c=JP";
    let job = fx.job(&format!("server = \"{}\"\nbase = \"{base}\"\ndiscover = true", ldap.server()), QUICK);
    let (o, m) = fx.run(&job);
    let i = &m["issuers"][0];
    let f = i["fetch"].as_array().unwrap();
    // The stale CRL is refused at the fetch (freshness), like over HTTP.
    assert_eq!(f[2]["outcome"], "rejected", "{}", f[2]);
    assert!(f[2]["error"].as_str().unwrap().contains("stale"), "{}", f[2]);
    assert_eq!(code(&o), 65, "{}", stderr(&o));
    let v = fx.verdicts();
    assert_eq!(status(&v, "p1"), "good");
    assert_eq!(status(&v, "p2"), "good");
    assert_eq!(status(&v, "p4"), "good");
    assert_eq!(status(&v, "rev1"), "revoked");
    assert_eq!(status(&v, "p3"), "unknown");
    // The DN as the directory wrote it (discovered).
    let want = format!("auth: partition {}: no crl from ldap://", fx.dns[2].to_lowercase());
    assert!(v["p3"].1.to_lowercase().starts_with(&want), "{:?}", v["p3"]);
    assert_eq!(status(&v, "nodp"), "unknown");
}

#[test]
fn a_stored_partition_going_stale_makes_only_its_certificates_unknown() {
    let fx = fixture();
    let mut ldap = Slapd::start(&fx.entries(|_| None));
    let base = "ou=CRL Distribution Points,ou=JPKI for digital signature,o=JPKI,c=JP";
    let job = fx.job(&format!("server = \"{}\"\nbase = \"{base}\"\ndiscover = true", ldap.server()), QUICK);
    let (o, _) = fx.run(&job);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // A day later partitions 1, 2 and 4 are re-published and 3 is not: the
    // directory still holds yesterday's CRL of partition 3, now stale.
    ldap.stop();
    let later = "2026-11-27T03:00:00Z";
    let next = fx.root.join("next");
    let o = crlbatch(&[
        "gen",
        "--out",
        next.to_str().unwrap(),
        "--seed",
        "5",
        "--entries",
        "2000",
        "--partitions",
        "4",
        "--this-update",
        "2026-11-26T15:00:00Z",
        "--crl-number",
        "2",
        "--only",
        "sign-2023",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let entries: Vec<Entry> = (0..PARTS)
        .map(|p| {
            let set = if p == 2 { "fresh" } else { "next" };
            Entry { dn: fx.dns[p].clone(), crl: Some(fx.crl(set, "sign-2023", p)) }
        })
        .collect();
    let _ldap2 = Slapd::start_on(ldap.port, &entries);
    let o = crlbatch(&["run", job.to_str().unwrap(), "--at", later]);
    assert_eq!(code(&o), 75, "{}", stderr(&o));
    let m: Value = serde_json::from_slice(&std::fs::read(fx.root.join("out/_manifest.json")).unwrap()).unwrap();
    let f = m["issuers"][0]["fetch"].as_array().unwrap();
    assert_eq!(f[2]["outcome"], "not_updated_yet", "{}", f[2]);
    for p in [0, 1, 3] {
        assert_eq!(f[p]["outcome"], "updated", "{}", f[p]);
    }
    let v = fx.verdicts();
    assert_eq!(status(&v, "p1"), "good");
    assert_eq!(status(&v, "p4"), "good");
    assert_eq!(status(&v, "p3"), "unknown");
    let d = &v["p3"].1;
    assert!(d.starts_with("auth: partition DirName:C=JP, O=JPKI, OU=JPKI for digital signature"), "{d}");
    assert!(d.contains("stale"), "{d}");
    assert_eq!(status(&v, "nodp"), "unknown");
    assert!(v["nodp"].1.contains("stale"), "{:?}", v["nodp"]);
}

#[test]
fn a_server_that_never_answers_times_out_and_is_retried() {
    let fx = fixture();
    // Accepts connections and never says a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let h = held.clone();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            h.lock().unwrap().push(s);
        }
    });
    let url = format!("ldap://127.0.0.1:{port}");
    let job = fx.job(
        &format!("server = \"{url}\"\nbase = \"{}\"", fx.dns[0]),
        "attempts = 2\nbackoff_base_ms = 10\nbackoff_max_ms = 20\nread_timeout_secs = 1\ndeadline_secs = 20",
    );
    let started = std::time::Instant::now();
    let (o, m) = fx.run(&job);
    let took = started.elapsed();
    assert_eq!(code(&o), 75, "{}", stderr(&o));
    let f = &m["issuers"][0]["fetch"][0];
    assert_eq!(f["outcome"], "failed");
    assert_eq!(f["transient"], true);
    assert_eq!(f["attempts"], 2);
    assert_eq!(f["serving"], "none");
    assert_eq!(f["error"], "search: timed out: no complete answer within read_timeout_secs");
    assert!(f["seconds"].as_f64().unwrap() >= 2.0, "{f}");
    assert!(took.as_secs() < 15, "{took:?}");
    assert_eq!(held.lock().unwrap().len(), 2);
    assert_eq!(m["issuers"][0]["usable"], false);
    let v = fx.verdicts();
    assert_eq!(status(&v, "p1"), "unknown");
    assert_eq!(status(&v, "nodp"), "unknown");
}

#[test]
fn ldap_settings_are_validated_with_one_line_errors() {
    let fx = fixture();
    let cases = [
        (
            "server = \"http://x\"\nbase = \"c=JP\"",
            "[[ca]] #1: [ca.ldap] server \"http://x\": use ldap://host[:port] or ldaps://host[:port]",
        ),
        (
            "server = \"ldap://x\"\nbase = \"c=JP\"\ndiscover = true\nentries = [\"cn=a\"]",
            "[[ca]] #1: [ca.ldap]: give entries or discover = true, not both",
        ),
        (
            "server = \"ldap://x\"\nbase = \"c=JP\"\nattribute = \"a,b\"",
            "[[ca]] #1: [ca.ldap]: bad CRL source URL \"ldap://x/c=JP?a,b\": one attribute only (the CRL's)",
        ),
        ("server = \"ldap://x\"\nbase = \"c=JP\"\nscope = \"sub\"", "unknown field `scope`"),
    ];
    for (ldap, want) in cases {
        let job = fx.job(ldap, "");
        let o = crlbatch(&["validate", job.to_str().unwrap()]);
        assert_eq!(code(&o), 78, "{ldap}");
        assert!(stderr(&o).contains(want), "{ldap}: {}", stderr(&o));
    }
    // A source URL in crl = [...] works too, and crl with [ca.ldap] is refused.
    let text = format!(
        "name = \"x\"\n[[ca]]\ncert = \"fresh/ca/sign-2023.der\"\ncrl = [\"ldap://127.0.0.1:1/{}?certificateRevocationList;binary\"]\n[input]\nrecords = \"r\"\n[output]\ndir = \"o\"\n",
        fx.dns[0].replace(' ', "%20")
    );
    let job = fx.root.join("url.toml");
    std::fs::write(&job, &text).unwrap();
    let o = crlbatch(&["validate", job.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    std::fs::write(&job, text.replace("[input]", "[ca.ldap]\nserver = \"ldap://x\"\nbase = \"c=JP\"\n[input]"))
        .unwrap();
    let o = crlbatch(&["validate", job.to_str().unwrap()]);
    assert!(stderr(&o).contains("[[ca]] #1: give crl or [ca.ldap], not both"), "{}", stderr(&o));
}

/// jobs/nightly-type2-ldap.toml as documented: the sample's signing CA
/// with partition CRLs (seed 42) in a directory, discovered and read.
#[test]
fn bundled_ldap_job_runs_against_slapd() {
    let repo = common::repo();
    let d = tempfile::tempdir().unwrap();
    let gen_dir = d.path().join("jpki-ldap");
    let o = crlbatch(&[
        "gen",
        "--out",
        gen_dir.to_str().unwrap(),
        "--seed",
        "42",
        "--partitions",
        "8",
        "--entries",
        "4000",
        "--only",
        "sign-2023",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let g: Value = serde_json::from_slice(&std::fs::read(gen_dir.join("gen.json")).unwrap()).unwrap();
    let ca = g["cas"].as_array().unwrap().iter().find(|c| c["name"] == "sign-2023").unwrap();
    let entries: Vec<Entry> = ca["crls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Entry {
            dn: dn_of(c["distribution_point"].as_str().unwrap()),
            crl: Some(std::fs::read(gen_dir.join(c["path"].as_str().unwrap())).unwrap()),
        })
        .collect();
    let ldap = Slapd::start(&entries);
    let text = std::fs::read_to_string(repo.join("jobs/nightly-type2-ldap.toml"))
        .unwrap()
        .replace("ldap://127.0.0.1:3389", &ldap.server())
        .replace("\"../data/", &format!("\"{}/data/", repo.display()))
        .replace("\"../out/nightly-type2-ldap\"", "\"out\"");
    let job = d.path().join("job.toml");
    std::fs::write(&job, text).unwrap();
    let o = crlbatch(&["run", job.to_str().unwrap(), "--at", AT]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let m: Value = serde_json::from_slice(&std::fs::read(d.path().join("out/_manifest.json")).unwrap()).unwrap();
    let i = m["issuers"].as_array().unwrap().iter().find(|i| i["name"] == "sign-2023").unwrap();
    assert_eq!(i["usable"], true, "{i}");
    assert_eq!(i["crls"].as_array().unwrap().len(), 8);
    let f = i["fetch"].as_array().unwrap();
    assert_eq!(f.len(), 8);
    assert!(f.iter().all(|x| x["outcome"] == "updated"), "{i}");
    assert_eq!(m["counts"]["records"], 10_000);
}

/// A server that answers the search with an LDAP message declaring 3 GB and
/// keeps sending: the connection is cut once the limit (plus the LDAP
/// overhead) has arrived, the source is refused (65), and the process never
/// holds more than a few MB of it.
#[test]
fn a_server_flooding_past_the_limit_is_cut_off() {
    use std::io::{Read, Write};
    let fx = fixture();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = sent.clone();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut req = [0u8; 4096];
                let _ = s.read(&mut req);
                // SEQUENCE of 3,000,000,000 bytes (4-octet length), then zeros.
                if s.write_all(&[0x30, 0x84, 0xb2, 0xd0, 0x5e, 0x00]).is_err() {
                    return;
                }
                let chunk = vec![0u8; 64 * 1024];
                while s.write_all(&chunk).is_ok() {
                    counter.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    let job = fx.job(
        &format!("server = \"ldap://127.0.0.1:{port}\"\nbase = \"{}\"", fx.dns[0]),
        "attempts = 1\nread_timeout_secs = 60\ndeadline_secs = 120\n[limits]\nmax_crl_bytes = 2000000",
    );
    let script = "import resource, subprocess, sys\n\
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n\
sys.stderr.buffer.write(p.stderr)\n\
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)\n";
    let o = Command::new("python3")
        .env("CRLBATCH_LOG_FORMAT", "text")
        .args(["-c", script, env!("CARGO_BIN_EXE_crlbatch"), "run", job.to_str().unwrap(), "--at", AT])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut it = out.split_whitespace();
    let rss_kb: u64 = it.next().unwrap().parse().unwrap();
    let exit: i32 = it.next().unwrap().parse().unwrap();
    assert_eq!(exit, 65, "{}", stderr(&o));
    let m: Value = serde_json::from_slice(&std::fs::read(fx.root.join("out/_manifest.json")).unwrap()).unwrap();
    let f = &m["issuers"][0]["fetch"][0];
    assert_eq!(f["outcome"], "rejected", "{f}");
    assert_eq!(
        f["error"],
        "the server sent more than 3048576 bytes: over the limit of 2000000 bytes (limits.max_crl_bytes) plus \
         1048576 for the LDAP message"
    );
    assert!(rss_kb < 64 * 1024, "peak RSS {rss_kb} KiB");
    // The server got to send about the limit, not the 3 GB it declared.
    assert!(sent.load(std::sync::atomic::Ordering::Relaxed) < 64 << 20);
    assert_eq!(m["issuers"][0]["usable"], false);
}
