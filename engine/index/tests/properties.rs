//! Property tests (proptest) of the index: built from a real signed CRL of
//! random entries (u64, long and negative serials, duplicates, every reason,
//! invalidity dates, times before 1950 and after 2049), it answers exactly
//! like a linear scan of the entries; persisted and loaded, it is the same.

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
use crlbatch_gen::{GenEntry, Hierarchy};
use crlbatch_index::{index_crls, Revocation, RevocationIndex};
use proptest::prelude::*;

fn serial() -> impl Strategy<Value = Serial> {
    prop_oneof![
        // Dense JPKI-like u64 serials (collisions make duplicates).
        6 => (1_000u64..1_400).prop_map(Serial::from_u64),
        2 => any::<u64>().prop_map(|v| Serial::from_u64(v.max(1))),
        // Long and negative serials, 1 to 20 octets.
        2 => (any::<bool>(), prop::collection::vec(any::<u8>(), 1..=20)).prop_map(|(neg, mut m)| {
            m[0] |= 1;
            Serial::from_magnitude(neg, &m).unwrap()
        }),
    ]
}

fn entry() -> impl Strategy<Value = GenEntry> {
    (
        serial(),
        // 1950..2100: UTCTime and GeneralizedTime ranges, whole seconds.
        -631_152_000i64..4_102_444_800,
        prop::option::of(prop_oneof![0u8..=6, 8u8..=10].prop_map(|c| Reason::from_code(c).unwrap())),
        prop::option::of(-631_152_000i64..4_102_444_800),
    )
        .prop_map(|(serial, revoked, reason, invalidity)| GenEntry {
            serial,
            revoked: Timestamp(revoked),
            reason,
            invalidity: invalidity.map(Timestamp),
            partition: 0,
        })
}

/// The linear scan: per serial, the entry with the earliest revocation time
/// (ties: the first in CRL order).
fn scan(entries: &[GenEntry]) -> BTreeMap<Serial, Revocation> {
    let mut m: BTreeMap<Serial, Revocation> = BTreeMap::new();
    for e in entries {
        let r = Revocation { revocation_time: e.revoked, reason: e.reason, invalidity_time: e.invalidity };
        match m.get(&e.serial) {
            Some(old) if old.revocation_time <= r.revocation_time => {}
            _ => {
                m.insert(e.serial, r);
            }
        }
    }
    m
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn index_answers_like_a_scan_and_survives_persistence(
        entries in prop::collection::vec(entry(), 0..600),
        probes in prop::collection::vec(serial(), 0..200),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let c = ca(Hierarchy::Sign, 2023);
        let path = write(dir.path(), "p.crl", c, &daily(), &entries);
        let idx = index_crls(&ca_cert(c), &[("p.crl".to_owned(), path.as_path())], at(), &ParseOptions::default()).unwrap();
        let want = scan(&entries);
        prop_assert_eq!(idx.len(), want.len() as u64);
        prop_assert_eq!(idx.meta().duplicates, (entries.len() - want.len()) as u64);
        for (s, r) in &want {
            prop_assert_eq!(idx.lookup(s), Some(*r), "serial {}", s);
        }
        for s in &probes {
            prop_assert_eq!(idx.lookup(s), want.get(s).copied(), "probe {}", s);
        }
        // Iteration gives every entry once, in serial order within each set.
        let all: BTreeMap<Serial, Revocation> = idx.iter().collect();
        prop_assert_eq!(&all, &want);

        // Persisted and loaded: the same answers, the same description.
        let file = dir.path().join("p.crlidx");
        idx.save(&file).unwrap();
        let loaded = RevocationIndex::load(&file).unwrap();
        prop_assert_eq!(loaded.meta(), idx.meta());
        let again: BTreeMap<Serial, Revocation> = loaded.iter().collect();
        prop_assert_eq!(&again, &want);
        for s in probes.iter().chain(want.keys()) {
            prop_assert_eq!(loaded.lookup(s), want.get(s).copied());
        }
    }
}
