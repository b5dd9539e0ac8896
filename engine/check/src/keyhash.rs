//! A fast 64-bit hash of a record's identity (PPID and both certificates),
//! to tell whether a record needing attention already did in the previous
//! run. Not cryptographic: collisions among ~10^7 keys are ~10^-5 likely in
//! total, and a collision can only mark a record as not new.

/// Incremental hasher (multiply-rotate per 8 bytes, then fmix64).
#[derive(Debug, Clone, Copy)]
pub struct KeyHasher(u64);

const K: u64 = 0x9e37_79b9_7f4a_7c15;

impl KeyHasher {
    pub fn new() -> Self {
        KeyHasher(0x243f_6a88_85a3_08d3)
    }

    #[inline]
    fn word(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(23) ^ w).wrapping_mul(K);
    }

    /// Add a field (length-prefixed, so fields cannot run into each other).
    #[inline]
    pub fn field(&mut self, bytes: &[u8]) {
        self.word(bytes.len() as u64);
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.word(u64::from_le_bytes(b));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            if let Some(dst) = b.get_mut(..rest.len()) {
                dst.copy_from_slice(rest);
            }
            self.word(u64::from_le_bytes(b));
        }
    }

    pub fn finish(self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

impl Default for KeyHasher {
    fn default() -> Self {
        Self::new()
    }
}

/// A set of record keys: open addressing with linear probing over a
/// power-of-two table at most half full. Keys are already uniform hashes,
/// so a key's home slot is its top bits: no rehashing, one cache line per
/// probe in the common case, and a sorted keys file (as written) fills the
/// table front to back. `0` marks an empty slot; the key 0 is kept aside.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    slots: Vec<u64>,
    /// `64 - log2(slots.len())`.
    shift: u32,
    len: usize,
    has_zero: bool,
}

/// Smallest table (slots).
const MIN_SLOTS: usize = 16;

impl KeySet {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty set that holds `n` keys without growing.
    pub fn with_capacity(n: usize) -> Self {
        let n_slots = n.saturating_mul(2).max(MIN_SLOTS).next_power_of_two();
        // Written, not `vec![0; n]`: a calloc'd table is mapped to the
        // shared zero page on the first probe, then copied on the first
        // insert (two faults and a TLB shootdown across cores per page).
        #[allow(clippy::slow_vector_initialization)] // on purpose, see above
        let mut slots = Vec::with_capacity(n_slots);
        slots.resize(n_slots, 0);
        Self { slots, shift: 64 - n_slots.trailing_zeros(), len: 0, has_zero: false }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn home(&self, key: u64) -> usize {
        // shift < 64 whenever there are slots; an empty table has none.
        usize::try_from(key.checked_shr(self.shift).unwrap_or(0)).unwrap_or(0)
    }

    /// Insert `key`; returns whether it was new.
    pub fn insert(&mut self, key: u64) -> bool {
        if key == 0 {
            let new = !self.has_zero;
            self.has_zero = true;
            self.len += usize::from(new);
            return new;
        }
        if (self.len + 1).saturating_mul(2) > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        while let Some(slot) = self.slots.get_mut(i) {
            if *slot == key {
                return false;
            }
            if *slot == 0 {
                *slot = key;
                self.len += 1;
                return true;
            }
            i = (i + 1) & mask;
        }
        false
    }

    fn grow(&mut self) {
        let mut bigger = Self::with_capacity(self.slots.len().max(MIN_SLOTS));
        for &k in &self.slots {
            if k != 0 {
                bigger.insert(k);
            }
        }
        bigger.has_zero = self.has_zero;
        bigger.len += usize::from(self.has_zero);
        *self = bigger;
    }

    #[inline]
    pub fn contains(&self, key: u64) -> bool {
        if key == 0 {
            return self.has_zero;
        }
        if self.slots.is_empty() {
            return false;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        // At most half full: an empty slot always ends the probe.
        while let Some(&slot) = self.slots.get(i) {
            if slot == key {
                return true;
            }
            if slot == 0 {
                return false;
            }
            i = (i + 1) & mask;
        }
        false
    }

    /// Hint the cache line a lookup of `key` will read first.
    #[inline]
    pub fn prefetch(&self, key: u64) {
        crlbatch_index::prefetch(&self.slots, self.home(key));
    }

    /// Every key, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.has_zero.then_some(0).into_iter().chain(self.slots.iter().copied().filter(|&k| k != 0))
    }
}

impl Extend<u64> for KeySet {
    fn extend<I: IntoIterator<Item = u64>>(&mut self, keys: I) {
        for k in keys {
            self.insert(k);
        }
    }
}

impl FromIterator<u64> for KeySet {
    fn from_iter<I: IntoIterator<Item = u64>>(keys: I) -> Self {
        let mut s = Self::new();
        s.extend(keys);
        s
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn key_set_agrees_with_a_hash_set() {
        let mut ours = KeySet::new();
        let mut std_set = HashSet::new();
        let mut x = 0x1234_5678_9abc_def0u64;
        // Random keys, 0, and keys sharing a home slot (same top bits).
        let mut keys: Vec<u64> = (0..50_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            })
            .collect();
        keys.extend([0, 1, 2, u64::MAX, u64::MAX - 1, 0x8000_0000_0000_0000, 0x8000_0000_0000_0001]);
        for (i, &k) in keys.iter().enumerate() {
            if i % 3 != 0 {
                assert_eq!(ours.insert(k), std_set.insert(k), "{k:#x}");
            }
        }
        assert!(!ours.insert(keys[1]), "a second insert is not new");
        assert_eq!(ours.len(), std_set.len());
        for &k in &keys {
            assert_eq!(ours.contains(k), std_set.contains(&k), "{k:#x}");
        }
        let mut listed: Vec<u64> = ours.iter().collect();
        let mut expected: Vec<u64> = std_set.into_iter().collect();
        listed.sort_unstable();
        expected.sort_unstable();
        assert_eq!(listed, expected);
    }

    #[test]
    fn empty_and_presized_sets() {
        let empty = KeySet::new();
        assert!(empty.is_empty());
        assert!(!empty.contains(0) && !empty.contains(7));
        empty.prefetch(7);
        let mut s = KeySet::with_capacity(3);
        let slots = s.slots.len();
        s.extend([5, 6, 7]);
        assert_eq!(s.slots.len(), slots, "no growth within the capacity asked for");
        assert!(s.contains(6) && !s.contains(8));
        let from: KeySet = [0u64, 9, 9].into_iter().collect();
        assert_eq!(from.len(), 2);
        assert!(from.contains(0) && from.contains(9));
    }
}
