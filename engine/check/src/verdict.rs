//! The verdict for one certificate role (auth or sign).
//!
//! - `revoked`: listed on a fresh, verified, complete CRL set of its issuer
//!   key (even when also past notAfter: the listing says more);
//! - `expired`: past its notAfter at the evaluation time (and not listed);
//! - `good`: not listed on a fresh, verified, complete CRL set;
//! - `unknown`: anything else, with the reason. Never `good` without proof.

use crlbatch_crl::Reason;
use crlbatch_index::{Revocation, RevocationIndex};

use crate::issuers::{IssuerState, Issuers};

/// Status of a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CertStatus {
    Good,
    Revoked,
    Expired,
    Unknown,
}

impl CertStatus {
    pub fn name(self) -> &'static str {
        match self {
            CertStatus::Good => "good",
            CertStatus::Revoked => "revoked",
            CertStatus::Expired => "expired",
            CertStatus::Unknown => "unknown",
        }
    }

    pub const ALL: [CertStatus; 4] = [CertStatus::Good, CertStatus::Revoked, CertStatus::Expired, CertStatus::Unknown];
}

/// Why a status is unknown: an issuer's detail, or an unknown issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownWhy {
    /// The issuer slot's own detail (stale, rejected, ...).
    Issuer(usize),
    /// No CRL is configured for this issuer key.
    UnknownIssuer,
    /// The partition covering the certificate's distribution point (issuer
    /// slot, partition) is stale or has no CRL.
    Partition(usize, u32),
    /// No partition CRL of the issuer (slot) covers the certificate's
    /// distribution point.
    Uncovered(usize),
}

/// How a record's distribution point placed a certificate among its
/// issuer's partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartRes {
    /// Judged by the issuer as a whole (no distribution point given, or the
    /// issuer is not partitioned).
    Issuer,
    /// Its partition is fresh: judged against the issuer's index.
    Fresh,
    /// Its partition (this number) is stale or missing.
    Stale(u32),
    /// No partition covers it.
    Uncovered,
}

/// The verdict of one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub status: CertStatus,
    pub revocation: Option<Revocation>,
    pub why: Option<UnknownWhy>,
}

impl Verdict {
    pub fn reason(&self) -> Option<Reason> {
        self.revocation.and_then(|r| r.reason)
    }
}

/// Hex digit values; 0xff for anything else.
// Compile-time evaluation: indexes are below 128 and values below 16.
#[allow(clippy::indexing_slicing, clippy::cast_possible_truncation)]
const HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// The serial of a record, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SerialKey {
    U64(u64),
    Exact(crlbatch_crl::Serial),
}

impl SerialKey {
    /// Parse with a fast path for plain hex of at most 16 significant digits;
    /// everything else goes through `Serial::parse_hex` (colons, `-`, long).
    #[inline]
    pub fn parse(s: &str) -> Result<SerialKey, crlbatch_crl::SerialError> {
        let b = s.as_bytes();
        if !b.is_empty() && b.len() <= 16 {
            // Branch-free: hex digits are random, so a branch per character
            // would mispredict half the time. Invalid characters set bit 4+.
            let mut v: u64 = 0;
            let mut bad: u8 = 0;
            for &c in b {
                let d = HEX.get(usize::from(c)).copied().unwrap_or(0xff);
                bad |= d;
                v = (v << 4) | u64::from(d & 0x0f);
            }
            if bad & 0xf0 == 0 {
                return Ok(SerialKey::U64(v));
            }
        }
        let serial = crlbatch_crl::Serial::parse_hex(s)?;
        Ok(match serial.to_u64() {
            Some(v) => SerialKey::U64(v),
            None => SerialKey::Exact(serial),
        })
    }

    pub fn to_serial(self) -> crlbatch_crl::Serial {
        match self {
            SerialKey::U64(v) => crlbatch_crl::Serial::from_u64(v),
            SerialKey::Exact(s) => s,
        }
    }
}

/// The verdict against a fresh, verified, complete CRL: listed or not.
#[inline]
fn against_fresh_crl(found: Option<Revocation>, expired: bool) -> Verdict {
    match found {
        Some(r) => Verdict { status: CertStatus::Revoked, revocation: Some(r), why: None },
        None if expired => Verdict { status: CertStatus::Expired, revocation: None, why: None },
        None => Verdict { status: CertStatus::Good, revocation: None, why: None },
    }
}

/// The verdict without a usable CRL: `unknown` with why (an expired
/// certificate is `expired` whatever its CRL).
#[inline]
fn without_crl(why: UnknownWhy, expired: bool) -> Verdict {
    if expired {
        Verdict { status: CertStatus::Expired, revocation: None, why: None }
    } else {
        Verdict { status: CertStatus::Unknown, revocation: None, why: Some(why) }
    }
}

/// Judge one certificate. `slot` is the issuer's slot (`None`: not
/// configured); times are microseconds since the epoch; the lookup in the
/// issuer's index is left to `find` (the bulk check locates a whole batch
/// of serials first).
#[inline]
pub fn judge_with(
    issuers: &Issuers,
    slot: Option<usize>,
    not_after: Option<i64>,
    at_micros: i64,
    find: impl FnOnce(&RevocationIndex) -> Option<Revocation>,
) -> Verdict {
    // RFC 5280 §4.1.2.5: the validity period includes notAfter.
    let expired = not_after.is_some_and(|na| at_micros > na);
    let unknown = |why| without_crl(why, expired);
    let Some(s) = slot else { return unknown(UnknownWhy::UnknownIssuer) };
    let Some(issuer) = issuers.get(s) else { return unknown(UnknownWhy::UnknownIssuer) };
    match &issuer.state {
        IssuerState::Unusable(_) => unknown(UnknownWhy::Issuer(s)),
        IssuerState::Ready { usable: Err(_), .. } => unknown(UnknownWhy::Issuer(s)),
        IssuerState::Ready { index, usable: Ok(()), .. } => against_fresh_crl(find(index), expired),
    }
}

/// Judge one certificate placed among its issuer's partitions by its
/// distribution point (see [`PartRes`]); `found` is its lookup in the
/// issuer's index when its partition is fresh.
#[inline]
pub fn judge_part(
    issuers: &Issuers,
    slot: Option<usize>,
    part: PartRes,
    not_after: Option<i64>,
    at_micros: i64,
    found: Option<Revocation>,
) -> Verdict {
    let expired = not_after.is_some_and(|na| at_micros > na);
    let unknown = |why| without_crl(why, expired);
    match (part, slot) {
        (PartRes::Issuer, _) | (_, None) => judge_with(issuers, slot, not_after, at_micros, |_| found),
        (PartRes::Fresh, Some(_)) => against_fresh_crl(found, expired),
        (PartRes::Stale(p), Some(s)) => unknown(UnknownWhy::Partition(s, p)),
        (PartRes::Uncovered, Some(s)) => unknown(UnknownWhy::Uncovered(s)),
    }
}

/// The text of an unknown verdict's reason.
pub fn why_text(issuers: &Issuers, why: UnknownWhy, kid_hex: &str) -> String {
    match why {
        UnknownWhy::UnknownIssuer => format!("unknown issuer {kid_hex}: no CRL configured for this key"),
        UnknownWhy::Issuer(s) => match issuers.get(s).map(|i| &i.state) {
            Some(IssuerState::Unusable(d)) => d.clone(),
            Some(IssuerState::Ready { usable: Err(d), .. }) => d.clone(),
            _ => "unknown".to_owned(),
        },
        UnknownWhy::Partition(s, p) => {
            let part = issuers.get(s).and_then(|i| match &i.state {
                IssuerState::Ready { partitions: Some(t), .. } => t.get(p),
                _ => None,
            });
            match part {
                Some(x) => {
                    format!("partition {}: {}", x.name, x.state.as_ref().err().map_or("not fresh", String::as_str))
                }
                None => "partition not fresh".to_owned(),
            }
        }
        UnknownWhy::Uncovered(s) => {
            let missing = issuers.get(s).and_then(|i| match &i.state {
                IssuerState::Ready { partitions: Some(t), .. } if !t.unnamed_missing.is_empty() => {
                    Some(t.unnamed_missing.join(", "))
                }
                _ => None,
            });
            match missing {
                Some(m) => format!("no CRL partition covers its distribution point (no CRL from {m})"),
                None => "no CRL partition of its issuer covers its distribution point".to_owned(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_fast_path_matches_exact_parser() {
        for s in [
            "1",
            "0",
            "00ff",
            "FFFFFFFFFFFFFFFF",
            "3baa0c4d",
            "01:A2:FF",
            "-1",
            "10000000000000000",
            "abcdefabcdefabcdef12",
        ] {
            let fast = SerialKey::parse(s).unwrap().to_serial();
            assert_eq!(fast, crlbatch_crl::Serial::parse_hex(s).unwrap(), "{s}");
        }
        assert!(SerialKey::parse("").is_err());
        assert!(SerialKey::parse("xyz").is_err());
        assert!(SerialKey::parse("12 34").is_err());
        assert!(matches!(SerialKey::parse("-5"), Ok(SerialKey::Exact(_))));
    }
}
