//! Certificate serial numbers, exactly (RFC 5280 §4.1.2.2).
//!
//! ```text
//! CertificateSerialNumber ::= INTEGER
//! ```
//! "Certificate users MUST be able to handle serialNumber values up to 20
//! octets. Conforming CAs MUST NOT use serialNumber values longer than 20
//! octets." Negative and zero serials exist in the wild: they are represented
//! exactly (sign + magnitude), never folded into a positive value: DER
//! `02 01 FF` is `-1`, DER `02 02 00 FF` is `ff`.
//!
//! Canonical text (shared/conventions.md): lowercase hex of the magnitude, no
//! leading zeros, `0` for zero, a leading `-` for negative values.

use std::fmt;

/// Largest magnitude we represent, in octets (RFC 5280's bound).
pub const MAX_SERIAL_OCTETS: usize = 20;

/// An exact serial number: sign and big-endian magnitude without leading
/// zeros. Zero has an empty magnitude and is never negative.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Serial {
    negative: bool,
    len: u8,
    mag: [u8; MAX_SERIAL_OCTETS],
}

/// Why a serial was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SerialError {
    /// No digits.
    Empty,
    /// A character that is not a hex digit or a separating colon.
    NotHex,
    /// More than 20 octets of magnitude.
    TooLong { octets: usize },
}

impl fmt::Display for SerialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty serial number"),
            Self::NotHex => f.write_str("serial number is not hexadecimal"),
            Self::TooLong { octets } => {
                write!(f, "serial number has {octets} octets of magnitude (maximum {MAX_SERIAL_OCTETS})")
            }
        }
    }
}

impl std::error::Error for SerialError {}

impl Serial {
    /// Zero.
    pub const ZERO: Serial = Serial { negative: false, len: 0, mag: [0; MAX_SERIAL_OCTETS] };

    /// From a sign and a big-endian magnitude (leading zeros allowed).
    pub fn from_magnitude(negative: bool, mag: &[u8]) -> Result<Self, SerialError> {
        let first = mag.iter().position(|&b| b != 0).unwrap_or(mag.len());
        let mag = mag.get(first..).unwrap_or_default();
        if mag.len() > MAX_SERIAL_OCTETS {
            return Err(SerialError::TooLong { octets: mag.len() });
        }
        let mut s = Serial::ZERO;
        if let Some(dst) = s.mag.get_mut(..mag.len()) {
            dst.copy_from_slice(mag);
        }
        s.len = u8::try_from(mag.len()).unwrap_or(0);
        s.negative = negative && !mag.is_empty();
        Ok(s)
    }

    /// From the content octets of a DER INTEGER (two's complement, big
    /// endian). The caller has checked DER minimality.
    pub fn from_der_integer(v: &[u8]) -> Result<Self, SerialError> {
        match v.first() {
            None => Err(SerialError::Empty),
            Some(b) if b & 0x80 == 0 => Self::from_magnitude(false, v),
            Some(_) => {
                // Negate the two's complement: invert and add one.
                if v.len() > MAX_SERIAL_OCTETS + 1 {
                    return Err(SerialError::TooLong { octets: v.len() });
                }
                let mut buf = [0u8; MAX_SERIAL_OCTETS + 1];
                let dst = buf.get_mut(..v.len()).ok_or(SerialError::TooLong { octets: v.len() })?;
                let mut carry = 1u16;
                for (d, &s) in dst.iter_mut().zip(v).rev() {
                    let x = u16::from(!s) + carry;
                    let [_, lo] = x.to_be_bytes();
                    *d = lo;
                    carry = x >> 8;
                }
                Self::from_magnitude(true, dst)
            }
        }
    }

    /// A non-negative serial from a `u64`.
    pub fn from_u64(v: u64) -> Self {
        let bytes = v.to_be_bytes();
        // Cannot fail: 8 octets.
        Self::from_magnitude(false, &bytes).unwrap_or(Serial::ZERO)
    }

    /// The value as a `u64` when it is non-negative and fits.
    #[inline]
    pub fn to_u64(&self) -> Option<u64> {
        if self.negative || usize::from(self.len) > 8 {
            return None;
        }
        Some(self.magnitude().iter().fold(0u64, |a, &b| (a << 8) | u64::from(b)))
    }

    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Big-endian magnitude without leading zeros (empty for zero).
    pub fn magnitude(&self) -> &[u8] {
        self.mag.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// The DER INTEGER content octets (minimal two's complement).
    pub fn to_der_integer(&self) -> Vec<u8> {
        let mag = self.magnitude();
        if mag.is_empty() {
            return vec![0];
        }
        if !self.negative {
            let mut out = Vec::with_capacity(mag.len() + 1);
            if mag.first().is_some_and(|b| b & 0x80 != 0) {
                out.push(0);
            }
            out.extend_from_slice(mag);
            return out;
        }
        // Two's complement of the magnitude with one extra sign octet, then
        // strip redundant leading 0xff octets.
        let mut out = vec![0u8; mag.len() + 1];
        let mut carry = 1u16;
        for (d, &s) in out.iter_mut().skip(1).zip(mag).rev() {
            let x = u16::from(!s) + carry;
            let [_, lo] = x.to_be_bytes();
            *d = lo;
            carry = x >> 8;
        }
        if let Some(first) = out.first_mut() {
            *first = if carry == 1 { 0 } else { 0xff };
        }
        while out.len() > 1 && out.first() == Some(&0xff) && out.get(1).is_some_and(|b| b & 0x80 != 0) {
            out.remove(0);
        }
        out
    }

    /// Parse the accepted input forms: hex in either case, leading zeros,
    /// colon separators between digits, a leading `-`.
    pub fn parse_hex(s: &str) -> Result<Self, SerialError> {
        let b = s.as_bytes();
        let (negative, digits) = match b {
            [b'-', rest @ ..] => (true, rest),
            _ => (false, b),
        };
        if digits.is_empty() {
            return Err(SerialError::Empty);
        }
        if digits.first() == Some(&b':') || digits.last() == Some(&b':') {
            return Err(SerialError::NotHex);
        }
        // Collect nibbles, skipping leading zeros.
        let mut nibbles = [0u8; 2 * MAX_SERIAL_OCTETS];
        let mut n = 0usize;
        let mut prev_colon = false;
        for &c in digits {
            let v = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                b':' if !prev_colon => {
                    prev_colon = true;
                    continue;
                }
                _ => return Err(SerialError::NotHex),
            };
            prev_colon = false;
            if n == 0 && v == 0 {
                continue;
            }
            match nibbles.get_mut(n) {
                Some(slot) => *slot = v,
                None => {
                    // Too long: count the rest for the message.
                    n += 1;
                    continue;
                }
            }
            n += 1;
        }
        if n > 2 * MAX_SERIAL_OCTETS {
            return Err(SerialError::TooLong { octets: n.div_ceil(2) });
        }
        let mut mag = [0u8; MAX_SERIAL_OCTETS];
        let octets = n.div_ceil(2);
        let nib = nibbles.get(..n).unwrap_or_default();
        // Right-align the nibbles into octets.
        let mut j = octets;
        let mut i = n;
        while i > 0 {
            j -= 1;
            let lo = nib.get(i - 1).copied().unwrap_or(0);
            let hi = if i >= 2 { nib.get(i - 2).copied().unwrap_or(0) } else { 0 };
            if let Some(slot) = mag.get_mut(j) {
                *slot = (hi << 4) | lo;
            }
            i = i.saturating_sub(2);
        }
        Self::from_magnitude(negative, mag.get(..octets).unwrap_or_default())
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mag = self.magnitude();
        if mag.is_empty() {
            return f.write_str("0");
        }
        if self.negative {
            f.write_str("-")?;
        }
        let mut iter = mag.iter();
        if let Some(first) = iter.next() {
            write!(f, "{first:x}")?;
        }
        for b in iter {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Serial({self})")
    }
}

impl std::str::FromStr for Serial {
    type Err = SerialError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Serial::parse_hex(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_forms_are_distinct() {
        assert_eq!(Serial::from_der_integer(&[0xff]).unwrap().to_string(), "-1");
        assert_eq!(Serial::from_der_integer(&[0x00, 0xff]).unwrap().to_string(), "ff");
        assert_eq!(Serial::from_der_integer(&[0x00]).unwrap().to_string(), "0");
        assert_eq!(Serial::from_der_integer(&[0x80]).unwrap().to_string(), "-80");
        assert_eq!(Serial::from_der_integer(&[0xff, 0x7f]).unwrap().to_string(), "-81");
        assert_eq!(Serial::from_der_integer(&[0x01, 0x00]).unwrap().to_u64(), Some(256));
        assert_eq!(Serial::from_der_integer(&[0xff]).unwrap().to_u64(), None);
    }

    #[test]
    fn der_round_trip() {
        for v in
            [&[0x00][..], &[0x7f], &[0x00, 0x80], &[0xff], &[0x80], &[0xff, 0x7f], &[0x80, 0x00], &[0x01, 0x02, 0x03]]
        {
            assert_eq!(Serial::from_der_integer(v).unwrap().to_der_integer(), v, "{v:x?}");
        }
        let mut twenty = vec![0x00];
        twenty.extend([0xab; 20]);
        let s = Serial::from_der_integer(&twenty).unwrap();
        assert_eq!(s.magnitude().len(), 20);
        assert_eq!(s.to_der_integer(), twenty);
        assert_eq!(Serial::from_der_integer(&[0x01; 21]), Err(SerialError::TooLong { octets: 21 }));
    }

    #[test]
    fn hex_input_forms() {
        let want = Serial::from_u64(0x01a2ff);
        for s in ["1a2ff", "01A2FF", "0001a2ff", "01:A2:FF", "1:a2:ff"] {
            assert_eq!(Serial::parse_hex(s).unwrap(), want, "{s}");
        }
        assert_eq!(Serial::parse_hex("0").unwrap(), Serial::ZERO);
        assert_eq!(Serial::parse_hex("000").unwrap().to_string(), "0");
        assert_eq!(Serial::parse_hex("-0").unwrap(), Serial::ZERO);
        assert_eq!(Serial::parse_hex("-1").unwrap(), Serial::from_der_integer(&[0xff]).unwrap());
        assert_eq!(Serial::parse_hex(""), Err(SerialError::Empty));
        assert_eq!(Serial::parse_hex("-"), Err(SerialError::Empty));
        assert_eq!(Serial::parse_hex("12g4"), Err(SerialError::NotHex));
        assert_eq!(Serial::parse_hex(":12"), Err(SerialError::NotHex));
        assert_eq!(Serial::parse_hex("12::34"), Err(SerialError::NotHex));
        assert_eq!(Serial::parse_hex("0x12"), Err(SerialError::NotHex));
        assert_eq!(Serial::parse_hex(&"f".repeat(40)).unwrap().magnitude().len(), 20);
        assert_eq!(Serial::parse_hex(&format!("0000{}", "f".repeat(40))).unwrap().magnitude().len(), 20);
        assert_eq!(Serial::parse_hex(&"f".repeat(41)), Err(SerialError::TooLong { octets: 21 }));
        assert_eq!(Serial::parse_hex("abc").unwrap().to_string(), "abc");
    }
}
