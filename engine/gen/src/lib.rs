//! `crlbatch-gen`: a deterministic synthetic JPKI PKI for the quickstart, the
//! tests and the benchmarks.
//!
//! From one seed it makes both hierarchies (digital signature, user
//! authentication), each in CA generations that share the JPKI DN with
//! different RSA-2048 keys, and for each CA a signed CRL (or P partition
//! CRLs with issuingDistributionPoint) of N JPKI-like entries.
//!
//! Output layout (see `README.md` § "Generated data"):
//! ```text
//! OUT/gen.json                  what was generated (CAs, kids, CRLs, counts)
//! OUT/ca/<name>.der             CA certificates (DER), <name> = sign-2023, ...
//! OUT/crl/<name>.crl            one full CRL per CA (partitions = 1)
//! OUT/crl/<name>/pNNNN.crl      partition CRLs (partitions > 1)
//! OUT/records/part-NNNNN.parquet PPID-linked certificate records (--records M)
//! OUT/expected/expected.parquet  the verdict each record should get
//! OUT/four/before/certs.parquet  signing certificates at snapshot time (--four N)
//! OUT/four/after/certs.parquet   the latest signing certificates
//! OUT/four/expected.parquet      what a basic-four diff must find
//! ```

pub mod crl;
pub mod der_write;
pub mod four;
pub mod keys;
pub mod pki;
pub mod records;

use std::io::Write;
use std::path::{Path, PathBuf};

use crlbatch_crl::Timestamp;
use serde::Serialize;

pub use crl::{encode_entry, for_each_entry, write_crl, CrlParams, EntrySpec, GenEntry};
pub use keys::{Key, KeyKind, SigAlg};
pub use pki::{default_cas, Ca, CaCertOptions, CaSpec, Hierarchy};

/// Generator errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenError {
    #[error("I/O error: {0}")]
    Io(String),
    #[error("crypto error: {0}")]
    Crypto(String),
    #[error("invalid generator input: {0}")]
    Invalid(String),
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    pub out: PathBuf,
    pub seed: u64,
    /// Entries per CA (spread over its partitions).
    pub entries: u64,
    /// Partitions per CA (1 = one full CRL).
    pub partitions: u32,
    pub this_update: Timestamp,
    pub crl_number: u64,
    /// Only write CRLs for these CA names (empty: all). CA certificates are
    /// always written.
    pub only: Vec<String>,
    /// Entries per CA with 16..=20-octet serials; default `entries / 5000`, at least 1.
    pub long_serials: Option<u64>,
    /// PPID-linked records to write (0: none).
    pub records: u64,
    /// Number of records files.
    pub record_files: usize,
    /// PPIDs with JPKI-shaped signing certificates carrying the basic four
    /// information (`four/`, see [`four`]); 0: none.
    pub four: u64,
}

/// The evaluation time the expected verdicts of generated records assume:
/// twelve hours into the CRLs' validity window.
pub fn records_at(this_update: Timestamp) -> Timestamp {
    Timestamp(this_update.0 + 12 * 3600)
}

/// The default thisUpdate of generated CRLs: 00:00 JST on 2026-11-26.
pub const DEFAULT_THIS_UPDATE: &str = "2026-11-25T15:00:00Z";

/// The serial base of the i-th CA: disjoint, JPKI-like small positive integers.
pub fn serial_base(index: usize) -> u64 {
    1_000_000 + (index as u64) * 1_000_000_000
}

/// A written CRL, as recorded in `gen.json`.
#[derive(Debug, Clone, Serialize)]
pub struct GenCrl {
    pub path: String,
    pub entries: u64,
    pub bytes: u64,
    pub crl_number: u64,
    pub partition: Option<u32>,
    pub distribution_point: Option<String>,
}

/// A generated CA, as recorded in `gen.json`.
#[derive(Debug, Clone, Serialize)]
pub struct GenCa {
    pub name: String,
    pub hierarchy: Hierarchy,
    pub generation: u16,
    pub kid: String,
    pub subject: String,
    pub cert: String,
    pub serial_base: u64,
    pub crls: Vec<GenCrl>,
}

/// `gen.json`.
#[derive(Debug, Clone, Serialize)]
pub struct GenManifest {
    pub format: &'static str,
    pub format_version: u32,
    pub seed: u64,
    pub entries_per_ca: u64,
    pub partitions: u32,
    pub this_update: Timestamp,
    pub next_update: Timestamp,
    pub cas: Vec<GenCa>,
    /// Records written (records/*.parquet), 0 if none.
    pub records: u64,
    /// The evaluation time the expected verdicts (expected/expected.parquet) assume.
    pub records_at: Option<Timestamp>,
    /// Signing certificates with the basic four information (`four/`), when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub four: Option<four::GenFour>,
}

fn io(e: std::io::Error, path: &Path) -> GenError {
    GenError::Io(format!("{}: {e}", path.display()))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), GenError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io(e, dir))?;
    }
    std::fs::write(path, bytes).map_err(|e| io(e, path))
}

/// Generate the CAs (deterministically from the seed).
pub fn generate_cas(seed: u64) -> Result<Vec<Ca>, GenError> {
    default_cas().iter().map(|s| Ca::generate(s, seed)).collect()
}

/// Generate everything into `opts.out`.
pub fn generate(opts: &GenOptions) -> Result<GenManifest, GenError> {
    if opts.partitions == 0 {
        return Err(GenError::Invalid("partitions must be at least 1".into()));
    }
    let cas = generate_cas(opts.seed)?;
    let next_update = Timestamp(opts.this_update.0 + 86_400);
    let long_serials = opts.long_serials.unwrap_or((opts.entries / 5000).max(1)).min(opts.entries);
    let mut manifest = GenManifest {
        format: "crlbatch-gen",
        format_version: 1,
        seed: opts.seed,
        entries_per_ca: opts.entries,
        partitions: opts.partitions,
        this_update: opts.this_update,
        next_update,
        cas: Vec::new(),
        records: opts.records,
        records_at: (opts.records > 0).then(|| records_at(opts.this_update)),
        four: None,
    };
    for (i, ca) in cas.iter().enumerate() {
        let name = ca.spec.name();
        let cert_rel = format!("ca/{name}.der");
        write_file(&opts.out.join(&cert_rel), &ca.cert_der)?;
        let mut gen_ca = GenCa {
            name: name.clone(),
            hierarchy: ca.spec.hierarchy,
            generation: ca.spec.generation,
            kid: ca.kid_hex(),
            subject: crlbatch_crl::render_name(&ca.subject_der).unwrap_or_default(),
            cert: cert_rel,
            serial_base: serial_base(i),
            crls: Vec::new(),
        };
        if opts.only.is_empty() || opts.only.contains(&name) {
            gen_ca.crls = write_ca_crls(opts, ca, i, long_serials)?;
        }
        manifest.cas.push(gen_ca);
    }
    if opts.records > 0 {
        let mut auth = Vec::new();
        let mut sign = Vec::new();
        for (i, ca) in cas.iter().enumerate() {
            let name = ca.spec.name();
            if !(opts.only.is_empty() || opts.only.contains(&name)) {
                continue;
            }
            let spec = entry_spec(opts, ca, i, long_serials);
            let mut listed = Vec::with_capacity(usize::try_from(opts.entries).unwrap_or(0));
            for_each_entry(&spec, |e| {
                listed.push(records::Listed {
                    serial: e.serial,
                    revoked: e.revoked,
                    reason: e.reason,
                    invalidity: e.invalidity,
                });
            });
            let rc =
                records::RecordCa { ca, listed, base: serial_base(i), span: opts.entries.saturating_mul(10).max(1) };
            if records::is_auth(ca) {
                auth.push(rc);
            } else {
                sign.push(rc);
            }
        }
        let ropts = records::RecordsOptions {
            count: opts.records,
            files: opts.record_files,
            seed: opts.seed,
            at: records_at(opts.this_update),
        };
        records::write_records(&opts.out, &ropts, &auth, &sign)?;
    }
    if opts.four > 0 {
        let mut sign = Vec::new();
        for (i, ca) in cas.iter().enumerate() {
            let in_scope = opts.only.is_empty() || opts.only.contains(&ca.spec.name());
            if records::is_auth(ca) || !in_scope {
                continue;
            }
            let mut listed = Vec::new();
            for_each_entry(&entry_spec(opts, ca, i, long_serials), |e| {
                listed.push(records::Listed {
                    serial: e.serial,
                    revoked: e.revoked,
                    reason: e.reason,
                    invalidity: e.invalidity,
                });
            });
            sign.push(four::FourCa { ca, listed, base: serial_base(i), span: opts.entries.saturating_mul(10).max(1) });
        }
        sign.sort_by_key(|c| c.ca.spec.generation);
        let fopts = four::FourOptions { ppids: opts.four, seed: opts.seed, at: records_at(opts.this_update) };
        manifest.four = Some(four::write_four(&opts.out, &fopts, &sign)?);
    }
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| GenError::Io(e.to_string()))?;
    write_file(&opts.out.join("gen.json"), &json)?;
    Ok(manifest)
}

/// The entry spec of the i-th CA under `opts`.
pub fn entry_spec(opts: &GenOptions, ca: &Ca, index: usize, long_serials: u64) -> EntrySpec {
    EntrySpec {
        hierarchy: ca.spec.hierarchy,
        count: opts.entries,
        base_serial: serial_base(index),
        long_serials,
        partitions: opts.partitions,
        this_update: opts.this_update,
        seed: opts.seed,
        label: ca.spec.name(),
    }
}

fn write_ca_crls(opts: &GenOptions, ca: &Ca, index: usize, long_serials: u64) -> Result<Vec<GenCrl>, GenError> {
    let spec = entry_spec(opts, ca, index, long_serials);
    let parts = usize::try_from(opts.partitions).unwrap_or(1);
    let mut buffers: Vec<Vec<u8>> = vec![Vec::new(); parts];
    let mut counts = vec![0u64; parts];
    let mut failure: Option<GenError> = None;
    if parts == 1 {
        if let Some(b) = buffers.first_mut() {
            b.reserve(usize::try_from(opts.entries.saturating_mul(40)).unwrap_or(0));
        }
    }
    for_each_entry(&spec, |e| {
        let p = usize::try_from(e.partition).unwrap_or(0);
        if let (Some(buf), Some(c)) = (buffers.get_mut(p), counts.get_mut(p)) {
            if let Err(err) = encode_entry(buf, e) {
                failure.get_or_insert(err);
            }
            *c += 1;
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    let name = ca.spec.name();
    let mut out = Vec::new();
    for (p, (buf, count)) in buffers.iter().zip(&counts).enumerate() {
        let p32 = u32::try_from(p).unwrap_or(0);
        let mut params = CrlParams::daily(opts.this_update, opts.crl_number);
        let (rel, dp) = if parts == 1 {
            (format!("crl/{name}.crl"), None)
        } else {
            let dp_name = crl::partition_dp_name(ca.spec.hierarchy, p32);
            params.idp = Some(crl::idp_for_dirname(&dp_name));
            let text = crlbatch_crl::render_name(&dp_name).map(|n| format!("DirName:{n}"));
            (format!("crl/{name}/p{:04}.crl", p + 1), text)
        };
        let path = opts.out.join(&rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io(e, dir))?;
        }
        let file = std::fs::File::create(&path).map_err(|e| io(e, &path))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        let bytes = write_crl(&mut w, ca, &params, buf, opts.seed)?;
        w.flush().map_err(|e| io(e, &path))?;
        out.push(GenCrl {
            path: rel,
            entries: *count,
            bytes,
            crl_number: opts.crl_number,
            partition: (parts > 1).then_some(p32),
            distribution_point: dp,
        });
    }
    Ok(out)
}
