//! Synthetic JPKI-like CRLs: entries drawn from a dense issued range, a
//! realistic reason mix per hierarchy, and a streaming writer that signs a
//! multi-hundred-MB tbsCertList without holding two copies of it.

use std::io::Write;

use rand::Rng;

use crate::der_write::{self as w, attr};
use crate::keys::{rng_for, SigAlg};
use crate::pki::{Ca, Hierarchy};
use crate::GenError;
use crlbatch_crl::{Reason, Serial, Timestamp};

/// One generated revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenEntry {
    pub serial: Serial,
    pub revoked: Timestamp,
    pub reason: Option<Reason>,
    pub invalidity: Option<Timestamp>,
    /// Partition index (0 when not partitioned).
    pub partition: u32,
}

/// What to generate for one CA.
#[derive(Debug, Clone)]
pub struct EntrySpec {
    pub hierarchy: Hierarchy,
    /// Entries in total (long serials included).
    pub count: u64,
    /// Serials start above this value.
    pub base_serial: u64,
    /// How many of the entries have 16..=20-octet serials (appended last).
    pub long_serials: u64,
    pub partitions: u32,
    pub this_update: Timestamp,
    pub seed: u64,
    /// Distinguishes the random stream (the CA name).
    pub label: String,
}

/// Mean gap between revoked serials: about 10% of issued certificates revoked.
pub const MAX_GAP: u64 = 19;
/// Certificates live five years; revocations accumulate over that span.
const FIVE_YEARS: i64 = 5 * 365 * 86_400;

/// Reason weights per mille; `None` is an entry without a reasonCode.
fn reason_table(h: Hierarchy) -> &'static [(Option<Reason>, u32)] {
    match h {
        Hierarchy::Sign => &[
            (Some(Reason::AffiliationChanged), 650),
            (Some(Reason::CessationOfOperation), 140),
            (Some(Reason::Superseded), 100),
            (None, 40),
            (Some(Reason::Unspecified), 30),
            (Some(Reason::KeyCompromise), 20),
            (Some(Reason::CertificateHold), 20),
        ],
        Hierarchy::Auth => &[
            (Some(Reason::CessationOfOperation), 420),
            (Some(Reason::Superseded), 250),
            (Some(Reason::CertificateHold), 200),
            (None, 50),
            (Some(Reason::Unspecified), 50),
            (Some(Reason::KeyCompromise), 30),
        ],
    }
}

fn pick_reason(h: Hierarchy, roll: u32) -> Option<Reason> {
    let mut acc = 0;
    for &(r, weight) in reason_table(h) {
        acc += weight;
        if roll < acc {
            return r;
        }
    }
    None
}

/// Generate the entries of one CA, in ascending serial order, calling `f`
/// for each. Deterministic from the spec.
pub fn for_each_entry(spec: &EntrySpec, mut f: impl FnMut(&GenEntry)) {
    let mut rng = rng_for(spec.seed, &format!("entries/{}", spec.label));
    let short = spec.count.saturating_sub(spec.long_serials);
    let start = spec.this_update.0 - FIVE_YEARS;
    let range = (short * (MAX_GAP + 1) / 2).max(1);
    let now = spec.this_update.0 - 60;
    let mut serial = spec.base_serial;
    let make = |rng: &mut rand_chacha::ChaCha20Rng, serial: Serial, pos: u64| {
        // Issue time grows with the serial; revocation falls between issue and now.
        let issued =
            start + i64::try_from(pos.min(range) * u64::try_from(FIVE_YEARS).unwrap_or(0) / range).unwrap_or(0);
        let issued = issued.min(now - 1);
        let revoked = Timestamp(rng.gen_range(issued..now));
        let reason = pick_reason(spec.hierarchy, rng.gen_range(0..1000));
        let invalidity = if reason == Some(Reason::KeyCompromise) || rng.gen_range(0..100) < 3 {
            let back = rng.gen_range(0..30 * 86_400);
            Some(Timestamp((revoked.0 - back).max(issued)))
        } else {
            None
        };
        let partition = if spec.partitions > 1 { rng.gen_range(0..spec.partitions) } else { 0 };
        GenEntry { serial, revoked, reason, invalidity, partition }
    };
    for _ in 0..short {
        serial += rng.gen_range(1..=MAX_GAP);
        let e = make(&mut rng, Serial::from_u64(serial), serial - spec.base_serial);
        f(&e);
    }
    // Long serials (16 to 20 octets): larger than every short one, so the
    // CRL stays in ascending order.
    let mut longs: Vec<Vec<u8>> = (0..spec.long_serials)
        .map(|_| {
            let len = rng.gen_range(16..=20usize);
            let mut b: Vec<u8> = (0..len).map(|_| rng.gen::<u8>()).collect();
            if let Some(first) = b.first_mut() {
                *first = (*first & 0x7f).max(1);
            }
            b
        })
        .collect();
    longs.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    longs.dedup();
    for b in longs {
        let s = Serial::from_der_integer(&b).unwrap_or(Serial::ZERO);
        let e = make(&mut rng, s, range);
        f(&e);
    }
}

fn push_time(out: &mut Vec<u8>, t: Timestamp) -> Result<(), GenError> {
    let (tag, content) = t.to_der_time().ok_or_else(|| GenError::Invalid(format!("time {t} out of range")))?;
    w::push_header(out, tag, content.len());
    out.extend_from_slice(&content);
    Ok(())
}

/// Append one revokedCertificates entry.
pub fn encode_entry(out: &mut Vec<u8>, e: &GenEntry) -> Result<(), GenError> {
    let mut body: Vec<u8> = Vec::with_capacity(64);
    let int = e.serial.to_der_integer();
    w::push_header(&mut body, 0x02, int.len());
    body.extend_from_slice(&int);
    push_time(&mut body, e.revoked)?;
    let mut exts: Vec<Vec<u8>> = Vec::new();
    if let Some(r) = e.reason {
        exts.push(w::extension(&[0x55, 0x1d, 0x15], false, &[0x0a, 0x01, r.code()]));
    }
    if let Some(t) = e.invalidity {
        let g = t.to_der_generalized_time().ok_or_else(|| GenError::Invalid(format!("time {t} out of range")))?;
        exts.push(w::extension(&[0x55, 0x1d, 0x18], false, &w::tlv(0x18, &g)));
    }
    if !exts.is_empty() {
        let refs: Vec<&[u8]> = exts.iter().map(Vec::as_slice).collect();
        body.extend_from_slice(&w::seq(&refs));
    }
    w::push_header(out, 0x30, body.len());
    out.extend_from_slice(&body);
    Ok(())
}

/// CRL-level parameters.
#[derive(Debug, Clone)]
pub struct CrlParams {
    pub this_update: Timestamp,
    pub next_update: Option<Timestamp>,
    pub crl_number: Option<u64>,
    /// deltaCRLIndicator BaseCRLNumber: makes this a delta CRL.
    pub delta_base: Option<u64>,
    /// issuingDistributionPoint value (DER SEQUENCE).
    pub idp: Option<Vec<u8>>,
    pub authority_key_id: bool,
    /// Extra complete Extension TLVs (for tests).
    pub extra_extensions: Vec<Vec<u8>>,
    /// Override the signature algorithm (default: the CA's).
    pub alg: Option<SigAlg>,
    /// Write a v1 CRL (no version field, no extensions).
    pub v1: bool,
}

impl CrlParams {
    /// A daily CRL: nextUpdate one day after thisUpdate.
    pub fn daily(this_update: Timestamp, crl_number: u64) -> Self {
        Self {
            this_update,
            next_update: Some(Timestamp(this_update.0 + 86_400)),
            crl_number: Some(crl_number),
            delta_base: None,
            idp: None,
            authority_key_id: true,
            extra_extensions: Vec::new(),
            alg: None,
            v1: false,
        }
    }
}

/// The per-municipality distribution point name of partition `i` (DER order:
/// C=JP, O=JPKI, OU=<hierarchy>, OU=CRL Distribution Points, OU=<prefecture>,
/// CN=<city> CRLDP).
pub fn partition_dp_name(h: Hierarchy, i: u32) -> Vec<u8> {
    const PREFECTURES: [&str; 47] = [
        "Hokkaido",
        "Aomori",
        "Iwate",
        "Miyagi",
        "Akita",
        "Yamagata",
        "Fukushima",
        "Ibaraki",
        "Tochigi",
        "Gunma",
        "Saitama",
        "Chiba",
        "Tokyo",
        "Kanagawa",
        "Niigata",
        "Toyama",
        "Ishikawa",
        "Fukui",
        "Yamanashi",
        "Nagano",
        "Gifu",
        "Shizuoka",
        "Aichi",
        "Mie",
        "Shiga",
        "Kyoto",
        "Osaka",
        "Hyogo",
        "Nara",
        "Wakayama",
        "Tottori",
        "Shimane",
        "Okayama",
        "Hiroshima",
        "Yamaguchi",
        "Tokushima",
        "Kagawa",
        "Ehime",
        "Kochi",
        "Fukuoka",
        "Saga",
        "Nagasaki",
        "Kumamoto",
        "Oita",
        "Miyazaki",
        "Kagoshima",
        "Okinawa",
    ];
    let pref = PREFECTURES.get(usize::try_from(i % 47).unwrap_or(0)).copied().unwrap_or("Tokyo");
    let city = format!("City{:04} CRLDP", i + 1);
    w::name(&[
        (attr::C, "JP"),
        (attr::O, "JPKI"),
        (attr::OU, h.ou()),
        (attr::OU, "CRL Distribution Points"),
        (attr::OU, pref),
        (attr::CN, &city),
    ])
}

/// issuingDistributionPoint value naming a directory-name distribution point.
pub fn idp_for_dirname(name: &[u8]) -> Vec<u8> {
    let dirname = w::cons(0xa4, &[name]);
    let full_name = w::cons(0xa0, &[&dirname]);
    let dp = w::cons(0xa0, &[&full_name]);
    w::seq(&[&dp])
}

/// Write a signed CRL whose revokedCertificates content is `entries` (the
/// concatenated entry encodings). Returns the bytes written.
pub fn write_crl<W: Write>(
    out: &mut W,
    ca: &Ca,
    params: &CrlParams,
    entries: &[u8],
    seed: u64,
) -> Result<u64, GenError> {
    let alg = params.alg.unwrap_or(ca.alg);
    let alg_id = alg.alg_id();
    let mut pre: Vec<u8> = Vec::new();
    if !params.v1 {
        pre.extend_from_slice(&w::uint(1));
    }
    pre.extend_from_slice(&alg_id);
    pre.extend_from_slice(&ca.subject_der);
    push_time(&mut pre, params.this_update)?;
    if let Some(n) = params.next_update {
        push_time(&mut pre, n)?;
    }
    let mut revoked_hdr = Vec::new();
    if !entries.is_empty() {
        w::push_header(&mut revoked_hdr, 0x30, entries.len());
    }
    let mut exts: Vec<Vec<u8>> = Vec::new();
    if params.authority_key_id {
        let aki = w::seq(&[&w::tlv(0x80, &ca.kid)]);
        exts.push(w::extension(&[0x55, 0x1d, 0x23], false, &aki));
    }
    if let Some(n) = params.crl_number {
        exts.push(w::extension(&[0x55, 0x1d, 0x14], false, &w::uint(n)));
    }
    if let Some(b) = params.delta_base {
        exts.push(w::extension(&[0x55, 0x1d, 0x1b], true, &w::uint(b)));
    }
    if let Some(idp) = &params.idp {
        exts.push(w::extension(&[0x55, 0x1d, 0x1c], true, idp));
    }
    exts.extend(params.extra_extensions.iter().cloned());
    let ext_block = if exts.is_empty() || params.v1 {
        Vec::new()
    } else {
        let refs: Vec<&[u8]> = exts.iter().map(Vec::as_slice).collect();
        w::cons(0xa0, &[&w::seq(&refs)])
    };
    let tbs_len = pre.len() + revoked_hdr.len() + entries.len() + ext_block.len();
    let mut tbs_hdr = Vec::new();
    w::push_header(&mut tbs_hdr, 0x30, tbs_len);
    let mut digest = alg.new_digest();
    for part in [&tbs_hdr[..], &pre, &revoked_hdr, entries, &ext_block] {
        digest.update(part);
    }
    let sig = ca.key.sign_digest(alg, &digest.finish(), seed)?;
    let mut sig_part = alg_id.clone();
    sig_part.extend_from_slice(&w::bits(&sig));
    let mut outer = Vec::new();
    w::push_header(&mut outer, 0x30, tbs_hdr.len() + tbs_len + sig_part.len());
    let mut written = 0u64;
    for part in [&outer[..], &tbs_hdr, &pre, &revoked_hdr, entries, &ext_block, &sig_part] {
        out.write_all(part).map_err(|e| GenError::Io(e.to_string()))?;
        written += part.len() as u64;
    }
    Ok(written)
}
