//! Index lookup throughput on one core, at JPKI scale.
//!
//! Builds an index of N JPKI-like serials (dense small integers, about 10%
//! of the issued range revoked; reasons and times for every entry) and
//! measures, for random probes over the issued range:
//! - `contains`: roaring membership only;
//! - `position`: membership and rank (what the bulk check uses);
//! - `lookup`: full lookup (membership, rank, reason and times for hits);
//! - `long`: full lookup of 20-octet serials (the exact fallback set).
//!
//! `cargo bench -p crlbatch-index --bench lookup [-- N]` (N default 10,000,000).
//! Prints one line per measurement: `name lookups_per_second`. Median of 5.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::Instant;

use crlbatch_crl::{time_code, EntryColumns, LongEntry, Reason, Serial, Timestamp};
use crlbatch_index::{IndexMeta, RevocationIndex};

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10_000_000);
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let base = 1_000_000u64;
    let mut cols = EntryColumns::default();
    let mut s = base;
    for _ in 0..n {
        s += 1 + xorshift(&mut x) % 19;
        cols.serials.push(s);
        cols.times.push(time_code(Timestamp(1_700_000_000 + (xorshift(&mut x) % 100_000_000) as i64)));
        cols.reasons.push(Reason::AffiliationChanged.code());
    }
    let span = s - base;
    let longs: Vec<Serial> =
        (0..10_000u32).map(|i| Serial::parse_hex(&format!("7f{:038x}", u128::from(i) * 7919)).unwrap()).collect();
    for (i, l) in longs.iter().enumerate() {
        cols.long.push(LongEntry {
            serial: *l,
            revocation_time: Timestamp(1_700_000_000),
            reason: None,
            invalidity_time: None,
            ordinal: i as u64,
        });
    }
    let meta: IndexMeta = serde_json::from_value(serde_json::json!({
        "format": "crlbatch-index", "format_version": 1, "issuer_kid": "00", "kid_source": "subjectKeyIdentifier",
        "issuer": "bench", "ca_cert_sha256": "", "crls": [], "entries": 0, "duplicates": 0, "long_serials": 0,
        "built_at": "2026-11-26T00:00:00Z", "engine_version": "bench"
    }))
    .unwrap();
    let index = RevocationIndex::build(meta, cols);
    index.prepare();
    let probes: Vec<u64> = (0..10_000_000).map(|_| base + xorshift(&mut x) % span).collect();
    let long_probes: Vec<Serial> =
        (0..1_000_000).map(|i| longs[(xorshift(&mut x) as usize + i) % longs.len()]).collect();
    let rounds = 5;
    let measure = |f: &dyn Fn() -> usize, count: usize| -> f64 {
        median(
            (0..rounds)
                .map(|_| {
                    let t = Instant::now();
                    black_box(f());
                    count as f64 / t.elapsed().as_secs_f64()
                })
                .collect(),
        )
    };
    let contains = measure(&|| probes.iter().filter(|&&p| index.contains_u64(p)).count(), probes.len());
    let position = measure(&|| probes.iter().filter_map(|&p| index.position_u64(p)).count(), probes.len());
    let lookup = measure(&|| probes.iter().filter_map(|&p| index.lookup_u64(p)).count(), probes.len());
    let long = measure(&|| long_probes.iter().filter_map(|p| index.lookup(p)).count(), long_probes.len());
    println!("entries {}", index.len());
    println!("contains {contains:.0}");
    println!("position {position:.0}");
    println!("lookup {lookup:.0}");
    println!("long {long:.0}");
}
