//! Micro-benchmarks of the pipeline's hot paths, on inputs generated in
//! process with `crlbatch-gen` (JPKI-like serials and reasons):
//!
//! - `der_entry_scan`: walking the DER of 1M revokedCertificates entries;
//! - `entry_parse`: decoding them into columns (serial, time, reason), into
//!   fresh columns and (`entry_parse_reused`) into columns reused as the
//!   parser reuses its batch buffers;
//! - `index_build`: building the index from the decoded columns;
//! - `index_lookup_u64` / `index_lookup_long`: random lookups (revocation
//!   included when listed), about one in ten u64 probes listed, half the long;
//! - `index_load`: reading a persisted 1M-entry index (CRC checked);
//! - `parquet_check_row_group`: checking one 250,000-record row group
//!   against two 1M-entry indexes, Parquet in and Parquet out, one worker.
//!
//! `cargo bench -p crlbatch-bench` (criterion; `-- --quick` for a short run).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation, clippy::indexing_slicing)]

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

use crlbatch_check::{CheckConfig, CheckOutputs, Emit, Issuers, KeyView};
use crlbatch_crl::{CaCert, EntryColumns, ParseOptions, Serial, Timestamp};
use crlbatch_gen::{encode_entry, for_each_entry, EntrySpec, GenOptions, Hierarchy};
use crlbatch_index::{index_crls, IndexMeta, RevocationIndex};

const ENTRIES: u64 = 1_000_000;
const RECORDS: u64 = 250_000;
const SEED: u64 = 42;

fn this_update() -> Timestamp {
    Timestamp::parse_rfc3339("2026-11-25T15:00:00Z").unwrap()
}

fn at() -> Timestamp {
    Timestamp::parse_rfc3339("2026-11-26T03:00:00Z").unwrap()
}

/// The DER of `ENTRIES` signing-CRL entries (the revokedCertificates body).
fn region() -> Vec<u8> {
    let spec = EntrySpec {
        hierarchy: Hierarchy::Sign,
        count: ENTRIES,
        base_serial: 1_000_000,
        long_serials: ENTRIES / 5000,
        partitions: 1,
        this_update: this_update(),
        seed: SEED,
        label: "bench".into(),
    };
    let mut out = Vec::with_capacity(ENTRIES as usize * 40);
    for_each_entry(&spec, |e| encode_entry(&mut out, e).unwrap());
    out
}

fn entries(c: &mut Criterion) {
    let region = region();
    let mut g = c.benchmark_group("entries");
    g.throughput(Throughput::Elements(ENTRIES));
    g.sample_size(20);
    g.bench_function("der_entry_scan", |b| b.iter(|| crlbatch_crl::scan_entries(black_box(&region)).unwrap()));
    g.bench_function("entry_parse", |b| {
        b.iter_batched_ref(
            EntryColumns::default,
            |cols| crlbatch_crl::decode_entries(black_box(&region), cols).unwrap(),
            BatchSize::LargeInput,
        )
    });
    // Into columns reused from the previous round, as the parser's recycled
    // batch buffers are (no allocation, no page faults).
    let mut reused = EntryColumns::default();
    g.bench_function("entry_parse_reused", |b| {
        b.iter(|| {
            reused.clear();
            crlbatch_crl::decode_entries(black_box(&region), &mut reused).unwrap()
        })
    });
    let mut cols = EntryColumns::default();
    crlbatch_crl::decode_entries(&region, &mut cols).unwrap();
    let cas = crlbatch_gen::generate_cas(SEED).unwrap();
    let ca = CaCert::from_der(&cas[0].cert_der).unwrap();
    g.bench_function("index_build", |b| {
        b.iter_batched(
            || cols.clone(),
            |cols| RevocationIndex::build(IndexMeta::new(&ca, Vec::new(), at()), cols),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

/// A generated PKI with records: (folder, CA certificates by name).
fn pki(dir: &Path) {
    crlbatch_gen::generate(&GenOptions {
        out: dir.to_owned(),
        seed: SEED,
        entries: ENTRIES,
        partitions: 1,
        this_update: this_update(),
        crl_number: 1,
        only: vec!["sign-2023".into(), "auth-2023".into()],
        long_serials: None,
        records: RECORDS,
        record_files: 1,
        four: 0,
    })
    .unwrap();
}

fn load_index(dir: &Path, name: &str) -> RevocationIndex {
    let ca = CaCert::from_file(&dir.join(format!("ca/{name}.der"))).unwrap();
    let crl = dir.join(format!("crl/{name}.crl"));
    index_crls(&ca, &[(name.to_owned(), crl.as_path())], at(), &ParseOptions::default()).unwrap()
}

fn index(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    pki(dir.path());
    let mut idx = load_index(dir.path(), "sign-2023");
    let file = dir.path().join("sign.crlidx");
    idx.save(&file).unwrap();
    idx.compact();
    idx.prepare();
    // Probes: 2M serials drawn from the dense issued range (about one in ten
    // listed), in random order; and the long serials (all listed) mixed with
    // as many absent ones.
    let lo = idx.members().min().unwrap();
    let hi = idx.members().max().unwrap();
    assert!(hi - lo < 20 * ENTRIES, "JPKI-like dense range");
    let mut probes: Vec<u64> = (lo..=hi).collect();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for i in (1..probes.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        probes.swap(i, (x % (i as u64 + 1)) as usize);
    }
    probes.truncate(2_000_000);
    let listed = probes.iter().filter(|&&s| idx.contains_u64(s)).count();
    assert!((100_000..400_000).contains(&listed), "{listed} of 2M probes listed");
    let long: Vec<Serial> = idx
        .long_serials()
        .iter()
        .map(|l| l.serial)
        .chain((0..idx.long_serials().len()).map(|i| Serial::parse_hex(&format!("7f{i:036x}")).unwrap()))
        .collect();
    let mut g = c.benchmark_group("index");
    g.throughput(Throughput::Elements(probes.len() as u64));
    g.bench_function("index_lookup_u64", |b| {
        b.iter(|| probes.iter().filter(|&&s| idx.lookup_u64(black_box(s)).is_some()).count())
    });
    g.throughput(Throughput::Elements(long.len() as u64));
    g.bench_function("index_lookup_long", |b| {
        b.iter(|| long.iter().filter(|s| idx.lookup(black_box(s)).is_some()).count())
    });
    g.throughput(Throughput::Elements(ENTRIES));
    g.sample_size(20);
    g.bench_function("index_load", |b| b.iter(|| RevocationIndex::load(black_box(&file)).unwrap()));
    g.finish();
}

fn check(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    pki(dir.path());
    let mut issuers = Issuers::new();
    for name in ["sign-2023", "auth-2023"] {
        let mut idx = load_index(dir.path(), name);
        idx.compact();
        issuers.add_index(Arc::new(idx), at());
    }
    let records = dir.path().join("records");
    let files = crlbatch_check::open_inputs(&records).unwrap();
    assert_eq!(files.len(), 1);
    let cfg = CheckConfig {
        records,
        at: at(),
        emit: Emit::Attention,
        run_id: "bench".into(),
        threads: 1,
        key_buffer_keys: 0,
        shard: None,
        progress: None,
    };
    let out = dir.path().join("out");
    let mut n = 0u64;
    let mut g = c.benchmark_group("check");
    g.throughput(Throughput::Elements(RECORDS));
    g.sample_size(20);
    g.bench_function("parquet_check_row_group", |b| {
        b.iter_batched(
            || {
                n += 1;
                out.join(n.to_string())
            },
            |o| {
                let outputs = CheckOutputs {
                    results_dir: o.join("results"),
                    rejects_dir: o.join("rejects"),
                    keys: o.join("flagged.keys"),
                };
                crlbatch_check::check(&cfg, &files, &issuers, KeyView::EMPTY, &outputs).unwrap()
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, entries, index, check);
criterion_main!(benches);
