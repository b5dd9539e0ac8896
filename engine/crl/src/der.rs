//! Strict DER reading primitives (X.690 §10) over borrowed bytes.
//!
//! Every read carries the absolute byte offset of what it reads, so errors can
//! say *where* the input is wrong. Only the definite, minimal length forms are
//! accepted; high tag numbers (`0x1f`) are refused because nothing in a CRL
//! needs them. Nothing here allocates.

use std::fmt;

/// Tags used in RFC 5280 CRLs and certificates.
pub(crate) mod tag {
    pub const BOOLEAN: u8 = 0x01;
    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const ENUMERATED: u8 = 0x0a;
    pub const UTC_TIME: u8 = 0x17;
    pub const GENERALIZED_TIME: u8 = 0x18;
    pub const SEQUENCE: u8 = 0x30;
    pub const SET: u8 = 0x31;
    /// `[0]` constructed (EXPLICIT or constructed IMPLICIT).
    pub const CTX_0: u8 = 0xa0;
    pub const CTX_1: u8 = 0xa1;
    pub const CTX_2: u8 = 0xa2;
    pub const CTX_3: u8 = 0xa3;
    /// `[0]` primitive (IMPLICIT over a primitive type).
    pub const CTX_PRIM_0: u8 = 0x80;
}

/// What is wrong with a piece of DER.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DerErrorKind {
    /// The input ends before the element does.
    Truncated,
    /// A different tag was found than the structure requires.
    UnexpectedTag { expected: u8, found: u8 },
    /// Indefinite length (`0x80`) is BER, not DER.
    IndefiniteLength,
    /// A long-form length that could have been shorter.
    NonMinimalLength,
    /// A length with more octets than any input we accept can need.
    LengthTooLarge,
    /// A high-tag-number form tag (`0x1f` low bits).
    HighTagNumber,
    /// An INTEGER with no content octets.
    EmptyInteger,
    /// An INTEGER whose first nine bits are all equal (not minimal).
    NonMinimalInteger,
    /// A BOOLEAN that is not one octet of `0x00` or `0xff`.
    InvalidBoolean,
    /// A DEFAULT FALSE BOOLEAN encoded explicitly as FALSE (DER forbids it).
    DefaultValueEncoded,
    /// Bytes left over inside a constructed element after its last field.
    TrailingData,
    /// A BIT STRING whose unused-bits octet is invalid.
    InvalidBitString,
    /// An OBJECT IDENTIFIER that is empty or not minimally encoded.
    InvalidOid,
    /// A SEQUENCE/SET that must not be empty is empty.
    EmptySequence,
}

impl fmt::Display for DerErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("truncated DER element"),
            Self::UnexpectedTag { expected, found } => {
                write!(f, "expected tag 0x{expected:02x}, found 0x{found:02x}")
            }
            Self::IndefiniteLength => f.write_str("indefinite length is not DER"),
            Self::NonMinimalLength => f.write_str("non-minimal length encoding"),
            Self::LengthTooLarge => f.write_str("length field too large"),
            Self::HighTagNumber => f.write_str("high tag number form not supported"),
            Self::EmptyInteger => f.write_str("INTEGER with no content"),
            Self::NonMinimalInteger => f.write_str("INTEGER not minimally encoded"),
            Self::InvalidBoolean => f.write_str("BOOLEAN must be 0x00 or 0xff"),
            Self::DefaultValueEncoded => f.write_str("DEFAULT value encoded explicitly"),
            Self::TrailingData => f.write_str("unexpected data after the last field"),
            Self::InvalidBitString => f.write_str("invalid BIT STRING"),
            Self::InvalidOid => f.write_str("invalid OBJECT IDENTIFIER"),
            Self::EmptySequence => f.write_str("SEQUENCE must not be empty"),
        }
    }
}

/// A DER error at an absolute byte offset of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DerError {
    pub offset: u64,
    pub kind: DerErrorKind,
}

impl fmt::Display for DerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for DerError {}

pub(crate) type DerResult<T> = Result<T, DerError>;

/// Lengths above this are refused by the header reader (more than 8 length
/// octets cannot be represented, and nothing we read is that large anyway).
const MAX_LENGTH_OCTETS: usize = 8;

/// A decoded tag-length header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub tag: u8,
    /// Length of the content octets.
    pub len: u64,
    /// Length of the tag + length octets.
    pub header_len: usize,
}

/// Decode a tag and a definite, minimal length at the start of `buf`.
/// `offset` is the absolute offset of `buf[0]`, used for errors only.
/// Returns `Truncated` if the header itself does not fit in `buf`.
#[inline]
pub(crate) fn read_header(buf: &[u8], offset: u64) -> DerResult<Header> {
    let err = |kind| DerError { offset, kind };
    let (&tag, rest) = buf.split_first().ok_or(err(DerErrorKind::Truncated))?;
    if tag & 0x1f == 0x1f {
        return Err(err(DerErrorKind::HighTagNumber));
    }
    let (&first, rest) = rest.split_first().ok_or(err(DerErrorKind::Truncated))?;
    if first < 0x80 {
        return Ok(Header { tag, len: u64::from(first), header_len: 2 });
    }
    if first == 0x80 {
        return Err(err(DerErrorKind::IndefiniteLength));
    }
    let n = usize::from(first & 0x7f);
    if n > MAX_LENGTH_OCTETS {
        return Err(err(DerErrorKind::LengthTooLarge));
    }
    let octets = rest.get(..n).ok_or(err(DerErrorKind::Truncated))?;
    let mut len: u64 = 0;
    for &b in octets {
        len = (len << 8) | u64::from(b);
    }
    // X.690 §10.1: the definite form with the minimum number of octets.
    if octets.first() == Some(&0) || len < 0x80 {
        return Err(err(DerErrorKind::NonMinimalLength));
    }
    Ok(Header { tag, len, header_len: 2 + n })
}

/// A cursor over a complete DER region held in memory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Absolute offset of `buf[0]` in the whole input.
    base: u64,
}

/// One element read by a [`Reader`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    /// The content octets.
    pub value: &'a [u8],
    /// The whole element, header included.
    pub raw: &'a [u8],
    /// Absolute offset of the tag octet.
    pub offset: u64,
}

impl<'a> Tlv<'a> {
    /// Absolute offset of the first content octet.
    pub fn value_offset(&self) -> u64 {
        self.offset + (self.raw.len() - self.value.len()) as u64
    }

    /// A reader over the content octets.
    pub fn reader(&self) -> Reader<'a> {
        Reader::new(self.value, self.value_offset())
    }

    pub fn error(&self, kind: DerErrorKind) -> DerError {
        DerError { offset: self.offset, kind }
    }
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], base: u64) -> Self {
        Self { buf, pos: 0, base }
    }

    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn error(&self, kind: DerErrorKind) -> DerError {
        DerError { offset: self.offset(), kind }
    }

    /// The tag of the next element, if any.
    #[inline]
    pub fn peek_tag(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// Read the next element, whatever its tag.
    #[inline]
    pub fn read_any(&mut self) -> DerResult<Tlv<'a>> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        let offset = self.offset();
        let h = read_header(rest, offset)?;
        let total = usize::try_from(h.len)
            .ok()
            .and_then(|l| l.checked_add(h.header_len))
            .ok_or(DerError { offset, kind: DerErrorKind::Truncated })?;
        let raw = rest.get(..total).ok_or(DerError { offset, kind: DerErrorKind::Truncated })?;
        let value = raw.get(h.header_len..).unwrap_or_default();
        self.pos += total;
        Ok(Tlv { tag: h.tag, value, raw, offset })
    }

    /// Read the next element and require its tag.
    #[inline]
    pub fn read(&mut self, expected: u8) -> DerResult<Tlv<'a>> {
        let offset = self.offset();
        match self.peek_tag() {
            None => Err(DerError { offset, kind: DerErrorKind::Truncated }),
            Some(found) if found != expected => {
                Err(DerError { offset, kind: DerErrorKind::UnexpectedTag { expected, found } })
            }
            Some(_) => self.read_any(),
        }
    }

    /// Read the next element only if it has the given tag.
    #[inline]
    pub fn read_optional(&mut self, tag: u8) -> DerResult<Option<Tlv<'a>>> {
        if self.peek_tag() == Some(tag) {
            self.read_any().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Require that everything was consumed.
    pub fn finish(&self) -> DerResult<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(DerErrorKind::TrailingData))
        }
    }
}

/// Check an INTEGER's content octets for DER minimality (X.690 §8.3.2).
#[inline]
pub(crate) fn check_integer(tlv: &Tlv<'_>) -> DerResult<()> {
    match tlv.value {
        [] => Err(tlv.error(DerErrorKind::EmptyInteger)),
        [0x00, next, ..] if next & 0x80 == 0 => Err(tlv.error(DerErrorKind::NonMinimalInteger)),
        [0xff, next, ..] if next & 0x80 != 0 => Err(tlv.error(DerErrorKind::NonMinimalInteger)),
        _ => Ok(()),
    }
}

/// Read a non-negative INTEGER that fits in a `u64`; `None` if it is negative
/// or too large. Errors only on malformed DER.
pub(crate) fn read_small_uint(tlv: &Tlv<'_>) -> DerResult<Option<u64>> {
    check_integer(tlv)?;
    let v = tlv.value;
    if v.first().is_some_and(|b| b & 0x80 != 0) {
        return Ok(None);
    }
    let v = match v {
        [0, rest @ ..] => rest,
        _ => v,
    };
    if v.len() > 8 {
        return Ok(None);
    }
    Ok(Some(v.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))))
}

/// DER BOOLEAN: exactly one octet, 0x00 or 0xff.
pub(crate) fn read_bool(tlv: &Tlv<'_>) -> DerResult<bool> {
    match tlv.value {
        [0x00] => Ok(false),
        [0xff] => Ok(true),
        _ => Err(tlv.error(DerErrorKind::InvalidBoolean)),
    }
}

/// Validate an OBJECT IDENTIFIER's content octets: non-empty, each arc
/// minimally encoded (no leading 0x80), last octet terminates an arc.
pub(crate) fn check_oid(tlv: &Tlv<'_>) -> DerResult<()> {
    let v = tlv.value;
    let bad = || tlv.error(DerErrorKind::InvalidOid);
    if v.last().is_none_or(|b| b & 0x80 != 0) {
        return Err(bad());
    }
    let mut arc_start = true;
    for &b in v {
        if arc_start && b == 0x80 {
            return Err(bad());
        }
        arc_start = b & 0x80 == 0;
    }
    Ok(())
}

/// Render OID content octets in dotted form (for messages and JSON).
pub fn oid_to_string(v: &[u8]) -> String {
    let mut arcs: Vec<u128> = Vec::new();
    let mut acc: u128 = 0;
    for &b in v {
        acc = acc.saturating_mul(128).saturating_add(u128::from(b & 0x7f));
        if b & 0x80 == 0 {
            arcs.push(acc);
            acc = 0;
        }
    }
    let mut out = String::new();
    for (i, arc) in arcs.iter().enumerate() {
        if i == 0 {
            let (a, b) = match *arc {
                x if x < 40 => (0, x),
                x if x < 80 => (1, x - 40),
                x => (2, x - 80),
            };
            out.push_str(&format!("{a}.{b}"));
        } else {
            out.push_str(&format!(".{arc}"));
        }
    }
    out
}

/// A BIT STRING's payload when it has no unused bits (signatures, keys).
pub(crate) fn bit_string_octets<'a>(tlv: &Tlv<'a>) -> DerResult<&'a [u8]> {
    match tlv.value {
        [0, rest @ ..] => Ok(rest),
        _ => Err(tlv.error(DerErrorKind::InvalidBitString)),
    }
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_forms() {
        assert_eq!(read_header(&[0x30, 0x05], 0).unwrap().len, 5);
        let h = read_header(&[0x30, 0x82, 0x01, 0x00], 0).unwrap();
        assert_eq!((h.len, h.header_len), (256, 4));
        assert_eq!(
            read_header(&[0x30, 0x81, 0x05], 7).unwrap_err(),
            DerError { offset: 7, kind: DerErrorKind::NonMinimalLength }
        );
        assert_eq!(read_header(&[0x30, 0x82, 0x00, 0x90], 0).unwrap_err().kind, DerErrorKind::NonMinimalLength);
        assert_eq!(read_header(&[0x30, 0x80], 0).unwrap_err().kind, DerErrorKind::IndefiniteLength);
        assert_eq!(read_header(&[0x3f, 0x01], 0).unwrap_err().kind, DerErrorKind::HighTagNumber);
        assert_eq!(read_header(&[0x30], 0).unwrap_err().kind, DerErrorKind::Truncated);
        assert_eq!(
            read_header(&[0x30, 0x89, 1, 1, 1, 1, 1, 1, 1, 1, 1], 0).unwrap_err().kind,
            DerErrorKind::LengthTooLarge
        );
    }

    #[test]
    fn integers() {
        let mut r = Reader::new(&[0x02, 0x02, 0x00, 0x7f], 10);
        let t = r.read(tag::INTEGER).unwrap();
        assert_eq!(check_integer(&t).unwrap_err(), DerError { offset: 10, kind: DerErrorKind::NonMinimalInteger });
        let mut r = Reader::new(&[0x02, 0x02, 0x00, 0xff], 0);
        assert_eq!(read_small_uint(&r.read(tag::INTEGER).unwrap()).unwrap(), Some(255));
        let mut r = Reader::new(&[0x02, 0x01, 0xff], 0);
        assert_eq!(read_small_uint(&r.read(tag::INTEGER).unwrap()).unwrap(), None);
    }

    #[test]
    fn oids() {
        assert_eq!(oid_to_string(&[0x55, 0x1d, 0x15]), "2.5.29.21");
        assert_eq!(
            oid_to_string(&[0x2a, 0x83, 0x08, 0x8c, 0x9a, 0x4b, 0x3d, 0x01, 0x01, 0x01]),
            "1.2.392.200011.61.1.1.1"
        );
        let mut r = Reader::new(&[0x06, 0x02, 0x80, 0x01], 0);
        assert!(check_oid(&r.read(tag::OID).unwrap()).is_err());
    }
}
