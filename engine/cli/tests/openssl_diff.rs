//! Differential tests against OpenSSL with CRLs that OpenSSL produces
//! (`openssl ca -gencrl`, another producer than our generator): random
//! serials of 1 to 20 octets, every reason OpenSSL writes, invalidity dates
//! (GeneralizedTime, some after 2049), a nextUpdate after 2049. crlbatch and
//! `openssl crl -text` must agree on every entry, date and reason, and
//! `openssl crl -verify` must agree with crlbatch on good and tampered
//! signatures.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{crlbatch, stderr};
use serde_json::Value;

const AT: &str = "2026-11-26T03:00:00Z";

const CA_CNF: &str = "[ ca ]\ndefault_ca = CA_default\n[ CA_default ]\ndir = .\ndatabase = ./index.txt\n\
certificate = ./ca.pem\nprivate_key = ./ca.key\ncrlnumber = ./crlnumber\ndefault_md = sha256\ncrl_extensions = crl_ext\n\
[ crl_ext ]\nauthorityKeyIdentifier = keyid:always\n[ req ]\ndistinguished_name = dn\nx509_extensions = v3_ca\nprompt = no\n\
[ dn ]\nC = JP\nO = Differential Test\nCN = OpenSSL CA\n[ v3_ca ]\nbasicConstraints = critical, CA:true\n\
keyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n";

fn openssl(dir: &Path, args: &[&str]) -> std::process::Output {
    let o = Command::new("openssl").args(args).current_dir(dir).output().unwrap();
    assert!(o.status.success(), "openssl {args:?}: {}", stderr(&o));
    o
}

/// xorshift, deterministic.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What one revoked entry should say: (revocation time, reason code,
/// invalidity time), RFC 3339.
type Expected = (String, Option<u8>, Option<String>);

/// An index.txt for `openssl ca` with `n` revoked and `n / 4` valid
/// certificates; returns (revoked by canonical serial, valid serials).
fn database(rng: &mut Rng, n: usize) -> (String, BTreeMap<String, Expected>, Vec<String>) {
    // OpenSSL's index.txt reason words and the reasonCode each produces.
    const REASONS: [(&str, Option<u8>); 9] = [
        ("", None),
        ("unspecified", Some(0)),
        ("keyCompromise", Some(1)),
        ("CACompromise", Some(2)),
        ("affiliationChanged", Some(3)),
        ("superseded", Some(4)),
        ("cessationOfOperation", Some(5)),
        ("certificateHold", Some(6)),
        ("keyTime", Some(1)),
    ];
    let mut text = String::new();
    let mut revoked = BTreeMap::new();
    let mut valid = Vec::new();
    let mut used = std::collections::BTreeSet::new();
    while revoked.len() + valid.len() < n + n / 4 {
        let octets = 1 + rng.below(20) as usize;
        let mut hex: String = (0..octets).map(|_| format!("{:02X}", rng.below(256))).collect();
        if hex.starts_with("00") {
            hex.replace_range(0..2, "01");
        }
        let canonical = hex.trim_start_matches('0').to_ascii_lowercase();
        if !used.insert(canonical.clone()) {
            continue;
        }
        if revoked.len() >= n {
            text.push_str(&format!("V\t301231235959Z\t\t{hex}\tunknown\t/CN=v{}\n", valid.len()));
            valid.push(canonical);
            continue;
        }
        // Revocation dates: UTCTime, 2000-2049 (what index.txt holds).
        let (y, mo, d) = (rng.below(50), 1 + rng.below(12), 1 + rng.below(28));
        let (h, mi, s) = (rng.below(24), rng.below(60), rng.below(60));
        let utc = format!("{y:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z");
        let rfc = format!("20{y:02}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z");
        let (word, code) = REASONS[rng.below(REASONS.len() as u64) as usize];
        let mut field = utc;
        let mut invalidity = None;
        if word == "keyTime" {
            // Invalidity dates are GeneralizedTime: some after 2049.
            let iy = 1990 + rng.below(120);
            field.push_str(&format!(",keyTime,{iy}0102030405Z"));
            invalidity = Some(format!("{iy}-01-02T03:04:05Z"));
        } else if !word.is_empty() {
            field.push_str(&format!(",{word}"));
        }
        text.push_str(&format!("R\t301231235959Z\t{field}\t{hex}\tunknown\t/CN=r{}\n", revoked.len()));
        revoked.insert(canonical, (rfc, code, invalidity));
    }
    (text, revoked, valid)
}

/// `openssl crl -text`, read back: canonical serial to the same triple.
fn openssl_view(text: &str) -> BTreeMap<String, Expected> {
    let month = |m: &str| {
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            .iter()
            .position(|x| *x == m)
            .unwrap()
            + 1
    };
    // "Nov 20 01:02:03 2026 GMT" -> RFC 3339
    let date = |s: &str| {
        let p: Vec<&str> = s.split_whitespace().collect();
        format!("{}-{:02}-{:02}T{}Z", p[3], month(p[0]), p[1].parse::<u32>().unwrap(), p[2])
    };
    let reason = |s: &str| -> u8 {
        match s {
            "Unspecified" => 0,
            "Key Compromise" => 1,
            "CA Compromise" => 2,
            "Affiliation Changed" => 3,
            "Superseded" => 4,
            "Cessation Of Operation" => 5,
            "Certificate Hold" => 6,
            other => panic!("reason {other:?}"),
        }
    };
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut out = BTreeMap::new();
    let mut i = 0;
    while i < lines.len() {
        if let Some(serial) = lines[i].strip_prefix("Serial Number: ") {
            let revoked = date(lines[i + 1].strip_prefix("Revocation Date: ").unwrap());
            let (mut code, mut inv) = (None, None);
            let mut j = i + 2;
            while j < lines.len()
                && !lines[j].starts_with("Serial Number: ")
                && !lines[j].starts_with("Signature Algorithm")
            {
                match lines[j] {
                    "X509v3 CRL Reason Code:" => code = Some(reason(lines[j + 1])),
                    "Invalidity Date:" => inv = Some(date(lines[j + 1])),
                    _ => {}
                }
                j += 1;
            }
            out.insert(serial.trim_start_matches('0').to_ascii_lowercase(), (revoked, code, inv));
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn crlbatch_and_openssl_agree_on_crls_made_by_openssl_ca() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::write(dir.join("ca.cnf"), CA_CNF).unwrap();
    openssl(
        dir,
        &[
            "req", "-x509", "-config", "ca.cnf", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "3650",
        ],
    );
    std::fs::write(dir.join("crlnumber"), "0A\n").unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (index, want, valid) = database(&mut rng, 400);
    std::fs::write(dir.join("index.txt"), index).unwrap();
    // The database covers what the test is about.
    assert!(want.values().any(|w| w.2.as_deref().is_some_and(|t| t > "2050")), "invalidity after 2049");
    assert!(want.values().any(|w| w.1.is_none()), "entries without reasonCode");
    assert!((0..=6).all(|c| want.values().any(|w| w.1 == Some(c))), "every reason");
    assert!(want.keys().any(|k| k.len() > 38) && want.keys().any(|k| k.len() <= 2), "1 to 20 octets");
    openssl(
        dir,
        &[
            "ca",
            "-config",
            "ca.cnf",
            "-gencrl",
            "-crl_lastupdate",
            "20261125150000Z",
            "-crl_nextupdate",
            "20600101000000Z",
            "-out",
            "crl.pem",
        ],
    );
    openssl(dir, &["crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der"]);

    // OpenSSL's own reading of its CRL is what the database says.
    let text = String::from_utf8(openssl(dir, &["crl", "-in", "crl.der", "-inform", "DER", "-text", "-noout"]).stdout)
        .unwrap();
    assert!(text.contains("Next Update: Jan  1 00:00:00 2060 GMT"));
    let theirs = openssl_view(&text);
    assert_eq!(theirs, want);

    // crlbatch's reading, entry by entry, and the valid ones good.
    let serials: Vec<&String> = want.keys().chain(valid.iter()).collect();
    std::fs::write(dir.join("serials.txt"), serials.iter().map(|s| format!("{s}\n")).collect::<String>()).unwrap();
    let p = |f: &str| dir.join(f).to_str().unwrap().to_owned();
    let o = crlbatch(&[
        "status",
        "--ca",
        &p("ca.pem"),
        "--crl",
        &p("crl.der"),
        "--at",
        AT,
        "--serials-from",
        &p("serials.txt"),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut ours = BTreeMap::new();
    let mut good = Vec::new();
    for line in String::from_utf8(o.stdout).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let serial = v["serial"].as_str().unwrap().to_owned();
        match v["status"].as_str().unwrap() {
            "revoked" => {
                let code = v["reason_code"].as_u64().map(|c| u8::try_from(c).unwrap());
                let inv = v["invalidity_time"].as_str().map(str::to_owned);
                ours.insert(serial, (v["revocation_time"].as_str().unwrap().to_owned(), code, inv));
            }
            "good" => good.push(serial),
            other => panic!("{serial}: {other}: {v}"),
        }
    }
    assert_eq!(ours, theirs);
    assert_eq!(good, valid);

    // Summary and signature: both say the CRL verifies.
    let o = crlbatch(&["inspect", &p("crl.der"), "--ca", &p("ca.pem"), "--at", AT, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["entries"], want.len());
    assert_eq!(v["signature"], "valid");
    assert_eq!(v["next_update"], "2060-01-01T00:00:00Z");
    assert_eq!(v["crl_number"], 10);
    let ossl = Command::new("openssl")
        .args(["crl", "-in", "crl.der", "-inform", "DER", "-noout", "-verify", "-CAfile", "ca.pem"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(ossl.status.success() && stderr(&ossl).contains("verify OK"), "{}", stderr(&ossl));

    // Tampered: a bit of the signature, then a bit of an entry. Both refuse.
    let der = std::fs::read(dir.join("crl.der")).unwrap();
    let entry_at = der.windows(3).position(|w| w == [0x30, 0x82, 0x01]).map_or(200, |x| x + 40);
    for (what, at) in [("signature", der.len() - 3), ("an entry", entry_at)] {
        let mut bad = der.clone();
        bad[at] ^= 0x01;
        std::fs::write(dir.join("bad.der"), &bad).unwrap();
        let ossl = Command::new("openssl")
            .args(["crl", "-in", "bad.der", "-inform", "DER", "-noout", "-verify", "-CAfile", "ca.pem"])
            .current_dir(dir)
            .output()
            .unwrap();
        let openssl_ok = ossl.status.success() && stderr(&ossl).contains("verify OK");
        let o = crlbatch(&["inspect", &p("bad.der"), "--ca", &p("ca.pem"), "--at", AT, "--json"]);
        let ours_ok = o.status.success();
        assert_eq!(ours_ok, openssl_ok, "{what}: crlbatch {} / openssl {}", stderr(&o), stderr(&ossl));
        assert!(!ours_ok, "{what}: a tampered CRL must not verify");
    }
}
