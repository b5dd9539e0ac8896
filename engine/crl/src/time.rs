//! Times: ASN.1 `Time` (RFC 5280 §4.1.2.5) to seconds since the Unix epoch,
//! and the RFC 3339 text form every output uses (`2026-11-26T03:00:00Z`).
//!
//! ```text
//! Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }
//! ```
//! RFC 5280 §5.1.2.4: UTCTime `YYMMDDHHMMSSZ` (YY >= 50 means 19YY, else 20YY);
//! GeneralizedTime `YYYYMMDDHHMMSSZ`, no fractional seconds. Both must be UTC
//! (`Z`) and include seconds. Departure: RFC 5280 says dates through 2049 MUST
//! be UTCTime; we accept either form for any year, as OpenSSL does, because
//! the value is unambiguous.

use std::fmt;

/// Seconds since 1970-01-01T00:00:00Z (UTC, no leap seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// Why a time string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeErrorKind {
    /// Not `YYMMDDHHMMSSZ` / `YYYYMMDDHHMMSSZ`.
    BadFormat,
    /// A field out of range (month 13, February 30, hour 24, ...).
    OutOfRange,
}

impl fmt::Display for TimeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BadFormat => "time is not in the DER form YYMMDDHHMMSSZ / YYYYMMDDHHMMSSZ",
            Self::OutOfRange => "time field out of range",
        })
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`). Valid for every year we can parse (0..=9999).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    // d in 1..=31 and m in 1..=12 by construction.
    (y, u32::try_from(m).unwrap_or(1), u32::try_from(d).unwrap_or(1))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    let days = usize::try_from(m).ok().and_then(|i| DAYS_IN_MONTH.get(i)).copied().unwrap_or(0);
    u32::from(days) + u32::from(m == 2 && is_leap(y))
}

#[inline]
fn two_digits(b: &[u8], i: usize) -> Option<u32> {
    let hi = b.get(i)?.wrapping_sub(b'0');
    let lo = b.get(i + 1)?.wrapping_sub(b'0');
    if hi > 9 || lo > 9 {
        return None;
    }
    Some(u32::from(hi) * 10 + u32::from(lo))
}

fn from_fields(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Result<Timestamp, TimeErrorKind> {
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59 {
        return Err(TimeErrorKind::OutOfRange);
    }
    let days = days_from_civil(y, mo, d);
    Ok(Timestamp(days * 86_400 + i64::from(h * 3600 + mi * 60 + s)))
}

/// Days in each month of a non-leap year, index 1..=12 (0 elsewhere, so an
/// out-of-range month fails the day check), padded to 128 for masked lookups.
#[allow(clippy::indexing_slicing)] // compile-time evaluation, i < 12
const DAYS_IN_MONTH: [u8; 128] = {
    let mut t = [0u8; 128];
    let d = [31u8, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut i = 0;
    while i < 12 {
        t[i + 1] = d[i];
        i += 1;
    }
    t
};

/// Days before each month of a non-leap year, index 1..=12, padded to 128:
/// the running sum of [`DAYS_IN_MONTH`].
#[allow(clippy::indexing_slicing)] // compile-time evaluation, i < 12
const CUMULATIVE_DAYS: [u16; 128] = {
    let mut t = [0u16; 128];
    let mut i = 1;
    while i < 12 {
        t[i + 1] = t[i] + DAYS_IN_MONTH[i] as u16;
        i += 1;
    }
    t
};

/// Days from 1970-01-01 to January 1st of 1950 + i, for the UTCTime years.
// Evaluated at compile time: `i < 100`, so neither the cast nor the index can fail.
#[allow(clippy::indexing_slicing, clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
const DAYS_TO_YEAR: [i32; 128] = {
    let mut t = [0i32; 128];
    let mut i = 0;
    while i < 100 {
        let y = 1950 + i as i32;
        let leaps_y = (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400;
        let leaps_1970 = 1969 / 4 - 1969 / 100 + 1969 / 400;
        t[i] = 365 * (y - 1970) + leaps_y - leaps_1970;
        i += 1;
    }
    t
};

/// Eight ASCII digits (little-endian load) to four two-digit values
/// (tens from the lower byte), or `None` if any byte is not a digit.
#[inline]
fn swar_pairs(x: u64) -> Option<u64> {
    const HI: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    const THREES: u64 = 0x3030_3030_3030_3030;
    // Every byte 0x30..=0x39: high nibble 3, and low nibble + 6 stays below 0x10.
    if x & HI != THREES || (x.wrapping_add(0x0606_0606_0606_0606) & HI) != THREES {
        return None;
    }
    let d = x & 0x0f0f_0f0f_0f0f_0f0f;
    // lane = tens * 10 + units, in 16-bit lanes.
    Some(((d & 0x00ff_00ff_00ff_00ff) * 10 + ((d >> 8) & 0x00ff_00ff_00ff_00ff)) & 0x00ff_00ff_00ff_00ff)
}

/// Parse the content octets of a DER UTCTime (`YYMMDDHHMMSSZ`). This is the
/// hot path of CRL parsing: every entry has one (inlined into the entry
/// decoder: as a call it cost a fifth more, measured).
#[inline(always)]
pub fn parse_utc_time(v: &[u8]) -> Result<Timestamp, TimeErrorKind> {
    let d: &[u8; 13] = v.try_into().map_err(|_| TimeErrorKind::BadFormat)?;
    let [a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, z] = *d;
    if z != b'Z' {
        return Err(TimeErrorKind::BadFormat);
    }
    let lo = swar_pairs(u64::from_le_bytes([a0, a1, a2, a3, a4, a5, a6, a7])).ok_or(TimeErrorKind::BadFormat)?;
    let hi =
        swar_pairs(u64::from_le_bytes([b0, b1, b2, b3, b'0', b'0', b'0', b'0'])).ok_or(TimeErrorKind::BadFormat)?;
    let lane = |x: u64, i: u32| u32::from(((x >> (16 * i)) & 0xff) as u8);
    let (yy, mo, day, h) = (lane(lo, 0), lane(lo, 1), lane(lo, 2), lane(lo, 3));
    let (mi, sec) = (lane(hi, 0), lane(hi, 1));
    // yy 50..=99 is 1950..=1999, 00..=49 is 2000..=2049 (no 2100 in range,
    // so every fourth year is a leap year).
    let idx = if yy >= 50 { yy - 50 } else { yy + 50 };
    let leap = u32::from(idx % 4 == 2);
    // Table lookups and non-short-circuit tests: months and days are random
    // across entries, so branches on them would mispredict.
    let m = (mo & 0x7f) as usize;
    let dim = u32::from(DAYS_IN_MONTH.get(m).copied().unwrap_or(0)) + (leap & u32::from(mo == 2));
    let valid = (mo.wrapping_sub(1) < 12) & (day.wrapping_sub(1) < dim) & (h < 24) & (mi < 60) & (sec < 60);
    if !valid {
        return Err(TimeErrorKind::OutOfRange);
    }
    let days = i64::from(DAYS_TO_YEAR.get((idx & 0x7f) as usize).copied().unwrap_or(0))
        + i64::from(CUMULATIVE_DAYS.get(m).copied().unwrap_or(0))
        + i64::from(leap & u32::from(mo > 2))
        + i64::from(day)
        - 1;
    Ok(Timestamp(days * 86_400 + i64::from(h * 3600 + mi * 60 + sec)))
}

/// Parse the content octets of a DER GeneralizedTime (`YYYYMMDDHHMMSSZ`).
pub fn parse_generalized_time(v: &[u8]) -> Result<Timestamp, TimeErrorKind> {
    if v.len() != 15 || v.get(14) != Some(&b'Z') {
        return Err(TimeErrorKind::BadFormat);
    }
    let f = |i| two_digits(v, i).ok_or(TimeErrorKind::BadFormat);
    let year = i64::from(f(0)? * 100 + f(2)?);
    from_fields(year, f(4)?, f(6)?, f(8)?, f(10)?, f(12)?)
}

impl Timestamp {
    /// RFC 3339 in UTC with a `Z` suffix, e.g. `2026-11-26T03:00:00Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }

    /// Parse RFC 3339 (`2026-11-26T03:00:00Z`, `2026-11-26T12:00:00+09:00`,
    /// fractional seconds truncated). A date alone (`2026-11-26`) means
    /// midnight UTC.
    pub fn parse_rfc3339(s: &str) -> Result<Self, String> {
        let b = s.trim().as_bytes();
        let bad = || format!("invalid time {s:?}: expected RFC 3339, e.g. 2026-11-26T03:00:00Z");
        let num = |i: usize, n: usize| -> Result<u32, String> {
            let part = b.get(i..i + n).ok_or_else(bad)?;
            if !part.iter().all(u8::is_ascii_digit) {
                return Err(bad());
            }
            Ok(part.iter().fold(0u32, |a, &c| a * 10 + u32::from(c - b'0')))
        };
        if b.len() < 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return Err(bad());
        }
        let (y, mo, d) = (i64::from(num(0, 4)?), num(5, 2)?, num(8, 2)?);
        if b.len() == 10 {
            return from_fields(y, mo, d, 0, 0, 0).map_err(|_| bad());
        }
        if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
            return Err(bad());
        }
        let (h, mi, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
        let mut i = 19;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return Err(bad());
            }
        }
        let offset_secs: i64 = match b.get(i..) {
            Some([b'Z' | b'z']) => 0,
            Some([sign @ (b'+' | b'-'), ..]) if b.len() == i + 6 && b.get(i + 3) == Some(&b':') => {
                let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
                if oh > 23 || om > 59 {
                    return Err(bad());
                }
                let v = i64::from(oh * 3600 + om * 60);
                if *sign == b'+' {
                    v
                } else {
                    -v
                }
            }
            _ => return Err(bad()),
        };
        let t = from_fields(y, mo, d, h, mi, sec).map_err(|_| bad())?;
        Ok(Timestamp(t.0 - offset_secs))
    }

    /// `(year, month, day, hour, minute, second)` in UTC.
    pub fn fields(self) -> (i64, u32, u32, u32, u32, u32) {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let s = u32::try_from(secs).unwrap_or(0);
        (y, m, d, s / 3600, (s % 3600) / 60, s % 60)
    }

    /// DER content of the RFC 5280 `Time` for this instant: UTCTime
    /// (`YYMMDDHHMMSSZ`) for 1950..=2049, GeneralizedTime otherwise.
    /// Returns `(tag, content)`; `None` outside years 0..=9999.
    pub fn to_der_time(self) -> Option<(u8, Vec<u8>)> {
        let (y, mo, d, h, mi, s) = self.fields();
        if (1950..=2049).contains(&y) {
            let yy = y % 100;
            Some((0x17, format!("{yy:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z").into_bytes()))
        } else {
            self.to_der_generalized_time().map(|g| (0x18, g))
        }
    }

    /// DER content of a GeneralizedTime (`YYYYMMDDHHMMSSZ`).
    pub fn to_der_generalized_time(self) -> Option<Vec<u8>> {
        let (y, mo, d, h, mi, s) = self.fields();
        (0..=9999).contains(&y).then(|| format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z").into_bytes())
    }

    /// The current time.
    pub fn now() -> Self {
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, (secs % 3600) / 60, secs % 60)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_time() {
        assert_eq!(parse_utc_time(b"700101000000Z").unwrap(), Timestamp(0));
        assert_eq!(parse_utc_time(b"491231235959Z").unwrap().to_string(), "2049-12-31T23:59:59Z");
        assert_eq!(parse_utc_time(b"500101000000Z").unwrap().to_string(), "1950-01-01T00:00:00Z");
        assert_eq!(parse_utc_time(b"240229120000Z").unwrap().to_string(), "2024-02-29T12:00:00Z");
        assert_eq!(parse_utc_time(b"230229120000Z"), Err(TimeErrorKind::OutOfRange));
        assert_eq!(parse_utc_time(b"231301000000Z"), Err(TimeErrorKind::OutOfRange));
        assert_eq!(parse_utc_time(b"2301010000Z"), Err(TimeErrorKind::BadFormat));
        assert_eq!(parse_utc_time(b"230101000000+"), Err(TimeErrorKind::BadFormat));
        assert_eq!(parse_utc_time(b"2301010000a0Z"), Err(TimeErrorKind::BadFormat));
        assert_eq!(parse_utc_time(b"230101240000Z"), Err(TimeErrorKind::OutOfRange));
    }

    #[test]
    fn utc_fast_path_matches_general_rule() {
        // Every day of 1950..=2049 at a few times of day, against the
        // GeneralizedTime decoder (which uses days_from_civil).
        let mut t = parse_generalized_time(b"19500101000000Z").unwrap().0;
        let end = parse_generalized_time(b"20500101000000Z").unwrap().0;
        while t < end {
            for secs in [0, 1, 3599, 43_210, 86_399] {
                let g = Timestamp(t + secs).to_der_generalized_time().unwrap();
                let u = g.get(2..).unwrap();
                assert_eq!(parse_utc_time(u).unwrap(), parse_generalized_time(&g).unwrap(), "{}", Timestamp(t + secs));
            }
            t += 86_400;
        }
    }

    #[test]
    fn generalized_time() {
        assert_eq!(parse_generalized_time(b"20501231235959Z").unwrap().to_string(), "2050-12-31T23:59:59Z");
        assert_eq!(parse_generalized_time(b"99991231235959Z").unwrap().to_string(), "9999-12-31T23:59:59Z");
        assert_eq!(parse_generalized_time(b"00000101000000Z").unwrap().to_string(), "0000-01-01T00:00:00Z");
        assert_eq!(parse_generalized_time(b"20501231235959.5Z"), Err(TimeErrorKind::BadFormat));
    }

    #[test]
    fn rfc3339_round_trip() {
        for s in ["2026-11-26T03:00:00Z", "1969-12-31T23:59:59Z", "2000-02-29T00:00:00Z"] {
            assert_eq!(Timestamp::parse_rfc3339(s).unwrap().to_string(), s);
        }
        assert_eq!(Timestamp::parse_rfc3339("2026-11-26T12:00:00+09:00").unwrap().to_string(), "2026-11-26T03:00:00Z");
        assert_eq!(Timestamp::parse_rfc3339("2026-11-26T03:00:00.999Z").unwrap().to_string(), "2026-11-26T03:00:00Z");
        assert_eq!(Timestamp::parse_rfc3339("2026-11-26").unwrap().to_string(), "2026-11-26T00:00:00Z");
        assert!(Timestamp::parse_rfc3339("2026-11-26T03:00:00").is_err());
        assert!(Timestamp::parse_rfc3339("yesterday").is_err());
    }

    #[test]
    fn civil_round_trip() {
        for days in (-800_000..3_000_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
