//! Differences between two snapshots of one issuer's index: serials newly
//! revoked, and serials no longer listed (a lifted certificateHold, or an
//! entry dropped after its certificate expired).

use crlbatch_crl::Serial;

use crate::error::IndexError;
use crate::index::{Revocation, RevocationIndex};

/// The difference `new - old`.
#[derive(Debug, Clone, Default)]
pub struct IndexDiff {
    /// Listed in `new`, not in `old`, with the new entry.
    pub added: Vec<(Serial, Revocation)>,
    /// Listed in `old`, not in `new`, with the old entry.
    pub removed: Vec<(Serial, Revocation)>,
    /// Listed in both with a different reason or time.
    pub changed: Vec<(Serial, Revocation, Revocation)>,
}

/// Compare two indexes of the same issuer key.
pub fn diff(old: &RevocationIndex, new: &RevocationIndex) -> Result<IndexDiff, IndexError> {
    if old.meta().issuer_kid != new.meta().issuer_kid {
        return Err(IndexError::IssuerMismatch {
            left: old.meta().issuer_kid.clone(),
            right: new.meta().issuer_kid.clone(),
        });
    }
    let mut out = IndexDiff::default();
    let added = new.members() - old.members();
    let removed = old.members() - new.members();
    for s in added.iter() {
        if let Some(r) = new.lookup_u64(s) {
            out.added.push((Serial::from_u64(s), r));
        }
    }
    for s in removed.iter() {
        if let Some(r) = old.lookup_u64(s) {
            out.removed.push((Serial::from_u64(s), r));
        }
    }
    let both = new.members() & old.members();
    for s in both.iter() {
        if let (Some(a), Some(b)) = (old.lookup_u64(s), new.lookup_u64(s)) {
            if a != b {
                out.changed.push((Serial::from_u64(s), a, b));
            }
        }
    }
    for r in new.long_serials() {
        match old.lookup(&r.serial) {
            None => out.added.push((r.serial, r.revocation)),
            Some(a) if a != r.revocation => out.changed.push((r.serial, a, r.revocation)),
            Some(_) => {}
        }
    }
    for r in old.long_serials() {
        if new.lookup(&r.serial).is_none() {
            out.removed.push((r.serial, r.revocation));
        }
    }
    Ok(out)
}
