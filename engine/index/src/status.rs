//! The verdict for one serial against one issuer's index at a time.

use crlbatch_crl::{Serial, Timestamp};

use crate::index::{Revocation, RevocationIndex};

/// Revocation status of a certificate, by its serial, at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Not listed on a fresh, verified, complete CRL set of its issuer key.
    Good,
    /// Listed.
    Revoked(Revocation),
    /// No basis for an answer; the string says why.
    Unknown(String),
}

impl Status {
    /// `good`, `revoked` or `unknown`.
    pub fn name(&self) -> &'static str {
        match self {
            Status::Good => "good",
            Status::Revoked(_) => "revoked",
            Status::Unknown(_) => "unknown",
        }
    }
}

impl RevocationIndex {
    /// The status of `serial` at `at`. Every verdict needs every CRL of the
    /// index to be fresh at `at`; otherwise it is `unknown` for every serial
    /// (a stale CRL may list a hold that has since been lifted, and cannot
    /// show revocations made after it).
    pub fn status(&self, serial: &Serial, at: Timestamp) -> Status {
        if let Err(why) = self.meta.usable_at(at) {
            return Status::Unknown(why);
        }
        match self.lookup(serial) {
            Some(r) => Status::Revoked(r),
            None => Status::Good,
        }
    }
}

/// Count serials listed more than once (for summaries of raw CRLs).
pub fn count_duplicates(cols: &crlbatch_crl::EntryColumns) -> u64 {
    let mut dups = 0u64;
    let sorted = cols.serials.windows(2).all(|w| matches!(w, [a, b] if a < b));
    if !sorted {
        let mut v = cols.serials.clone();
        v.sort_unstable();
        dups += v.windows(2).filter(|w| matches!(w, [a, b] if a == b)).count() as u64;
    }
    let mut long: Vec<&Serial> = cols.long.iter().map(|e| &e.serial).collect();
    long.sort();
    dups += long.windows(2).filter(|w| matches!(w, [a, b] if a == b)).count() as u64;
    dups
}
