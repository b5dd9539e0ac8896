//! A rank directory over the sorted `u64` serials: for a member `x`, its
//! position among all members, in O(log) with two binary searches.
//!
//! roaring's own `rank` sums the cardinalities of every preceding container
//! (about 1 µs at 10M entries, shared/measurements.md), too slow for a hot
//! path that must look up the reason and time of millions of revoked
//! serials. The directory keeps the low 16 bits of every member (2 bytes per
//! entry) and the start of each 2^16-wide bucket. It is derived in memory,
//! never persisted.

/// Bucket directory: dense (an array indexed by bucket) when the buckets in
/// use are a large share of the span, sparse (binary search) otherwise.
#[derive(Debug, Clone)]
enum Buckets {
    Dense { first: u64, starts: Vec<u32> },
    Sparse { keys: Vec<u64>, starts: Vec<u32> },
}

/// Dense directories are used when the span has at most this many buckets
/// per bucket in use.
const DENSE_MAX_RATIO: u64 = 4;

/// Use a dense bitvector when it costs at most this many bits per member
/// (JPKI-like serials: about 10 bits per member).
const DENSE_BITS_PER_MEMBER: u64 = 64;

/// Membership and rank for a set of u64 serials, in one structure.
#[derive(Debug, Clone)]
pub(crate) enum RankIndex {
    /// A bitvector over `[min, max]` with a cumulative count per 512 bits:
    /// membership and rank in two cache lines.
    Dense(DenseRank),
    /// Bucketed low bits, for sparse serials (e.g. random 64-bit ones).
    Sparse(RankDir),
}

impl RankIndex {
    /// Build from members in strictly ascending order.
    pub fn build(first_last: Option<(u64, u64)>, len: usize, sorted: impl Iterator<Item = u64>) -> Self {
        if let Some((min, max)) = first_last {
            let span = max - min;
            if span / DENSE_BITS_PER_MEMBER <= len as u64 {
                return RankIndex::Dense(DenseRank::build(min, max, sorted));
            }
        }
        RankIndex::Sparse(RankDir::build(sorted, len))
    }

    /// Hint that `rank(x)` will be asked soon.
    #[inline]
    pub fn prefetch(&self, x: u64) {
        if let RankIndex::Dense(d) = self {
            d.prefetch(x);
        }
    }

    #[inline]
    pub fn rank(&self, x: u64) -> Option<usize> {
        match self {
            RankIndex::Dense(d) => d.rank(x),
            RankIndex::Sparse(s) => s.rank(x),
        }
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            RankIndex::Dense(d) => d.lines.len() * 8,
            RankIndex::Sparse(s) => s.heap_bytes(),
        }
    }
}

/// The members of a treemap in ascending order, taken from roaring in bulk
/// (`next_many`): its one-at-a-time iterator costs several times more per
/// member, which showed when the lookup structures of two 5M-entry indexes
/// were built at the start of a run.
pub(crate) struct SortedMembers<'a> {
    bitmaps: Box<dyn Iterator<Item = (u32, &'a roaring::RoaringBitmap)> + 'a>,
    current: Option<(u64, roaring::bitmap::Iter<'a>)>,
    buf: Box<[u32; BULK]>,
    base: u64,
    filled: usize,
    next: usize,
}

/// Members taken from roaring per call.
const BULK: usize = 1024;

impl<'a> SortedMembers<'a> {
    pub(crate) fn new(t: &'a roaring::RoaringTreemap) -> Self {
        Self { bitmaps: Box::new(t.bitmaps()), current: None, buf: Box::new([0; BULK]), base: 0, filled: 0, next: 0 }
    }
}

impl Iterator for SortedMembers<'_> {
    type Item = u64;

    #[inline]
    fn next(&mut self) -> Option<u64> {
        loop {
            if let Some(&low) = self.buf.get(self.next).filter(|_| self.next < self.filled) {
                self.next += 1;
                return Some(self.base | u64::from(low));
            }
            if self.current.is_none() {
                let (high, bm) = self.bitmaps.next()?;
                self.current = Some((u64::from(high) << 32, bm.iter()));
            }
            if let Some((base, it)) = self.current.as_mut() {
                let n = it.next_many(self.buf.as_mut_slice()).len();
                if n == 0 {
                    self.current = None;
                } else {
                    (self.base, self.filled, self.next) = (*base, n, 0);
                }
            }
        }
    }
}

/// Each 64-byte line holds a cumulative count and 7 words of bits, so a
/// membership test and a rank touch one cache line.
const LINE_WORDS: usize = 8;
const BITS_PER_LINE: u64 = 64 * (LINE_WORDS as u64 - 1);

#[derive(Debug, Clone)]
pub(crate) struct DenseRank {
    min: u64,
    /// Per line: word 0 = members before this line, words 1..8 = bits.
    lines: Vec<u64>,
}

impl DenseRank {
    fn build(min: u64, max: u64, sorted: impl Iterator<Item = u64>) -> Self {
        let nlines = usize::try_from((max - min) / BITS_PER_LINE + 1).unwrap_or(0);
        // Written rather than calloc'd: bits are set by read-modify-write,
        // which on untouched calloc pages faults twice (zero page, then
        // copy) with a TLB shootdown across cores each time.
        #[allow(clippy::slow_vector_initialization)] // on purpose, see above
        let mut lines = Vec::with_capacity(nlines * LINE_WORDS);
        lines.resize(nlines * LINE_WORDS, 0u64);
        for s in sorted {
            let off = s - min;
            let line = usize::try_from(off / BITS_PER_LINE).unwrap_or(usize::MAX);
            let bit = off % BITS_PER_LINE;
            let w = line.saturating_mul(LINE_WORDS) + 1 + usize::try_from(bit / 64).unwrap_or(0);
            if let Some(word) = lines.get_mut(w) {
                *word |= 1u64 << (bit % 64);
            }
        }
        let mut acc = 0u64;
        for line in lines.chunks_mut(LINE_WORDS) {
            let (count, bits) = line.split_at_mut(1);
            if let Some(c) = count.first_mut() {
                *c = acc;
            }
            acc += bits.iter().map(|w| u64::from(w.count_ones())).sum::<u64>();
        }
        DenseRank { min, lines }
    }

    #[inline]
    fn prefetch(&self, x: u64) {
        if let Some(off) = x.checked_sub(self.min) {
            let line = usize::try_from(off / BITS_PER_LINE).unwrap_or(usize::MAX);
            crate::prefetch::prefetch(&self.lines, line.saturating_mul(LINE_WORDS));
        }
    }

    #[inline]
    fn rank(&self, x: u64) -> Option<usize> {
        let off = x.checked_sub(self.min)?;
        let line = usize::try_from(off / BITS_PER_LINE).ok()?;
        let bit = off % BITS_PER_LINE;
        let base = line.checked_mul(LINE_WORDS)?;
        let l = self.lines.get(base..base + LINE_WORDS)?;
        let wi = 1 + usize::try_from(bit / 64).ok()?;
        let word = *l.get(wi)?;
        let b = bit % 64;
        if word & (1u64 << b) == 0 {
            return None;
        }
        let mut r = *l.first()?;
        for w in l.get(1..wi)? {
            r += u64::from(w.count_ones());
        }
        r += u64::from((word & ((1u64 << b) - 1)).count_ones());
        usize::try_from(r).ok()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct RankDir {
    buckets: Buckets,
    lows: Vec<u16>,
}

impl RankDir {
    /// Build from members in strictly ascending order.
    pub fn build(sorted: impl Iterator<Item = u64>, len_hint: usize) -> Self {
        let mut lows = Vec::with_capacity(len_hint);
        let mut keys: Vec<u64> = Vec::new();
        let mut starts: Vec<u32> = Vec::new();
        for (i, s) in sorted.enumerate() {
            let key = s >> 16;
            if keys.last() != Some(&key) {
                keys.push(key);
                starts.push(u32::try_from(i).unwrap_or(u32::MAX));
            }
            lows.push(u16::try_from(s & 0xffff).unwrap_or(0));
        }
        starts.push(u32::try_from(lows.len()).unwrap_or(u32::MAX));
        let buckets = match (keys.first(), keys.last()) {
            (Some(&first), Some(&last)) if (last - first) / DENSE_MAX_RATIO <= keys.len() as u64 => {
                let span = usize::try_from(last - first + 1).unwrap_or(0);
                let mut dense = vec![0u32; span + 1];
                // Every bucket points at the first member at or after it.
                let mut k = 0usize;
                for (b, slot) in dense.iter_mut().enumerate().take(span) {
                    let bucket = first + b as u64;
                    while keys.get(k).is_some_and(|&key| key < bucket) {
                        k += 1;
                    }
                    *slot = starts.get(k).copied().unwrap_or(0);
                }
                if let Some(end) = dense.last_mut() {
                    *end = starts.last().copied().unwrap_or(0);
                }
                Buckets::Dense { first, starts: dense }
            }
            _ => Buckets::Sparse { keys, starts },
        };
        Self { buckets, lows }
    }

    /// The rank (0-based position) of `x` if it is a member.
    #[inline]
    pub fn rank(&self, x: u64) -> Option<usize> {
        let key = x >> 16;
        let (start, end) = match &self.buckets {
            Buckets::Dense { first, starts } => {
                let b = usize::try_from(key.checked_sub(*first)?).ok()?;
                (*starts.get(b)?, *starts.get(b + 1)?)
            }
            Buckets::Sparse { keys, starts } => {
                let b = keys.binary_search(&key).ok()?;
                (*starts.get(b)?, *starts.get(b + 1)?)
            }
        };
        let (start, end) = (start as usize, end as usize);
        let slice = self.lows.get(start..end)?;
        let low = u16::try_from(x & 0xffff).unwrap_or(0);
        let pos = slice.binary_search(&low).ok()?;
        Some(start + pos)
    }

    /// Heap bytes used.
    pub fn heap_bytes(&self) -> usize {
        let dir = match &self.buckets {
            Buckets::Dense { starts, .. } => starts.len() * 4,
            Buckets::Sparse { keys, starts } => keys.len() * 8 + starts.len() * 4,
        };
        dir + self.lows.len() * 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_bitvector_ranks() {
        let set: Vec<u64> = (0..50_000u64).map(|i| 7_000_000 + i * 9 + (i % 7)).collect();
        let idx = RankIndex::build(Some((set[0], *set.last().unwrap())), set.len(), set.iter().copied());
        assert!(matches!(idx, RankIndex::Dense(_)));
        for (i, &s) in set.iter().enumerate() {
            assert_eq!(idx.rank(s), Some(i));
        }
        for probe in [0, 6_999_999, set[0] + 1, *set.last().unwrap() + 1, u64::MAX] {
            if set.binary_search(&probe).is_err() {
                assert_eq!(idx.rank(probe), None, "{probe}");
            }
        }
        let sparse: Vec<u64> = vec![1, 1 << 40, 1 << 50, u64::MAX];
        let idx = RankIndex::build(Some((1, u64::MAX)), sparse.len(), sparse.iter().copied());
        assert!(matches!(idx, RankIndex::Sparse(_)));
        assert_eq!(idx.rank(1 << 50), Some(2));
        assert_eq!(idx.rank(u64::MAX), Some(3));
    }

    #[test]
    fn ranks_dense_and_sparse() {
        let dense: Vec<u64> = (0..200_000u64).map(|i| 1_000_000 + i * 7).collect();
        let sparse: Vec<u64> = (0..5_000u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 1)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for set in [dense, sparse] {
            let dir = RankDir::build(set.iter().copied(), set.len());
            for (i, &s) in set.iter().enumerate() {
                assert_eq!(dir.rank(s), Some(i));
                if set.binary_search(&(s + 1)).is_err() {
                    assert_eq!(dir.rank(s + 1), None);
                }
            }
            assert_eq!(dir.rank(0), set.first().filter(|&&f| f == 0).map(|_| 0));
            assert_eq!(dir.rank(u64::MAX), None);
        }
    }

    #[test]
    fn bulk_members_equal_roaring_order() {
        let mut t = roaring::RoaringTreemap::new();
        // Several high words; array, bitmap and run containers; one member
        // alone in its bitmap; the 64-bit extremes.
        t.insert(0);
        t.insert_range(10..5_000);
        for k in (70_000..400_000u64).step_by(3) {
            t.insert(k);
        }
        t.insert((7u64 << 32) | 5);
        for k in 0..3_000u64 {
            t.insert((9u64 << 32) + k * 977);
        }
        t.insert(u64::MAX);
        t.optimize();
        let bulk: Vec<u64> = SortedMembers::new(&t).collect();
        let one_by_one: Vec<u64> = t.iter().collect();
        assert_eq!(bulk.len(), one_by_one.len());
        assert_eq!(bulk, one_by_one);
        assert_eq!(SortedMembers::new(&roaring::RoaringTreemap::new()).next(), None);
    }
}
