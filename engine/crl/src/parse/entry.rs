//! revokedCertificates entries: the hot path.
//!
//! ```text
//! revokedCertificates     SEQUENCE OF SEQUENCE  {
//!      userCertificate         CertificateSerialNumber,
//!      revocationDate          Time,
//!      crlEntryExtensions      Extensions OPTIONAL
//!                               -- if present, version MUST be v2
//!                           }  OPTIONAL,
//! ```
//! Entries are decoded into columns (serial, time code, reason), with no heap
//! allocation per entry. Serials that are non-negative and fit in 64 bits
//! (every JPKI serial we know of) take the fast path; all others are kept
//! exactly in [`LongEntry`].
//!
//! Entry extensions (RFC 5280 §5.3): reasonCode and invalidityDate are
//! decoded; holdInstructionCode and unknown non-critical extensions are
//! ignored; certificateIssuer (an indirect CRL) and any unknown critical
//! extension reject the CRL.

use crate::der::{self, tag, DerError, DerErrorKind, Reader};
use crate::error::CrlError;
use crate::oid;
use crate::reason::{self, Reason};
use crate::serial::{Serial, SerialError};
use crate::time::{self, Timestamp};

/// Time codes are seconds since this instant (1950-01-01T00:00:00Z, the
/// earliest UTCTime), so every UTCTime up to 2086 fits in a `u32`.
pub const TIME_BASE: i64 = -631_152_000;
/// A time code meaning "not representable; see the exceptions list".
pub const TIME_OVERFLOW: u32 = u32::MAX;

/// Encode a time as a `u32` code, or [`TIME_OVERFLOW`].
#[inline]
pub fn time_code(t: Timestamp) -> u32 {
    u32::try_from(t.0 - TIME_BASE).ok().filter(|&c| c != TIME_OVERFLOW).unwrap_or(TIME_OVERFLOW)
}

/// Decode a time code that is not [`TIME_OVERFLOW`].
#[inline]
pub fn time_from_code(c: u32) -> Timestamp {
    Timestamp(TIME_BASE + i64::from(c))
}

/// An entry whose serial does not fit the `u64` fast path (negative, or more
/// than 8 octets), kept exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongEntry {
    pub serial: Serial,
    pub revocation_time: Timestamp,
    pub reason: Option<Reason>,
    pub invalidity_time: Option<Timestamp>,
    /// Position of the entry in the CRL (0-based entry number).
    pub ordinal: u64,
}

/// Decoded entries in CRL order, as columns.
#[derive(Debug, Default, Clone)]
pub struct EntryColumns {
    /// Fast-path serials.
    pub serials: Vec<u64>,
    /// Revocation time codes, parallel to `serials`.
    pub times: Vec<u32>,
    /// Reason octets ([`reason::NO_REASON`] when absent), parallel to `serials`.
    pub reasons: Vec<u8>,
    /// Revocation times that do not fit a time code: (index into `serials`, time).
    pub time_overflow: Vec<(u32, Timestamp)>,
    /// Invalidity dates: (index into `serials`, time).
    pub invalidity: Vec<(u32, Timestamp)>,
    /// Entries off the fast path.
    pub long: Vec<LongEntry>,
}

impl EntryColumns {
    /// Entries in total.
    pub fn len(&self) -> u64 {
        (self.serials.len() + self.long.len()) as u64
    }

    pub fn is_empty(&self) -> bool {
        self.serials.is_empty() && self.long.is_empty()
    }

    /// Empty every column, keeping the allocations.
    pub fn clear(&mut self) {
        self.serials.clear();
        self.times.clear();
        self.reasons.clear();
        self.time_overflow.clear();
        self.invalidity.clear();
        self.long.clear();
    }

    /// Append a copy of `other` (which follows `self` in CRL order).
    pub fn extend_from(&mut self, other: &EntryColumns) -> Result<(), CrlError> {
        let base =
            u32::try_from(self.serials.len()).map_err(|_| CrlError::TooManyEntries { limit: u64::from(u32::MAX) })?;
        self.serials.extend_from_slice(&other.serials);
        self.times.extend_from_slice(&other.times);
        self.reasons.extend_from_slice(&other.reasons);
        self.time_overflow.extend(other.time_overflow.iter().map(|&(i, t)| (i + base, t)));
        self.invalidity.extend(other.invalidity.iter().map(|&(i, t)| (i + base, t)));
        self.long.extend_from_slice(&other.long);
        Ok(())
    }

    /// Count entries per reason: index = code (0..=10), 11 = no reasonCode.
    pub fn reason_counts(&self) -> [u64; 12] {
        let mut counts = [0u64; 12];
        let mut bump = |r: u8| {
            let slot = if r == reason::NO_REASON { 11 } else { usize::from(r.min(10)) };
            if let Some(c) = counts.get_mut(slot) {
                *c += 1;
            }
        };
        for &r in &self.reasons {
            bump(r);
        }
        for e in &self.long {
            bump(reason::reason_to_u8(e.reason));
        }
        counts
    }
}

/// Receives decoded entries, batch by batch, in CRL order, on the thread
/// that called the parser (while the reader thread keeps hashing). Indexes
/// in `time_overflow` and `invalidity` are relative to the batch; ordinals
/// of long entries are absolute.
pub trait EntrySink {
    /// A hint, before the first batch: about how many entries will follow.
    fn reserve(&mut self, _entries: usize) {}

    /// One batch; the parser reuses its buffers afterwards.
    fn accept(&mut self, batch: &EntryColumns) -> Result<(), CrlError>;
}

impl EntrySink for EntryColumns {
    fn reserve(&mut self, entries: usize) {
        self.serials.reserve(entries);
        self.times.reserve(entries);
        self.reasons.reserve(entries);
    }

    fn accept(&mut self, batch: &EntryColumns) -> Result<(), CrlError> {
        self.extend_from(batch)
    }
}

/// The fixed encoding of an entry extension list holding only a reasonCode:
/// `30 0c 30 0a 06 03 55 1d 15 04 03 0a 01 XX`.
const REASON_ONLY_PREFIX: [u8; 13] = [0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01];

/// Most extensions one entry may carry (a bound for duplicate detection).
const MAX_ENTRY_EXTENSIONS: usize = 16;

fn time_err(offset: u64) -> impl Fn(time::TimeErrorKind) -> CrlError {
    move |kind| CrlError::InvalidTime { offset, kind }
}

/// Read a Time (UTCTime or GeneralizedTime).
#[inline]
pub(crate) fn read_time(r: &mut Reader<'_>) -> Result<Timestamp, CrlError> {
    let t = r.read_any()?;
    match t.tag {
        tag::UTC_TIME => time::parse_utc_time(t.value).map_err(time_err(t.offset)),
        tag::GENERALIZED_TIME => time::parse_generalized_time(t.value).map_err(time_err(t.offset)),
        found => Err(t.error(DerErrorKind::UnexpectedTag { expected: tag::UTC_TIME, found }).into()),
    }
}

fn reason_from_enumerated(v: &[u8], offset: u64) -> Result<Reason, CrlError> {
    let mut r = Reader::new(v, offset);
    let e = r.read(tag::ENUMERATED)?;
    r.finish()?;
    der::check_integer(&e)?;
    let code = match e.value {
        [c] => *c,
        _ => return Err(CrlError::InvalidReasonCode { offset: e.offset, code: der::hex(e.value) }),
    };
    Reason::from_code(code).ok_or(CrlError::InvalidReasonCode { offset: e.offset, code: code.to_string() })
}

/// The general path for crlEntryExtensions.
fn entry_extensions(exts: &der::Tlv<'_>) -> Result<(Option<Reason>, Option<Timestamp>), CrlError> {
    let mut reason = None;
    let mut invalidity = None;
    let mut seen: [&[u8]; MAX_ENTRY_EXTENSIONS] = [&[]; MAX_ENTRY_EXTENSIONS];
    let mut n_seen = 0usize;
    let mut r = exts.reader();
    if r.is_empty() {
        return Err(exts.error(DerErrorKind::EmptySequence).into());
    }
    while !r.is_empty() {
        let super::ext::Extension { tlv: ext, id, critical, value } = super::ext::read_extension(&mut r)?;
        if seen.get(..n_seen).unwrap_or_default().contains(&id.value) {
            return Err(CrlError::DuplicateExtension { offset: ext.offset, oid: der::oid_to_string(id.value) });
        }
        match seen.get_mut(n_seen) {
            Some(slot) => *slot = id.value,
            None => {
                return Err(CrlError::InvalidExtension {
                    offset: ext.offset,
                    what: "too many crlEntryExtensions in one",
                })
            }
        }
        n_seen += 1;
        match id.value {
            x if x == oid::REASON_CODE => reason = Some(reason_from_enumerated(value.value, value.value_offset())?),
            x if x == oid::INVALIDITY_DATE => {
                let mut vr = value.reader();
                let g = vr.read(tag::GENERALIZED_TIME)?;
                vr.finish()?;
                invalidity = Some(time::parse_generalized_time(g.value).map_err(time_err(g.offset))?);
            }
            x if x == oid::CERTIFICATE_ISSUER => return Err(CrlError::IndirectCrl { offset: ext.offset }),
            x if x == oid::HOLD_INSTRUCTION_CODE => {}
            _ if critical => {
                return Err(CrlError::UnknownCriticalExtension {
                    offset: ext.offset,
                    oid: der::oid_to_string(id.value),
                })
            }
            _ => {}
        }
    }
    Ok((reason, invalidity))
}

/// Walk the entries of a revokedCertificates region (whole entries only)
/// without decoding them: the DER boundary scan. Returns their number.
/// Public for the micro-benchmarks (`benches/micro`).
pub fn scan_entries(region: &[u8]) -> Result<u64, CrlError> {
    let mut r = Reader::new(region, 0);
    let mut n = 0u64;
    while !r.is_empty() {
        r.read(tag::SEQUENCE)?;
        n += 1;
    }
    Ok(n)
}

/// Decode the entries of a revokedCertificates region (whole entries only)
/// into columns, as the parser's workers do. Public for the
/// micro-benchmarks (`benches/micro`).
pub fn decode_entries(region: &[u8], out: &mut EntryColumns) -> Result<(), CrlError> {
    parse_entries(region, 0, 0, true, out)
}

/// [`decode_entries`] with the general decoder only, never the fast path:
/// for the `entries` fuzz target, which checks that both give the same
/// columns and the same error on any bytes.
#[doc(hidden)]
pub fn decode_entries_general(region: &[u8], out: &mut EntryColumns) -> Result<(), CrlError> {
    let mut r = Reader::new(region, 0);
    let mut ordinal = 0u64;
    while !r.is_empty() {
        let entry = r.read(tag::SEQUENCE)?;
        parse_entry(&entry, ordinal, true, out)?;
        ordinal += 1;
    }
    Ok(())
}

/// Parse complete entries in `buf` (which holds whole entries only) into
/// `out`. `base` is the absolute offset of `buf[0]`; `ordinal` the entry
/// number of the first entry.
pub(crate) fn parse_entries(
    buf: &[u8],
    base: u64,
    ordinal: u64,
    allow_extensions: bool,
    out: &mut EntryColumns,
) -> Result<(), CrlError> {
    let mut pos = 0usize;
    let mut ordinal = ordinal;
    while let Some(rest) = buf.get(pos..).filter(|r| !r.is_empty()) {
        if let Some(fast) = fast_entry(rest, allow_extensions) {
            if let Some(t) = fast.invalidity {
                let idx = u32::try_from(out.serials.len())
                    .map_err(|_| CrlError::TooManyEntries { limit: u64::from(u32::MAX) })?;
                out.invalidity.push((idx, t));
            }
            out.serials.push(fast.serial);
            out.times.push(fast.time_code);
            out.reasons.push(fast.reason);
            pos += fast.len;
        } else {
            let mut r = Reader::new(rest, base + pos as u64);
            let entry = r.read(tag::SEQUENCE)?;
            parse_entry(&entry, ordinal, allow_extensions, out)?;
            pos += entry.raw.len();
        }
        ordinal += 1;
    }
    Ok(())
}

/// An entry decoded by [`fast_entry`].
struct FastEntry {
    len: usize,
    serial: u64,
    time_code: u32,
    reason: u8,
    invalidity: Option<Timestamp>,
}

/// A reasonCode extension up to its code (`REASON_ONLY_PREFIX` without
/// the list's SEQUENCE header: `30 0a 06 03 55 1d 15 04 03 0a 01`) as two
/// overlapping little-endian words (bytes 0..8 and 3..11), compared without
/// a call to `memcmp`.
const REASON_WORDS: (u64, u64) = {
    let p = REASON_ONLY_PREFIX;
    (
        u64::from_le_bytes([p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9]]),
        u64::from_le_bytes([p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12]]),
    )
};

/// An invalidityDate extension up to its GeneralizedTime content (15 bytes
/// follow): `30 18 06 03 55 1d 18 04 11 18 0f`.
const INVALIDITY_PREFIX: [u8; 11] = [0x30, 0x18, 0x06, 0x03, 0x55, 0x1d, 0x18, 0x04, 0x11, 0x18, 0x0f];

/// A reasonCode extension in its usual encoding: the code.
fn reason_ext(b: &[u8]) -> Option<u8> {
    let (w, code) = b.split_first_chunk::<11>()?;
    let lo = u64::from_le_bytes(*w.first_chunk::<8>()?);
    let hi = u64::from_le_bytes(*w.last_chunk::<8>()?);
    match code {
        [c] if (lo, hi) == REASON_WORDS => Some(Reason::from_code(*c)?.code()),
        _ => None,
    }
}

/// An invalidityDate extension in its usual encoding.
fn invalidity_ext(b: &[u8]) -> Option<Timestamp> {
    let (prefix, time) = b.split_first_chunk::<11>()?;
    if *prefix != INVALIDITY_PREFIX || time.len() != 15 {
        return None;
    }
    time::parse_generalized_time(time).ok()
}

/// The common layouts, decoded straight from the bytes: short-form
/// lengths, a non-negative serial of at most 8 magnitude octets (minimal
/// DER), a UTCTime, and as extensions none, a reasonCode, an invalidityDate,
/// or a reasonCode then an invalidityDate, each in its usual encoding.
/// Anything else (including anything malformed) returns `None`, and the
/// general decoder handles it with exact errors.
#[inline]
fn fast_entry(b: &[u8], allow_extensions: bool) -> Option<FastEntry> {
    let (&t0, &l0) = (b.first()?, b.get(1)?);
    if t0 != tag::SEQUENCE || l0 >= 0x80 {
        return None;
    }
    let len = 2 + usize::from(l0);
    let e = b.get(..len)?;
    let (&st, &sl) = (e.get(2)?, e.get(3)?);
    let sl = usize::from(sl);
    if st != tag::INTEGER || !(1..=9).contains(&sl) {
        return None;
    }
    // Where the magnitude starts and its length (1..=8).
    let (m0, mlen) = match (e.get(4)?, e.get(5)) {
        // A leading zero is only minimal alone (zero) or before a high bit.
        (0, _) if sl == 1 => (4, 1),
        (0, Some(&c1)) if c1 & 0x80 != 0 => (5, sl - 1),
        (0, _) => return None,
        (&c0, _) if c0 & 0x80 != 0 || sl == 9 => return None,
        _ => (4, sl),
    };
    // One big-endian load: the UTCTime after the serial guarantees 8 bytes.
    let word = u64::from_be_bytes(*e.get(m0..)?.first_chunk::<8>()?);
    let serial = word >> (64 - 8 * mlen);
    let t = e.get(4 + sl..)?;
    if t.first() != Some(&tag::UTC_TIME) || t.get(1) != Some(&13) {
        return None;
    }
    let secs = time::parse_utc_time(t.get(2..15)?).ok()?;
    let ext = t.get(15..)?;
    let (reason, invalidity) = match ext {
        [] => (reason::NO_REASON, None),
        _ if !allow_extensions => return None,
        // SEQUENCE { reasonCode }
        [0x30, 0x0c, r @ ..] => (reason_ext(r)?, None),
        // SEQUENCE { reasonCode, invalidityDate }
        [0x30, 0x26, r @ ..] => {
            let (rsn, inv) = r.split_at_checked(12)?;
            (reason_ext(rsn)?, Some(invalidity_ext(inv)?))
        }
        // SEQUENCE { invalidityDate }
        [0x30, 0x1a, inv @ ..] => (reason::NO_REASON, Some(invalidity_ext(inv)?)),
        _ => return None,
    };
    Some(FastEntry { len, serial, time_code: time_code(secs), reason, invalidity })
}

#[inline]
fn parse_entry(
    entry: &der::Tlv<'_>,
    ordinal: u64,
    allow_extensions: bool,
    out: &mut EntryColumns,
) -> Result<(), CrlError> {
    let mut r = entry.reader();
    let serial = r.read(tag::INTEGER)?;
    der::check_integer(&serial)?;
    let revoked = read_time(&mut r)?;
    let (reason, invalidity) = if r.is_empty() {
        (None, None)
    } else {
        let rest = entry
            .value
            .get(usize::try_from(r.offset() - entry.value_offset()).unwrap_or(usize::MAX)..)
            .unwrap_or_default();
        if !allow_extensions {
            return Err(CrlError::ExtensionsInV1 { offset: r.offset() });
        }
        // Fast path: a lone reasonCode extension, byte for byte.
        match rest.split_at_checked(REASON_ONLY_PREFIX.len()) {
            Some((prefix, [code])) if prefix == REASON_ONLY_PREFIX && Reason::from_code(*code).is_some() => {
                (Reason::from_code(*code), None)
            }
            _ => {
                let exts = r.read(tag::SEQUENCE)?;
                r.finish()?;
                entry_extensions(&exts)?
            }
        }
    };
    // Fast path: non-negative and at most 8 magnitude octets.
    let v = serial.value;
    let fast = match v {
        [0, rest @ ..] if rest.len() <= 8 => Some(rest),
        [first, ..] if first & 0x80 == 0 && v.len() <= 8 => Some(v),
        _ => None,
    };
    match fast {
        Some(mag) => {
            let value = mag.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b));
            let idx = u32::try_from(out.serials.len())
                .map_err(|_| CrlError::TooManyEntries { limit: u64::from(u32::MAX) })?;
            out.serials.push(value);
            let code = time_code(revoked);
            if code == TIME_OVERFLOW {
                out.time_overflow.push((idx, revoked));
            }
            out.times.push(code);
            out.reasons.push(reason::reason_to_u8(reason));
            if let Some(t) = invalidity {
                out.invalidity.push((idx, t));
            }
        }
        None => {
            let s = Serial::from_der_integer(v).map_err(|e| match e {
                SerialError::TooLong { octets } => CrlError::SerialTooLong { offset: serial.offset, octets },
                _ => CrlError::Der(DerError { offset: serial.offset, kind: DerErrorKind::EmptyInteger }),
            })?;
            out.long.push(LongEntry {
                serial: s,
                revocation_time: revoked,
                reason,
                invalidity_time: invalidity,
                ordinal,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A typical generated entry: serial 3baa0c4d, 2025-02-21T17:53:52Z,
    /// reasonCode cessationOfOperation.
    const ENTRY: &[u8] = &[
        0x30, 0x23, 0x02, 0x04, 0x3b, 0xaa, 0x0c, 0x4d, 0x17, 0x0d, b'2', b'5', b'0', b'2', b'2', b'1', b'1', b'7',
        b'5', b'3', b'5', b'2', b'Z', 0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01,
        0x05,
    ];

    #[test]
    fn fast_path_takes_the_common_layout() {
        let f = fast_entry(ENTRY, true).expect("fast path");
        assert_eq!(f.len, ENTRY.len());
        assert_eq!(f.serial, 0x3baa_0c4d);
        assert_eq!(time_from_code(f.time_code).to_string(), "2025-02-21T17:53:52Z");
        assert_eq!(f.reason, 5);
        // Without extensions allowed (a v1 CRL) the general path must decide.
        assert!(fast_entry(ENTRY, false).is_none());
    }

    #[test]
    fn fast_and_general_paths_agree() {
        let mut fast = EntryColumns::default();
        parse_entries(ENTRY, 0, 0, true, &mut fast).unwrap();
        let mut general = EntryColumns::default();
        let mut r = Reader::new(ENTRY, 0);
        parse_entry(&r.read(tag::SEQUENCE).unwrap(), 0, true, &mut general).unwrap();
        assert_eq!(fast.serials, general.serials);
        assert_eq!(fast.times, general.times);
        assert_eq!(fast.reasons, general.reasons);
    }

    #[test]
    fn fast_path_refuses_non_minimal_and_negative_serials() {
        let mut e = ENTRY.to_vec();
        // 02 04 00 2a ..: a leading zero before a clear high bit is not DER.
        e[4] = 0x00;
        e[5] = 0x2a;
        assert!(fast_entry(&e, true).is_none());
        let mut cols = EntryColumns::default();
        assert!(matches!(
            parse_entries(&e, 100, 0, true, &mut cols),
            Err(CrlError::Der(DerError { offset: 102, kind: DerErrorKind::NonMinimalInteger }))
        ));
        // 02 04 bb ..: negative, goes to the exact path.
        let mut n = ENTRY.to_vec();
        n[4] = 0xbb;
        assert!(fast_entry(&n, true).is_none());
        let mut cols = EntryColumns::default();
        parse_entries(&n, 0, 7, true, &mut cols).unwrap();
        assert_eq!(cols.long.len(), 1);
        assert_eq!(cols.long[0].serial.to_string(), "-4455f3b3");
        assert_eq!(cols.long[0].ordinal, 7);
    }

    /// An entry: serial content octets, UTCTime text, extension list DER.
    fn entry_der(serial: &[u8], utc: &str, exts: &[u8]) -> Vec<u8> {
        let mut body = vec![0x02, u8::try_from(serial.len()).unwrap()];
        body.extend_from_slice(serial);
        body.extend_from_slice(&[0x17, 13]);
        body.extend_from_slice(utc.as_bytes());
        body.extend_from_slice(exts);
        let mut e = vec![0x30, u8::try_from(body.len()).unwrap()];
        e.extend(body);
        e
    }

    fn reason_ext(code: u8) -> Vec<u8> {
        vec![0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01, code]
    }

    fn invalidity_ext(generalized: &str) -> Vec<u8> {
        let mut v = INVALIDITY_PREFIX.to_vec();
        v.extend_from_slice(generalized.as_bytes());
        v
    }

    fn list(parts: &[Vec<u8>]) -> Vec<u8> {
        let body = parts.concat();
        let mut v = vec![0x30, u8::try_from(body.len()).unwrap()];
        v.extend(body);
        v
    }

    /// Decode one entry with the general decoder only.
    fn general(e: &[u8]) -> Result<EntryColumns, CrlError> {
        let mut cols = EntryColumns::default();
        let mut r = Reader::new(e, 0);
        parse_entry(&r.read(tag::SEQUENCE)?, 0, true, &mut cols)?;
        Ok(cols)
    }

    fn same(a: &EntryColumns, b: &EntryColumns) -> bool {
        (&a.serials, &a.times, &a.reasons, &a.time_overflow, &a.invalidity, &a.long)
            == (&b.serials, &b.times, &b.reasons, &b.time_overflow, &b.invalidity, &b.long)
    }

    #[test]
    fn fast_path_agrees_with_the_general_decoder_on_every_layout() {
        let serials: &[&[u8]] = &[
            &[0x00],
            &[0x01],
            &[0x7f],
            &[0x00, 0x80],
            &[0x01, 0x00],
            &[0x12, 0x34, 0x56],
            &[0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01],
        ];
        let inv = invalidity_ext("20250101120000Z");
        let fast_layouts: Vec<Vec<u8>> = vec![
            Vec::new(),
            list(&[reason_ext(1)]),
            list(&[reason_ext(3)]),
            list(&[reason_ext(6)]),
            list(&[reason_ext(10)]),
            list(&[reason_ext(0), inv.clone()]),
            list(&[reason_ext(1), inv.clone()]),
            list(std::slice::from_ref(&inv)),
        ];
        let mut taken = 0;
        for serial in serials {
            for exts in &fast_layouts {
                let e = entry_der(serial, "250221175352Z", exts);
                let f = fast_entry(&e, true).unwrap_or_else(|| panic!("fast path for {e:02x?}"));
                assert_eq!(f.len, e.len());
                let mut cols = EntryColumns::default();
                parse_entries(&e, 0, 0, true, &mut cols).unwrap();
                assert!(same(&cols, &general(&e).unwrap()), "{e:02x?}");
                taken += 1;
            }
        }
        assert_eq!(taken, serials.len() * fast_layouts.len());
        let mut cols = EntryColumns::default();
        parse_entries(
            &entry_der(&[0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], "250221175352Z", &[]),
            0,
            0,
            true,
            &mut cols,
        )
        .unwrap();
        assert_eq!(cols.serials, [u64::MAX]);
        let mut cols = EntryColumns::default();
        parse_entries(
            &entry_der(&[0x01, 0x00], "250221175352Z", &list(&[reason_ext(1), inv.clone()])),
            0,
            0,
            true,
            &mut cols,
        )
        .unwrap();
        assert_eq!((cols.serials[0], cols.reasons[0]), (256, 1));
        assert_eq!(cols.invalidity, [(0, Timestamp::parse_rfc3339("2025-01-01T12:00:00Z").unwrap())]);

        // Layouts the fast path leaves to the general decoder, which decides.
        let mut critical_reason = reason_ext(1);
        critical_reason.splice(7..7, [0x01, 0x01, 0xff]);
        critical_reason[1] += 3;
        let others: Vec<(Vec<u8>, bool)> = vec![
            // invalidityDate before reasonCode: fine, another order.
            (list(&[inv.clone(), reason_ext(1)]), true),
            // reasonCode marked critical: fine (a known extension).
            (list(&[critical_reason]), true),
            // reason code 7 is unused in RFC 5280: an error.
            (list(&[reason_ext(7)]), false),
            // Two reasonCodes: an error.
            (list(&[reason_ext(1), reason_ext(1)]), false),
            // A malformed invalidityDate (month 13): an error.
            (list(&[reason_ext(1), invalidity_ext("20251301120000Z")]), false),
            (list(&[invalidity_ext("20251301120000Z")]), false),
        ];
        for (exts, ok) in others {
            let e = entry_der(&[0x01, 0x00], "250221175352Z", &exts);
            assert!(fast_entry(&e, true).is_none(), "{e:02x?}");
            let mut cols = EntryColumns::default();
            let r = parse_entries(&e, 0, 0, true, &mut cols);
            assert_eq!(r.is_ok(), ok, "{e:02x?}: {r:?}");
            if ok {
                assert!(same(&cols, &general(&e).unwrap()));
            }
        }
        // Without extensions allowed (v1), every entry with some is general.
        let e = entry_der(&[0x01], "250221175352Z", &list(&[inv]));
        assert!(fast_entry(&e, false).is_none());
    }
}
