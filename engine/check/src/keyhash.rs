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
