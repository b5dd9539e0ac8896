//! The index answers exactly like the CRL: ground truth from the generator,
//! persistence, corruption detection, duplicates, unsorted input, serials off
//! the u64 fast path, partitions, and snapshot diffs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod common;

use std::collections::BTreeMap;

use common::*;
use crlbatch_crl::{ParseOptions, Reason, Serial, Timestamp};
use crlbatch_gen::{CrlParams, GenEntry, Hierarchy};
use crlbatch_index::{diff, index_crls, merge, IndexError, IndexMeta, Revocation, RevocationIndex, Status};

fn build(
    dir: &std::path::Path,
    name: &str,
    ca: &crlbatch_gen::Ca,
    params: &CrlParams,
    entries: &[GenEntry],
) -> RevocationIndex {
    let path = write(dir, name, ca, params, entries);
    index_crls(&ca_cert(ca), &[(name.to_owned(), path.as_path())], at(), &ParseOptions::default()).unwrap()
}

fn expect(e: &GenEntry) -> Revocation {
    Revocation { revocation_time: e.revoked, reason: e.reason, invalidity_time: e.invalidity }
}

#[test]
fn index_matches_ground_truth_across_block_boundaries() {
    // 160,000 entries (~6 MB): the stream is read in 1 MiB blocks, so
    // entries straddle block boundaries.
    let dir = tempfile::tempdir().unwrap();
    let c = ca(Hierarchy::Sign, 2023);
    let entries = generated(160_000, 40, Hierarchy::Sign);
    let idx = build(dir.path(), "big.crl", c, &daily(), &entries);
    assert!(std::fs::metadata(dir.path().join("big.crl")).unwrap().len() > 4 << 20);
    assert_eq!(idx.len(), 160_000);
    assert_eq!(idx.meta().long_serials, 40);
    assert_eq!(idx.meta().duplicates, 0);
    let mut listed = std::collections::HashSet::new();
    for e in &entries {
        assert_eq!(idx.lookup(&e.serial), Some(expect(e)), "serial {}", e.serial);
        listed.insert(e.serial);
    }
    // Every gap between listed serials is not listed.
    let mut misses = 0;
    for s in 1_000_000u64..1_200_000 {
        let serial = Serial::from_u64(s);
        if !listed.contains(&serial) {
            assert_eq!(idx.lookup(&serial), None);
            misses += 1;
        }
    }
    assert!(misses > 150_000);
    // Reasons include entries without a reasonCode, and some invalidity dates.
    assert!(entries.iter().any(|e| e.reason.is_none()));
    assert!(entries.iter().any(|e| e.invalidity.is_some()));
}

#[test]
fn persisted_index_loads_identically_and_detects_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let c = ca(Hierarchy::Auth, 2023);
    let entries = generated(20_000, 5, Hierarchy::Auth);
    let idx = build(dir.path(), "a.crl", c, &daily(), &entries);
    let path = dir.path().join(crlbatch_index::index_file_name(&c.kid_hex()));
    idx.save(&path).unwrap();
    let loaded = RevocationIndex::load(&path).unwrap();
    assert_eq!(loaded.meta(), idx.meta());
    for e in &entries {
        assert_eq!(loaded.lookup(&e.serial), Some(expect(e)));
    }
    assert_eq!(loaded.meta().crls[0].crl_number.as_deref(), Some("1"));
    assert_eq!(loaded.meta().crls[0].this_update, this_update());
    assert_eq!(loaded.meta().issuer_kid, c.kid_hex());
    // At most 8 bytes per entry, including reasons and times.
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size < 20_000 * 8, "{size} bytes");

    let good = std::fs::read(&path).unwrap();
    // Saving and freeing writes the same bytes, and gives back the metadata;
    // no temporary file is left.
    let again = dir.path().join("again").join("a.crlidx");
    let meta = idx.meta().clone();
    assert_eq!(idx.clone().save_and_free(&again).unwrap(), meta);
    assert_eq!(std::fs::read(&again).unwrap(), good);
    assert_eq!(std::fs::read_dir(again.parent().unwrap()).unwrap().count(), 1);
    // A folder that cannot be made (its parent is a file): an error naming
    // it, nothing written.
    let blocked = dir.path().join("plain-file");
    std::fs::write(&blocked, b"x").unwrap();
    let e = idx.clone().save_and_free(&blocked.join("sub").join("a.crlidx")).unwrap_err().to_string();
    assert!(e.contains("plain-file/sub"), "{e}");
    assert_eq!(std::fs::read(&blocked).unwrap(), b"x");
    let name = path.display().to_string();
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x01;
    std::fs::write(&path, &flipped).unwrap();
    assert!(matches!(RevocationIndex::load(&path), Err(IndexError::Checksum { .. })));
    std::fs::write(&path, &good[..good.len() - 100]).unwrap();
    assert!(
        matches!(RevocationIndex::load(&path), Err(IndexError::Truncated { .. })),
        "{:?}",
        RevocationIndex::load(&path)
    );
    std::fs::write(&path, b"hello").unwrap();
    assert_eq!(RevocationIndex::load(&path).unwrap_err(), IndexError::NotAnIndex { path: name.clone() });
    let mut v2 = good.clone();
    v2[8] = 2;
    std::fs::write(&path, &v2).unwrap();
    assert_eq!(
        RevocationIndex::load(&path).unwrap_err(),
        IndexError::UnsupportedVersion { path: name.clone(), found: 2, supported: 1 }
    );
    std::fs::write(&path, &good).unwrap();
    assert!(RevocationIndex::load(&path).is_ok());
}

#[test]
fn index_files_save_on_tmpfs() {
    // /dev/shm is tmpfs, which refuses O_DIRECT before Linux 6.6: the save
    // must work either way.
    let shm = std::path::Path::new("/dev/shm");
    if !shm.is_dir() {
        return;
    }
    let dir = tempfile::tempdir_in(shm).unwrap();
    let c = ca(Hierarchy::Sign, 2023);
    let entries = generated(3_000, 2, Hierarchy::Sign);
    let idx = build(dir.path(), "s.crl", c, &daily(), &entries);
    let path = dir.path().join("s.crlidx");
    idx.save(&path).unwrap();
    let loaded = RevocationIndex::load(&path).unwrap();
    for e in &entries {
        assert_eq!(loaded.lookup(&e.serial), Some(expect(e)));
    }
}

#[test]
fn duplicates_are_revoked_with_the_earliest_entry() {
    let dir = tempfile::tempdir().unwrap();
    let c = ca(Hierarchy::Sign, 2023);
    let entries = vec![
        entry("10", "2025-05-01T00:00:00Z", Some(Reason::Superseded)),
        entry("20", "2025-01-01T00:00:00Z", Some(Reason::CertificateHold)),
        entry("20", "2024-12-01T00:00:00Z", Some(Reason::KeyCompromise)),
        entry("30", "2025-01-01T00:00:00Z", None),
    ];
    let idx = build(dir.path(), "d.crl", c, &daily(), &entries);
    assert_eq!(idx.meta().duplicates, 1);
    assert_eq!(idx.len(), 3);
    let r = idx.lookup(&Serial::parse_hex("20").unwrap()).unwrap();
    assert_eq!(r.revocation_time, t("2024-12-01T00:00:00Z"));
    assert_eq!(r.reason, Some(Reason::KeyCompromise));
    assert_eq!(
        crlbatch_index::count_duplicates(
            &crlbatch_crl::parse_path(&dir.path().join("d.crl"), &ParseOptions::default()).unwrap().entries
        ),
        1
    );
}

#[test]
fn unsorted_crl_is_indexed_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let c = ca(Hierarchy::Sign, 2023);
    let mut entries = generated(30_000, 3, Hierarchy::Sign);
    // Reverse a middle stretch, as a CA that lists by revocation date would.
    entries[10_000..20_000].reverse();
    let idx = build(dir.path(), "u.crl", c, &daily(), &entries);
    assert_eq!(idx.len(), 30_000);
    for e in &entries {
        assert_eq!(idx.lookup(&e.serial), Some(expect(e)));
    }
}

#[test]
fn serials_off_the_fast_path_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let c = ca(Hierarchy::Sign, 2023);
    let twenty = "7f".repeat(20);
    let entries = vec![
        entry("0", "2025-01-01T00:00:00Z", Some(Reason::Unspecified)),
        entry("-1", "2025-01-02T00:00:00Z", Some(Reason::KeyCompromise)),
        entry("ff", "2025-01-03T00:00:00Z", Some(Reason::Superseded)),
        entry("ffffffffffffffff", "2025-01-04T00:00:00Z", None),
        entry("10000000000000000", "2025-01-05T00:00:00Z", None),
        entry(&twenty, "2025-01-06T00:00:00Z", Some(Reason::AffiliationChanged)),
        // Beyond 2049 (GeneralizedTime) and beyond the u32 time code (2086+).
        entry("100", "2051-06-01T00:00:00Z", None),
        entry("101", "2200-01-01T00:00:00Z", Some(Reason::CessationOfOperation)),
        entry("102", "1949-12-31T23:59:59Z", None),
    ];
    let idx = build(dir.path(), "x.crl", c, &daily(), &entries);
    for e in &entries {
        assert_eq!(idx.lookup(&e.serial), Some(expect(e)), "{}", e.serial);
    }
    // -1 and ff are different certificates; 1 and -ff are not listed.
    assert_eq!(idx.lookup(&Serial::parse_hex("-1").unwrap()).unwrap().reason, Some(Reason::KeyCompromise));
    assert_eq!(idx.lookup(&Serial::parse_hex("00ff").unwrap()).unwrap().reason, Some(Reason::Superseded));
    assert_eq!(idx.lookup(&Serial::parse_hex("1").unwrap()), None);
    assert_eq!(idx.lookup(&Serial::parse_hex("-ff").unwrap()), None);
    assert_eq!(idx.lookup(&Serial::parse_hex(&"7f".repeat(19)).unwrap()), None);
    // The same after a round trip through the file format.
    let path = dir.path().join("x.crlidx");
    idx.save(&path).unwrap();
    let loaded = RevocationIndex::load(&path).unwrap();
    for e in &entries {
        assert_eq!(loaded.lookup(&e.serial), Some(expect(e)), "{}", e.serial);
    }
}

#[test]
fn partitions_combine_and_a_stale_partition_makes_everything_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let c = ca(Hierarchy::Sign, 2023);
    let cert = ca_cert(c);
    let all = generated(9_000, 0, Hierarchy::Sign);
    let mut paths = Vec::new();
    for p in 0..3u32 {
        let mut params = daily();
        params.idp =
            Some(crlbatch_gen::crl::idp_for_dirname(&crlbatch_gen::crl::partition_dp_name(Hierarchy::Sign, p)));
        if p == 2 {
            params.this_update = t("2026-11-24T15:00:00Z");
            params.next_update = Some(t("2026-11-25T15:00:00Z"));
        }
        let part: Vec<GenEntry> =
            all.iter().enumerate().filter(|(i, _)| *i as u32 % 3 == p).map(|(_, e)| e.clone()).collect();
        paths.push((format!("p{p}.crl"), write(dir.path(), &format!("p{p}.crl"), c, &params, &part)));
    }
    let fresh: Vec<(String, &std::path::Path)> = paths[..2].iter().map(|(n, p)| (n.clone(), p.as_path())).collect();
    let idx = index_crls(&cert, &fresh, at(), &ParseOptions::default()).unwrap();
    assert_eq!(idx.len(), 6_000);
    assert_eq!(idx.meta().crls.len(), 2);
    assert_eq!(
        idx.meta().crls[0].idp.as_ref().unwrap().distribution_point,
        vec!["DirName:C=JP, O=JPKI, OU=JPKI for digital signature, OU=CRL Distribution Points, OU=Hokkaido, CN=City0001 CRLDP".to_owned()]
    );
    for (i, e) in all.iter().enumerate() {
        let want = if i % 3 < 2 { Some(expect(e)) } else { None };
        assert_eq!(idx.lookup(&e.serial), want);
    }
    // Adding the stale partition refuses the set at index time.
    let with_stale: Vec<(String, &std::path::Path)> = paths.iter().map(|(n, p)| (n.clone(), p.as_path())).collect();
    let err = index_crls(&cert, &with_stale, at(), &ParseOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), "p2.crl: stale CRL (nextUpdate 2026-11-25T15:00:00Z)");
    // Two full CRLs are not partitions.
    let full = write(dir.path(), "full.crl", c, &daily(), &all[..10]);
    let err = index_crls(
        &cert,
        &[("full.crl".into(), full.as_path()), ("p0.crl".into(), paths[0].1.as_path())],
        at(),
        &ParseOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("has no issuingDistributionPoint"), "{err}");
    // The same partition twice is refused.
    let twice: Vec<(String, &std::path::Path)> = vec![fresh[0].clone(), fresh[0].clone()];
    assert!(index_crls(&cert, &twice, at(), &ParseOptions::default())
        .unwrap_err()
        .to_string()
        .contains("same distribution point"));
    // An index of partitions answers unknown once any partition is stale.
    let late = t("2026-11-26T16:00:00Z");
    assert_eq!(
        idx.status(&all[0].serial, late),
        Status::Unknown("stale CRL (nextUpdate 2026-11-26T15:00:00Z) in partition p0.crl".into())
    );
}

#[test]
fn merged_partition_indexes_answer_like_one_index_of_all_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let c = ca(Hierarchy::Sign, 2023);
    let cert = ca_cert(c);
    let all = generated(12_000, 40, Hierarchy::Sign);
    let mut paths = Vec::new();
    for p in 0..4u32 {
        let mut params = daily();
        params.idp =
            Some(crlbatch_gen::crl::idp_for_dirname(&crlbatch_gen::crl::partition_dp_name(Hierarchy::Sign, p)));
        // Interleaved serials: partitions overlap in range, not in members.
        let part: Vec<GenEntry> =
            all.iter().enumerate().filter(|(i, _)| *i as u32 % 4 == p).map(|(_, e)| e.clone()).collect();
        paths.push((format!("p{p}.crl"), write(dir.path(), &format!("p{p}.crl"), c, &params, &part)));
    }
    let names: Vec<(String, &std::path::Path)> = paths.iter().map(|(n, p)| (n.clone(), p.as_path())).collect();
    let whole = index_crls(&cert, &names, at(), &ParseOptions::default()).unwrap();
    let mut parts: Vec<RevocationIndex> = names
        .iter()
        .map(|n| index_crls(&cert, std::slice::from_ref(n), at(), &ParseOptions::default()).unwrap())
        .collect();
    // A loaded (compacted) part merges like a fresh one.
    parts[1].compact();
    let metas = parts.iter().flat_map(|p| p.meta().crls.clone()).collect();
    let refs: Vec<&RevocationIndex> = parts.iter().collect();
    let merged = merge(IndexMeta::new(&cert, metas, at()), &refs);
    assert_eq!(merged.len(), all.len() as u64);
    assert_eq!(merged.meta().entries, whole.meta().entries);
    assert_eq!(merged.meta().long_serials, 40);
    assert_eq!(merged.meta().crls.len(), 4);
    assert_eq!(merged.iter().collect::<Vec<_>>(), whole.iter().collect::<Vec<_>>());
    for e in &all {
        assert_eq!(merged.lookup(&e.serial), Some(expect(e)));
    }
}

#[test]
fn diff_finds_new_revocations_and_lifted_holds() {
    let dir = tempfile::tempdir().unwrap();
    let c = ca(Hierarchy::Auth, 2023);
    let day1 = vec![
        entry("10", "2025-01-01T00:00:00Z", Some(Reason::CertificateHold)),
        entry("11", "2025-01-01T00:00:00Z", Some(Reason::Superseded)),
        entry(&"ab".repeat(18), "2025-01-01T00:00:00Z", Some(Reason::CertificateHold)),
    ];
    let day2 = vec![
        entry("11", "2025-01-01T00:00:00Z", Some(Reason::Superseded)),
        entry("12", "2026-11-25T01:00:00Z", Some(Reason::KeyCompromise)),
        entry("13", "2026-11-25T02:00:00Z", None),
    ];
    let a = build(dir.path(), "1.crl", c, &daily(), &day1);
    let b = build(dir.path(), "2.crl", c, &CrlParams::daily(this_update(), 2), &day2);
    let d = diff(&a, &b).unwrap();
    let added: Vec<String> = d.added.iter().map(|(s, _)| s.to_string()).collect();
    let removed: Vec<String> = d.removed.iter().map(|(s, _)| s.to_string()).collect();
    assert_eq!(added, vec!["12", "13"]);
    assert_eq!(removed, vec!["10".to_owned(), "ab".repeat(18)]);
    assert!(d.changed.is_empty());
    assert_eq!(d.removed[0].1.reason, Some(Reason::CertificateHold));
    let other = build(dir.path(), "o.crl", ca(Hierarchy::Sign, 2023), &daily(), &day2);
    assert!(matches!(diff(&a, &other), Err(IndexError::IssuerMismatch { .. })));
}

#[test]
fn index_answers_like_a_linear_scan() {
    // Random probes, dense and sparse, against a map built by scanning.
    let dir = tempfile::tempdir().unwrap();
    let c = ca(Hierarchy::Sign, 2019);
    let entries = generated(50_000, 10, Hierarchy::Sign);
    let idx = build(dir.path(), "s.crl", c, &daily(), &entries);
    let scan: BTreeMap<Serial, Revocation> = entries.iter().map(|e| (e.serial, expect(e))).collect();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let s = Serial::from_u64(1_000_000 + x % 600_000);
        assert_eq!(idx.lookup(&s), scan.get(&s).copied());
    }
    let _ = Timestamp(0);
}
