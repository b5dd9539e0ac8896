//! One index from the indexes of a CA's partition CRLs (each verified on
//! its own when it was fetched).

use crlbatch_crl::{EntryColumns, LongEntry};

use crate::index::RevocationIndex;
use crate::meta::IndexMeta;

/// Merge partition indexes of one issuer. `meta` lists every partition's
/// CRL; counts are filled in. A serial listed by two partitions keeps the
/// earliest revocation (as within one CRL) and counts as a duplicate.
pub fn merge(meta: IndexMeta, parts: &[&RevocationIndex]) -> RevocationIndex {
    let mut cols = EntryColumns::default();
    let mut ordinal = 0u64;
    for p in parts {
        let base = u32::try_from(cols.serials.len()).unwrap_or(u32::MAX);
        let (times, reasons) = p.columns();
        cols.serials.extend(crate::rank::SortedMembers::new(&p.members));
        cols.times.extend_from_slice(&times);
        cols.reasons.extend_from_slice(&reasons);
        cols.time_overflow.extend(p.time_overflow.iter().map(|&(r, t)| (r.saturating_add(base), t)));
        cols.invalidity.extend(p.invalidity.iter().map(|&(r, t)| (r.saturating_add(base), t)));
        for l in &p.long {
            cols.long.push(LongEntry {
                serial: l.serial,
                revocation_time: l.revocation.revocation_time,
                reason: l.revocation.reason,
                invalidity_time: l.revocation.invalidity_time,
                ordinal,
            });
            ordinal += 1;
        }
    }
    let mut merged = RevocationIndex::build(meta, cols);
    merged.meta.duplicates += parts.iter().map(|p| p.meta.duplicates).sum::<u64>();
    merged
}
