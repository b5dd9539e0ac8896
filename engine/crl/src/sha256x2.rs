//! Two SHA-256 digests computed in one thread, their blocks interleaved.
//!
//! A verified ingest that also records the SHA-256 of the whole file hashes
//! (almost) every byte twice: once for the signature (tbsCertList) and once
//! for the file. The SHA-NI round instruction has a latency of several
//! cycles and a single stream is bound by it; two independent streams fed
//! to the same core fill those gaps. Measured on the 2-core AMD EPYC used
//! for benchmarks (377 MB): one stream 191 ms, two streams 292 ms, against
//! 2 × 191 ms one after the other. The other core stays free for parsing.
//!
//! Used only where the CPU has SHA-NI (checked at run time); elsewhere the
//! caller hashes the two streams with `sha2` on two threads, as before.
//! Checked against `sha2` on random inputs and every split (tests below and
//! in `tests/`).
#![allow(unsafe_code)]

#[allow(deprecated)] // sha2 0.10's block type; its compress function takes no other
use sha2::digest::generic_array::GenericArray;

const BLOCK: usize = 64;

/// SHA-256 initial hash value (FIPS 180-4, 5.3.3).
const H0: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// SHA-256 round constants (FIPS 180-4, 4.2.2).
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
];

/// One SHA-256 computation: chaining state, a partial block, the length.
#[derive(Debug, Clone)]
struct Lane {
    state: [u32; 8],
    buf: [u8; BLOCK],
    buf_len: usize,
    total: u64,
}

impl Lane {
    fn new() -> Self {
        Self { state: H0, buf: [0; BLOCK], buf_len: 0, total: 0 }
    }

    /// Take `data`: returns the block completed from the buffer (if any) and
    /// the whole blocks that follow it; keeps the remainder buffered. The
    /// caller must compress the returned blocks, the first one first.
    fn take<'a>(&mut self, mut data: &'a [u8]) -> (Option<[u8; BLOCK]>, &'a [[u8; BLOCK]]) {
        self.total += data.len() as u64;
        let mut lead = None;
        if self.buf_len > 0 {
            let n = (BLOCK - self.buf_len).min(data.len());
            let (head, rest) = data.split_at(n);
            if let Some(dst) = self.buf.get_mut(self.buf_len..self.buf_len + n) {
                dst.copy_from_slice(head);
            }
            self.buf_len += n;
            data = rest;
            if self.buf_len == BLOCK {
                lead = Some(self.buf);
                self.buf_len = 0;
            }
        }
        let (blocks, tail) = data.as_chunks::<BLOCK>();
        if !tail.is_empty() {
            if let Some(dst) = self.buf.get_mut(..tail.len()) {
                dst.copy_from_slice(tail);
            }
            self.buf_len = tail.len();
        }
        (lead, blocks)
    }

    fn finish(mut self) -> [u8; 32] {
        let bits = self.total.wrapping_mul(8);
        let mut pad = [0u8; 2 * BLOCK];
        let used = self.buf_len;
        if let Some(dst) = pad.get_mut(..used) {
            dst.copy_from_slice(self.buf.get(..used).unwrap_or_default());
        }
        if let Some(b) = pad.get_mut(used) {
            *b = 0x80;
        }
        let len = if used < BLOCK - 8 { BLOCK } else { 2 * BLOCK };
        if let Some(dst) = pad.get_mut(len - 8..len) {
            dst.copy_from_slice(&bits.to_be_bytes());
        }
        let (blocks, _) = pad.get(..len).unwrap_or_default().as_chunks::<BLOCK>();
        compress1(&mut self.state, blocks);
        let mut out = [0u8; 32];
        for (o, w) in out.chunks_exact_mut(4).zip(self.state) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        out
    }
}

/// Compress blocks into one state (the `sha2` crate's own SHA-NI code).
#[allow(deprecated)] // sha2 0.10's block type (see the import)
fn compress1(state: &mut [u32; 8], blocks: &[[u8; BLOCK]]) {
    for b in blocks {
        sha2::compress256(state, std::slice::from_ref(GenericArray::from_slice(b)));
    }
}

/// Two SHA-256 computations fed in step. Interleaved when [`available`],
/// one after the other otherwise (same results).
#[derive(Debug, Clone)]
pub struct DualSha256 {
    a: Lane,
    b: Lane,
    interleave: bool,
}

impl Default for DualSha256 {
    fn default() -> Self {
        Self::new()
    }
}

impl DualSha256 {
    pub fn new() -> Self {
        Self { a: Lane::new(), b: Lane::new(), interleave: available() }
    }

    /// The same, never interleaved (for tests and comparison).
    pub fn sequential() -> Self {
        Self { a: Lane::new(), b: Lane::new(), interleave: false }
    }

    /// Append `a` to the first message and `b` to the second.
    pub fn update(&mut self, a: &[u8], b: &[u8]) {
        let (lead_a, mut body_a) = self.a.take(a);
        let (lead_b, mut body_b) = self.b.take(b);
        if let Some(x) = lead_a {
            compress1(&mut self.a.state, &[x]);
        }
        if let Some(x) = lead_b {
            compress1(&mut self.b.state, &[x]);
        }
        if self.interleave {
            let n = body_a.len().min(body_b.len());
            let (pa, ra) = body_a.split_at(n);
            let (pb, rb) = body_b.split_at(n);
            compress2(&mut self.a.state, &mut self.b.state, pa, pb);
            body_a = ra;
            body_b = rb;
        }
        compress1(&mut self.a.state, body_a);
        compress1(&mut self.b.state, body_b);
    }

    /// Bytes taken so far by each message.
    pub fn lens(&self) -> (u64, u64) {
        (self.a.total, self.b.total)
    }

    /// The two digests.
    pub fn finish(self) -> ([u8; 32], [u8; 32]) {
        (self.a.finish(), self.b.finish())
    }
}

/// Whether this CPU can run the interleaved form.
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("sha")
            && std::arch::is_x86_feature_detected!("sse4.1")
            && std::arch::is_x86_feature_detected!("ssse3")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
fn compress2(sa: &mut [u32; 8], sb: &mut [u32; 8], ba: &[[u8; BLOCK]], bb: &[[u8; BLOCK]]) {
    if available() {
        // SAFETY: the only requirement of a `target_feature` function is
        // that the CPU has those features, checked just above. Its body is
        // safe code (no pointers; intrinsics on values).
        unsafe { x86::compress2(sa, sb, ba, bb) }
    } else {
        compress1(sa, ba);
        compress1(sb, bb);
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn compress2(sa: &mut [u32; 8], sb: &mut [u32; 8], ba: &[[u8; BLOCK]], bb: &[[u8; BLOCK]]) {
    compress1(sa, ba);
    compress1(sb, bb);
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! The SHA-NI block function (Intel's published round structure: state
    //! held as ABEF/CDGH, four rounds per pair of `sha256rnds2`, the message
    //! schedule by `sha256msg1`/`sha256msg2`), written once over two lanes so
    //! that their independent instructions interleave.
    use super::{BLOCK, K};
    use std::arch::x86_64::{
        __m128i, _mm_add_epi32, _mm_alignr_epi8, _mm_blend_epi16, _mm_extract_epi32, _mm_set_epi32, _mm_set_epi64x,
        _mm_sha256msg1_epu32, _mm_sha256msg2_epu32, _mm_sha256rnds2_epu32, _mm_shuffle_epi32, _mm_shuffle_epi8,
    };

    /// Byte order of message words: big-endian within each 32-bit lane.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    #[inline]
    fn load_be(block: &[u8; BLOCK], i: usize) -> __m128i {
        let word = |k: usize| -> u64 {
            let mut b = [0u8; 8];
            if let Some(src) = block.get(16 * i + 8 * k..16 * i + 8 * k + 8) {
                b.copy_from_slice(src);
            }
            u64::from_le_bytes(b)
        };
        // Bit patterns, not numbers: the intrinsics take signed lanes.
        #[allow(clippy::cast_possible_wrap)]
        let v = _mm_set_epi64x(word(1) as i64, word(0) as i64);
        #[allow(clippy::cast_possible_wrap)]
        let mask = _mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203);
        _mm_shuffle_epi8(v, mask)
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    #[inline]
    #[allow(clippy::cast_possible_wrap)] // u32 words as the intrinsic's i32 lanes, bit for bit
    fn load_state(s: &[u32; 8]) -> (__m128i, __m128i) {
        let abcd = _mm_set_epi32(s[3] as i32, s[2] as i32, s[1] as i32, s[0] as i32);
        let efgh = _mm_set_epi32(s[7] as i32, s[6] as i32, s[5] as i32, s[4] as i32);
        let cdab = _mm_shuffle_epi32(abcd, 0xB1);
        let hgfe = _mm_shuffle_epi32(efgh, 0x1B);
        (_mm_alignr_epi8(cdab, hgfe, 8), _mm_blend_epi16(hgfe, cdab, 0xF0))
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    #[inline]
    #[allow(clippy::cast_sign_loss)] // i32 lanes back to u32 words, bit for bit
    fn store_state(s: &mut [u32; 8], abef: __m128i, cdgh: __m128i) {
        let feba = _mm_shuffle_epi32(abef, 0x1B);
        let dchg = _mm_shuffle_epi32(cdgh, 0xB1);
        let dcba = _mm_blend_epi16(feba, dchg, 0xF0);
        let hgfe = _mm_alignr_epi8(dchg, feba, 8);
        *s = [
            _mm_extract_epi32(dcba, 0) as u32,
            _mm_extract_epi32(dcba, 1) as u32,
            _mm_extract_epi32(dcba, 2) as u32,
            _mm_extract_epi32(dcba, 3) as u32,
            _mm_extract_epi32(hgfe, 0) as u32,
            _mm_extract_epi32(hgfe, 1) as u32,
            _mm_extract_epi32(hgfe, 2) as u32,
            _mm_extract_epi32(hgfe, 3) as u32,
        ];
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    #[inline]
    #[allow(clippy::cast_possible_wrap)] // round constants as i32 lanes, bit for bit
    fn k4(g: usize) -> __m128i {
        let k = |i: usize| K.get(4 * g + i).copied().unwrap_or(0) as i32;
        _mm_set_epi32(k(3), k(2), k(1), k(0))
    }

    /// Compress `ba` into `sa` and `bb` into `sb`, block by block in step
    /// (equal lengths: the caller splits).
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    #[allow(clippy::indexing_slicing)] // fixed indices below 16 and 4
    pub(super) fn compress2(sa: &mut [u32; 8], sb: &mut [u32; 8], ba: &[[u8; BLOCK]], bb: &[[u8; BLOCK]]) {
        let (mut a0, mut a1) = load_state(sa);
        let (mut b0, mut b1) = load_state(sb);
        for (xa, xb) in ba.iter().zip(bb) {
            let (save_a0, save_a1, save_b0, save_b1) = (a0, a1, b0, b1);
            let mut wa = [load_be(xa, 0), load_be(xa, 1), load_be(xa, 2), load_be(xa, 3)];
            let mut wb = [load_be(xb, 0), load_be(xb, 1), load_be(xb, 2), load_be(xb, 3)];
            for g in 0..16 {
                let k = k4(g);
                let ma = _mm_add_epi32(wa[g % 4], k);
                let mb = _mm_add_epi32(wb[g % 4], k);
                a1 = _mm_sha256rnds2_epu32(a1, a0, ma);
                b1 = _mm_sha256rnds2_epu32(b1, b0, mb);
                a0 = _mm_sha256rnds2_epu32(a0, a1, _mm_shuffle_epi32(ma, 0x0E));
                b0 = _mm_sha256rnds2_epu32(b0, b1, _mm_shuffle_epi32(mb, 0x0E));
                if g < 12 {
                    // W[g+4] = msg2(msg1(W[g], W[g+1]) + W[g+2..g+3] shifted one word, W[g+3])
                    let (i0, i1, i2, i3) = (g % 4, (g + 1) % 4, (g + 2) % 4, (g + 3) % 4);
                    let na = _mm_sha256msg2_epu32(
                        _mm_add_epi32(_mm_sha256msg1_epu32(wa[i0], wa[i1]), _mm_alignr_epi8(wa[i3], wa[i2], 4)),
                        wa[i3],
                    );
                    let nb = _mm_sha256msg2_epu32(
                        _mm_add_epi32(_mm_sha256msg1_epu32(wb[i0], wb[i1]), _mm_alignr_epi8(wb[i3], wb[i2], 4)),
                        wb[i3],
                    );
                    wa[i0] = na;
                    wb[i0] = nb;
                }
            }
            a0 = _mm_add_epi32(a0, save_a0);
            a1 = _mm_add_epi32(a1, save_a1);
            b0 = _mm_add_epi32(b0, save_b0);
            b1 = _mm_add_epi32(b1, save_b1);
        }
        store_state(sa, a0, a1);
        store_state(sb, b0, b1);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::DualSha256;
    use sha2::{Digest, Sha256};

    fn bytes(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()[0]
            })
            .collect()
    }

    /// Every split of two messages into updates gives the digests `sha2`
    /// gives, interleaved or not: lengths around block and padding edges,
    /// unequal and empty pieces.
    #[test]
    fn agrees_with_sha2() {
        for &(la, lb) in
            &[(0, 0), (1, 0), (55, 56), (63, 64), (64, 65), (119, 120), (1000, 997), (4096, 4091), (70_001, 69_000)]
        {
            let a = bytes(la, 7 + la as u64);
            let b = bytes(lb, 11 + lb as u64);
            let want = (<[u8; 32]>::from(Sha256::digest(&a)), <[u8; 32]>::from(Sha256::digest(&b)));
            for step in [1usize, 3, 63, 64, 65, 200, 4096, 100_000] {
                for mut d in [DualSha256::new(), DualSha256::sequential()] {
                    let (mut ia, mut ib) = (0, 0);
                    while ia < la || ib < lb {
                        let ea = (ia + step).min(la);
                        let eb = (ib + step + step / 3).min(lb);
                        d.update(&a[ia..ea], &b[ib..eb]);
                        (ia, ib) = (ea, eb);
                    }
                    assert_eq!(d.lens(), (la as u64, lb as u64));
                    assert_eq!(d.finish(), want, "lengths {la}/{lb}, step {step}");
                }
            }
        }
    }
}
