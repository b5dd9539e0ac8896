//! Helpers: real signed CRLs from the generator.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crlbatch_crl::{CaCert, Reason, Serial, Timestamp};
use crlbatch_gen::{encode_entry, for_each_entry, write_crl, Ca, CaSpec, CrlParams, EntrySpec, GenEntry, Hierarchy};

pub const SEED: u64 = 7;

pub fn t(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

pub fn this_update() -> Timestamp {
    t("2026-11-25T15:00:00Z")
}

/// An evaluation time inside the daily window.
pub fn at() -> Timestamp {
    t("2026-11-26T03:00:00Z")
}

/// The four default CAs, generated once per test binary.
pub fn cas() -> &'static [Ca] {
    static CAS: OnceLock<Vec<Ca>> = OnceLock::new();
    CAS.get_or_init(|| crlbatch_gen::generate_cas(SEED).unwrap())
}

pub fn ca(h: Hierarchy, generation: u16) -> &'static Ca {
    cas().iter().find(|c| c.spec == CaSpec::new(h, generation)).unwrap()
}

pub fn ca_cert(ca: &Ca) -> CaCert {
    CaCert::from_der(&ca.cert_der).unwrap()
}

pub fn entry(serial: &str, revoked: &str, reason: Option<Reason>) -> GenEntry {
    GenEntry { serial: Serial::parse_hex(serial).unwrap(), revoked: t(revoked), reason, invalidity: None, partition: 0 }
}

pub fn encode(entries: &[GenEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        encode_entry(&mut out, e).unwrap();
    }
    out
}

/// Write a CRL signed by `ca` into `dir/name` and return its path.
pub fn write(dir: &Path, name: &str, ca: &Ca, params: &CrlParams, entries: &[GenEntry]) -> PathBuf {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    write_crl(&mut f, ca, params, &encode(entries), SEED).unwrap();
    path
}

pub fn daily() -> CrlParams {
    CrlParams::daily(this_update(), 1)
}

/// `count` JPKI-like entries from the generator, `long` of them with
/// serials off the u64 fast path.
pub fn generated(count: u64, long: u64, h: Hierarchy) -> Vec<GenEntry> {
    let spec = EntrySpec {
        hierarchy: h,
        count,
        base_serial: 1_000_000,
        long_serials: long,
        partitions: 1,
        this_update: this_update(),
        seed: SEED,
        label: "test".into(),
    };
    let mut v = Vec::new();
    for_each_entry(&spec, |e| v.push(e.clone()));
    v
}
