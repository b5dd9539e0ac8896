//! No input can crash the parser or the index loader: thousands of mutated
//! CRLs and index files (bit flips, truncations, insertions, length bytes
//! set to extremes) each give a result or an error, never a panic. Tests
//! run unoptimised with overflow checks, so arithmetic overflow would panic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::cast_possible_truncation)]

mod common;

use common::*;
use crlbatch_crl::{parse_bytes, ParseOptions, Reason};
use crlbatch_gen::Hierarchy;
use crlbatch_index::RevocationIndex;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, good: &[u8]) -> Vec<u8> {
    let mut b = good.to_vec();
    match rng.below(5) {
        0 => {
            let i = rng.below(b.len());
            b[i] ^= 1 << rng.below(8);
        }
        1 => b.truncate(rng.below(b.len())),
        2 => {
            let i = rng.below(b.len());
            b.insert(i, rng.next() as u8);
        }
        3 => {
            // A length-like byte set to an extreme.
            let i = rng.below(b.len());
            b[i] = [0x00, 0x7f, 0x80, 0x81, 0x84, 0x88, 0xff][rng.below(7)];
        }
        _ => {
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(b.len());
                b[i] = rng.next() as u8;
            }
        }
    }
    b
}

#[test]
fn mutated_crls_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let c = ca(Hierarchy::Sign, 2023);
    let mut entries = vec![
        entry("2a", "2025-01-01T00:00:00Z", Some(Reason::AffiliationChanged)),
        entry("-5", "2051-01-01T00:00:00Z", None),
        entry(&"7f".repeat(20), "2025-01-02T00:00:00Z", Some(Reason::CertificateHold)),
    ];
    entries[0].invalidity = Some(t("2024-12-24T00:00:00Z"));
    let mut params = daily();
    params.idp = Some(crlbatch_gen::crl::idp_for_dirname(&crlbatch_gen::crl::partition_dp_name(Hierarchy::Sign, 3)));
    let path = write(dir.path(), "m.crl", c, &params, &entries);
    let good = std::fs::read(&path).unwrap();
    assert!(parse_bytes(&good, &ParseOptions::default()).is_ok());
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let (mut ok, mut err) = (0, 0);
    for _ in 0..20_000 {
        let bad = mutate(&mut rng, &good);
        match parse_bytes(&bad, &ParseOptions::default()) {
            Ok(crl) => {
                ok += 1;
                // Whatever parsed must also verify or fail cleanly.
                let _ = crlbatch_crl::verify_crl(&crl.info, &ca_cert(c));
            }
            Err(e) => {
                err += 1;
                assert!(!e.to_string().is_empty());
            }
        }
    }
    assert!(err > 10_000, "{ok} parsed, {err} refused");
}

#[test]
fn mutated_index_files_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let c = ca(Hierarchy::Auth, 2023);
    let entries = vec![
        entry("10", "2025-01-01T00:00:00Z", Some(Reason::CertificateHold)),
        entry("11", "2200-01-01T00:00:00Z", None),
        entry(&"ab".repeat(17), "2025-01-02T00:00:00Z", Some(Reason::Superseded)),
    ];
    let path = write(dir.path(), "a.crl", c, &daily(), &entries);
    let idx =
        crlbatch_index::index_crls(&ca_cert(c), &[("a.crl".into(), path.as_path())], at(), &ParseOptions::default())
            .unwrap();
    let file = dir.path().join("a.crlidx");
    idx.save(&file).unwrap();
    let good = std::fs::read(&file).unwrap();
    let mut rng = Rng(0x0fed_cba9_8765_4321);
    let mut loaded = 0;
    for i in 0..20_000 {
        let mut bad = mutate(&mut rng, &good);
        // Half the time, fix up length and CRC so the section decoders see
        // the damage instead of the checksum.
        if i % 2 == 0 && bad.len() > 12 {
            let body = bad.len() - 12;
            let crc = crc32fast::hash(&bad[..body]);
            bad[body..body + 8].copy_from_slice(&(body as u64).to_le_bytes());
            bad[body + 8..].copy_from_slice(&crc.to_le_bytes());
        }
        if let Ok(ix) = RevocationIndex::from_bytes(&bad, "mutated") {
            loaded += 1;
            for s in ["10", "11", "12", &"ab".repeat(17)] {
                let _ = ix.lookup(&crlbatch_crl::Serial::parse_hex(s).unwrap());
            }
        }
    }
    assert!(loaded < 20_000);
}
