//! Membership of ascending serials, built container by container.
//!
//! A roaring bitmap splits 32-bit values into containers of 65,536 (the
//! high 16 bits are the key): up to 4,096 values are an array, more a
//! 65,536-bit bitmap. Appending serials one by one fills an array first and
//! converts it when it passes 4,096 — with JPKI-like density (about one
//! serial in ten, 6,500 per container) nearly every container is converted.
//! Here the serials of one container are collected first; a container that
//! will be a bitmap is then made from its bits in one step, an array one is
//! appended as before. The result is the same treemap (same containers, so
//! the same serialization; a test compares them).

use roaring::{RoaringBitmap, RoaringTreemap};

use crlbatch_crl::CrlError;

/// Most values of an array container (roaring's limit).
const ARRAY_LIMIT: usize = 4096;
/// Bytes of a bitmap container.
const CONTAINER_BYTES: usize = 65_536 / 8;

/// Strictly ascending u64 serials on their way into a treemap.
#[derive(Debug, Default)]
pub(crate) struct AscendingMembers {
    /// One bitmap per high 32 bits, ascending.
    bitmaps: Vec<(u32, RoaringBitmap)>,
    /// `serial >> 16` of the container being collected.
    key: u64,
    /// Its values' low 16 bits, ascending.
    pending: Vec<u16>,
    /// Scratch bits of one container (zero between uses).
    bits: Vec<u8>,
}

fn internal(what: &str) -> CrlError {
    CrlError::Io(format!("internal: {what}"))
}

impl AscendingMembers {
    /// Add serials, strictly ascending and above every serial added before
    /// (the caller checks both).
    pub(crate) fn extend(&mut self, serials: &[u64]) -> Result<(), CrlError> {
        for &s in serials {
            let key = s >> 16;
            if key != self.key && !self.pending.is_empty() {
                self.flush()?;
            }
            self.key = key;
            self.pending.push((s & 0xffff) as u16);
        }
        Ok(())
    }

    /// Move the collected container into its bitmap.
    fn flush(&mut self) -> Result<(), CrlError> {
        // `key` is a serial shifted right by 16: its top 32 bits are the high word.
        let high = u32::try_from(self.key >> 16).map_err(|_| internal("container key"))?;
        let base = ((self.key & 0xffff) as u32) << 16;
        if self.bitmaps.last().is_none_or(|(h, _)| *h != high) {
            self.bitmaps.push((high, RoaringBitmap::new()));
        }
        let Some((_, bm)) = self.bitmaps.last_mut() else {
            return Err(internal("no bitmap"));
        };
        if self.pending.len() <= ARRAY_LIMIT {
            bm.append(self.pending.iter().map(|&l| base | u32::from(l)))
                .map_err(|_| internal("roaring append out of order"))?;
        } else {
            self.bits.resize(CONTAINER_BYTES, 0);
            for &l in &self.pending {
                if let Some(b) = self.bits.get_mut(usize::from(l >> 3)) {
                    *b |= 1 << (l & 7);
                }
            }
            if bm.max().is_some_and(|m| m >= base) {
                return Err(internal("roaring container out of order"));
            }
            *bm |= RoaringBitmap::from_lsb0_bytes(base, &self.bits);
            self.bits.fill(0);
        }
        self.pending.clear();
        Ok(())
    }

    /// The treemap of every serial added.
    pub(crate) fn finish(mut self) -> Result<RoaringTreemap, CrlError> {
        if !self.pending.is_empty() {
            self.flush()?;
        }
        Ok(RoaringTreemap::from_bitmaps(self.bitmaps))
    }

    /// Every serial added, ascending (when the input turns out unsorted).
    pub(crate) fn into_serials(self, capacity: usize) -> Result<Vec<u64>, CrlError> {
        let mut all = Vec::with_capacity(capacity);
        for s in &self.finish()? {
            all.push(s);
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The treemap built by appending every serial, as the builder did.
    fn appended(serials: &[u64]) -> RoaringTreemap {
        let mut t = RoaringTreemap::new();
        t.append(serials.iter().copied()).unwrap();
        t
    }

    fn serialized(t: &RoaringTreemap) -> Vec<u8> {
        let mut v = Vec::new();
        t.serialize_into(&mut v).unwrap();
        v
    }

    #[test]
    fn same_treemap_as_appending_for_dense_sparse_and_mixed_containers() {
        let mut serials = Vec::new();
        // Dense (one in ten), across containers and a high-word boundary.
        serials.extend((0..200_000u64).map(|i| (1 << 32) - 500_000 + i * 10));
        // Sparse: a few per container.
        serials.extend((0..5_000u64).map(|i| (3 << 32) + i * 20_011));
        // Exactly the array limit in one container, then one over.
        serials.extend((0..4096u64).map(|i| (5 << 32) + i));
        serials.extend((0..4097u64).map(|i| (5 << 32) + 65_536 + i * 2));
        // A full container.
        serials.extend((0..65_536u64).map(|i| (6 << 32) + 131_072 + i));
        // Near the top of the u64 range.
        serials.extend([u64::MAX - 70_000, u64::MAX - 1, u64::MAX]);
        let want = appended(&serials);
        // Fed in uneven batches: containers straddle them.
        let mut m = AscendingMembers::default();
        for chunk in serials.chunks(7_919) {
            m.extend(chunk).unwrap();
        }
        let got = m.finish().unwrap();
        assert_eq!(got.len(), serials.len() as u64);
        assert_eq!(serialized(&got), serialized(&want));
        assert!(got.iter().eq(serials.iter().copied()));
    }

    #[test]
    fn into_serials_gives_them_back_and_empty_is_empty() {
        let serials: Vec<u64> = (0..20_000u64).map(|i| 77 + i * 3).collect();
        let mut m = AscendingMembers::default();
        m.extend(&serials).unwrap();
        assert_eq!(m.into_serials(0).unwrap(), serials);
        let empty = AscendingMembers::default().finish().unwrap();
        assert!(empty.is_empty());
    }
}
