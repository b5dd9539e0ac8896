//! The malformed-CRL registry: every fixture in `tests/bad/` (hand-written
//! DER in the notation of `derasm`, each file starting with a comment that
//! says what is wrong) must be listed here with the exact error it gives;
//! a fixture without an entry, or an entry without a fixture, fails.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod derasm;

use std::collections::BTreeSet;
use std::path::Path;

use crlbatch_crl::{parse_bytes, ParseOptions};

/// (fixture name, exact error message).
const REGISTRY: &[(&str, &str)] = &[
    ("empty", "empty input: no CRL bytes"),
    ("bad-month", "invalid time at byte 39: time field out of range"),
    ("bad-version", "unsupported CRL version 02 at byte 4 (only v2 is defined)"),
    ("certificate-issuer-entry", "indirect CRL at byte 94 is not supported (entries may belong to another issuer)"),
    ("critical-false-encoded", "malformed DER: DEFAULT value encoded explicitly at byte 80"),
    ("duplicate-crl-extension", "duplicate extension 2.5.29.20 at byte 85"),
    ("duplicate-entry-extension", "duplicate extension 2.5.29.21 at byte 106"),
    ("empty-crl-extensions", "malformed DER: SEQUENCE must not be empty at byte 71"),
    ("empty-revoked-list", "empty revokedCertificates list at byte 69 (must be absent when empty)"),
    ("entry-extensions-in-v1", "extensions at byte 88 in a CRL without version v2"),
    ("entry-overruns-list", "malformed DER: truncated DER element at byte 91"),
    (
        "entry-length-wraps",
        "revoked certificate entry at byte 91 is 18446744073709551615 bytes, over the limit of 65536",
    ),
    ("entry-wrong-tag", "malformed DER: expected tag 0x30, found 0x31 at byte 71"),
    ("explicit-v1-version", "unsupported CRL version 00 at byte 4 (only v2 is defined)"),
    ("extensions-in-v1", "extensions at byte 66 in a CRL without version v2"),
    (
        "generalized-time-fraction",
        "invalid time at byte 76: time is not in the DER form YYMMDDHHMMSSZ / YYYYMMDDHHMMSSZ",
    ),
    ("high-tag-number", "malformed DER: high tag number form not supported at byte 2"),
    ("html-page", "not a DER CRL: the first byte is 0x3c, expected 0x30 (SEQUENCE)"),
    ("huge-declared-length", "CRL is 8589934599 bytes, over the limit of 4294967296 bytes"),
    ("idp-indirect", "indirect CRL at byte 83 is not supported (entries may belong to another issuer)"),
    ("indefinite-length", "malformed DER: indefinite length is not DER at byte 0"),
    ("invalid-boolean", "malformed DER: BOOLEAN must be 0x00 or 0xff at byte 80"),
    ("invalid-oid", "malformed DER: invalid OBJECT IDENTIFIER at byte 75"),
    ("length-too-large", "malformed DER: length field too large at byte 0"),
    ("missing-signature", "malformed DER: truncated DER element at byte 69"),
    ("negative-crl-number", "invalid cRLNumber (negative) extension at byte 82"),
    ("non-minimal-length", "malformed DER: non-minimal length encoding at byte 2"),
    ("reason-code-7", "invalid reasonCode 7 at byte 102"),
    ("serial-21-octets", "serial number at byte 74 has 21 octets (RFC 5280 allows at most 20)"),
    ("serial-empty", "malformed DER: INTEGER with no content at byte 73"),
    ("serial-non-minimal", "malformed DER: INTEGER not minimally encoded at byte 73"),
    ("signature-algorithm-mismatch", "signatureAlgorithm at byte 69 differs from tbsCertList.signature"),
    ("signature-unused-bits", "malformed DER: invalid BIT STRING at byte 84"),
    ("time-wrong-tag", "malformed DER: expected tag 0x17, found 0x04 at byte 39"),
    ("trailing-data", "unexpected data after the CertificateList at byte 90"),
    ("truncated", "CRL is truncated: the structure needs 258 bytes, the input has 91"),
    ("unknown-critical-crl-extension", "unknown critical extension 1.2.3.4 at byte 96"),
    ("unknown-critical-entry-extension", "unknown critical extension 1.2.3.4 at byte 93"),
    ("utctime-without-seconds", "invalid time at byte 39: time is not in the DER form YYMMDDHHMMSSZ / YYYYMMDDHHMMSSZ"),
];

fn fixtures_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bad"))
}

fn fixture_names() -> BTreeSet<String> {
    std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter_map(|n| n.strip_suffix(".der.txt").map(str::to_owned))
        .collect()
}

fn error_of(name: &str) -> String {
    let src = std::fs::read_to_string(fixtures_dir().join(format!("{name}.der.txt"))).unwrap();
    assert!(src.starts_with('#'), "{name}: a fixture starts with a comment saying what is wrong");
    let bytes = derasm::assemble(&src);
    match parse_bytes(&bytes, &ParseOptions::default()) {
        Ok(_) => "parsed without error".to_owned(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_fixture_gives_its_exact_error() {
    let mut failures = Vec::new();
    for (name, expected) in REGISTRY {
        let got = error_of(name);
        if got != *expected {
            failures.push(format!("    (\"{name}\", \"{got}\"),  // expected: {expected}"));
        }
    }
    assert!(failures.is_empty(), "fixtures with a different error:\n{}", failures.join("\n"));
}

#[test]
fn every_fixture_has_a_registry_entry_and_back() {
    let files = fixture_names();
    let registered: BTreeSet<String> = REGISTRY.iter().map(|(n, _)| (*n).to_owned()).collect();
    let untested: Vec<String> =
        files.difference(&registered).map(|n| format!("    (\"{n}\", \"{}\"),", error_of(n))).collect();
    let missing: Vec<&String> = registered.difference(&files).collect();
    assert!(untested.is_empty(), "fixtures without a test (add them to REGISTRY):\n{}", untested.join("\n"));
    assert!(missing.is_empty(), "registry entries without a fixture file: {missing:?}");
}

/// The fuzzer's seed corpus holds every malformed fixture, assembled
/// (fuzz/seeds/crl_parse/bad-<name>.der). `CRLBATCH_WRITE_FUZZ_SEEDS=1`
/// writes them; without it, a fixture missing from the seeds fails here.
#[test]
fn fuzz_seeds_hold_every_fixture() {
    let seeds = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/seeds/crl_parse"));
    let write = std::env::var_os("CRLBATCH_WRITE_FUZZ_SEEDS").is_some();
    let mut missing = Vec::new();
    for name in fixture_names() {
        let src = std::fs::read_to_string(fixtures_dir().join(format!("{name}.der.txt"))).unwrap();
        let bytes = derasm::assemble(&src);
        let seed = seeds.join(format!("bad-{name}.der"));
        if write {
            std::fs::write(&seed, &bytes).unwrap();
        }
        if std::fs::read(&seed).ok().as_deref() != Some(bytes.as_slice()) {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "fuzz seeds missing or stale (CRLBATCH_WRITE_FUZZ_SEEDS=1 rewrites them): {missing:?}");
}
