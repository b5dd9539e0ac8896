//! The in-memory revocation index of one issuer key.

use rayon::prelude::*;
use roaring::RoaringTreemap;

use crlbatch_crl::{reason_from_u8, time_from_code, EntryColumns, LongEntry, Reason, Serial, Timestamp, TIME_OVERFLOW};

use crate::meta::IndexMeta;
use crate::rank::RankIndex;

/// What the index says about a listed serial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revocation {
    pub revocation_time: Timestamp,
    /// `None` when the entry had no reasonCode.
    pub reason: Option<Reason>,
    pub invalidity_time: Option<Timestamp>,
}

/// The has-invalidity flag in byte 4 of a packed entry.
pub(crate) const PACKED_HAS_INVALIDITY: u8 = 0x80;
/// Byte 4 value of an entry without reasonCode.
const PACKED_NO_REASON: u8 = 0x7f;

/// Pack time codes and reason octets.
pub(crate) fn pack(times: &[u32], reasons: &[u8]) -> Vec<[u8; 5]> {
    times
        .iter()
        .zip(reasons)
        .map(|(&t, &r)| {
            let [a, b, c, d] = t.to_le_bytes();
            let r = if r == crlbatch_crl::NO_REASON { PACKED_NO_REASON } else { r & 0x7f };
            [a, b, c, d, r]
        })
        .collect()
}

/// The reason octet of a packed byte 4.
#[inline]
fn unpack_reason(b: u8) -> u8 {
    let r = b & 0x7f;
    if r == PACKED_NO_REASON {
        crlbatch_crl::NO_REASON
    } else {
        r
    }
}

/// In-memory lookup structures derived from the persisted parts.
#[derive(Debug, Clone)]
pub(crate) struct Lookup {
    rank: RankIndex,
}

/// A serial kept off the fast path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongRecord {
    pub serial: Serial,
    pub revocation: Revocation,
}

/// Exact revocation state of one issuer key: membership in a roaring
/// treemap (u64 serials) plus an exact sorted set for the rest; per entry,
/// reason and times addressed by rank.
#[derive(Debug, Clone)]
pub struct RevocationIndex {
    pub(crate) meta: IndexMeta,
    pub(crate) members: RoaringTreemap,
    /// Revocation time codes by rank (empty once compacted).
    pub(crate) times: Vec<u32>,
    /// Reason octets by rank (empty once compacted).
    pub(crate) reasons: Vec<u8>,
    /// Per rank, packed: time code (4 bytes LE), then the reason code in the
    /// low 7 bits and the has-invalidity flag in the high bit. Loaded
    /// indexes use this form only: 5 bytes and one cache miss per hit.
    pub(crate) packed: Vec<[u8; 5]>,
    /// (rank, time) where `times[rank] == TIME_OVERFLOW`, sorted by rank.
    pub(crate) time_overflow: Vec<(u32, Timestamp)>,
    /// (rank, invalidity time), sorted by rank.
    pub(crate) invalidity: Vec<(u32, Timestamp)>,
    /// Long serials, sorted by serial, unique.
    pub(crate) long: Vec<LongRecord>,
    /// Lookup structures, built on first lookup (the `index` command never
    /// needs them).
    pub(crate) rank: std::sync::OnceLock<Lookup>,
    /// Directory into `invalidity` by rank bucket, built on first use.
    pub(crate) invalidity_dir: std::sync::OnceLock<RankBuckets>,
}

/// Ranks per bucket of a [`RankBuckets`] directory.
const RANK_BUCKET_SHIFT: u32 = 8;

/// For a list of (rank, value) pairs sorted by rank: per bucket of
/// 2^RANK_BUCKET_SHIFT ranks, the index of its first pair. A lookup then
/// searches a handful of neighbouring pairs instead of binary-searching the
/// whole list (a chain of dependent cache misses on large CRLs).
#[derive(Debug, Clone)]
pub(crate) struct RankBuckets {
    starts: Vec<u32>,
}

impl RankBuckets {
    fn build<T>(pairs: &[(u32, T)]) -> Self {
        let buckets = pairs.last().map_or(0, |&(r, _)| (r >> RANK_BUCKET_SHIFT) as usize + 1);
        let mut starts = Vec::with_capacity(buckets + 1);
        let mut i = 0usize;
        for b in 0..buckets {
            while pairs.get(i).is_some_and(|&(r, _)| ((r >> RANK_BUCKET_SHIFT) as usize) < b) {
                i += 1;
            }
            starts.push(u32::try_from(i).unwrap_or(u32::MAX));
        }
        starts.push(u32::try_from(pairs.len()).unwrap_or(u32::MAX));
        Self { starts }
    }

    /// The value paired with `rank`, if any.
    #[inline]
    fn find<'a, T>(&self, pairs: &'a [(u32, T)], rank: u32) -> Option<&'a T> {
        let b = (rank >> RANK_BUCKET_SHIFT) as usize;
        let (&lo, &hi) = (self.starts.get(b)?, self.starts.get(b + 1)?);
        let slice = pairs.get(lo as usize..hi as usize)?;
        slice.binary_search_by_key(&rank, |&(k, _)| k).ok().and_then(|p| slice.get(p)).map(|(_, v)| v)
    }
}

/// The rule applied to a serial listed more than once: the entry with the
/// earliest revocationDate wins (ties: the first in CRL order). Either way
/// the serial is revoked.
fn better(a: (Timestamp, usize), b: (Timestamp, usize)) -> bool {
    a < b
}

/// Bits per pass of the radix sort (2048 buckets: the counts stay in L1).
const RADIX_BITS: u32 = 11;
/// Below this many entries a comparison sort is as fast.
const RADIX_MIN_LEN: usize = 1 << 16;

/// Sort `keys` by bits `lo..lo + bits` only (LSD radix, stable: keys equal
/// there keep their order).
fn radix_sort_bits(keys: &mut Vec<u64>, lo: u32, bits: u32) {
    let mask = (1u64 << RADIX_BITS) - 1;
    let mut dst: Vec<u64> = vec![0; keys.len()];
    for pass in 0..bits.div_ceil(RADIX_BITS) {
        let shift = lo + pass * RADIX_BITS;
        // The masked value has RADIX_BITS bits: it fits any usize.
        #[allow(clippy::cast_possible_truncation)]
        let bucket = |k: u64| (k >> shift & mask) as usize;
        let mut starts = vec![0usize; 1 << RADIX_BITS];
        for &k in keys.iter() {
            if let Some(c) = starts.get_mut(bucket(k)) {
                *c += 1;
            }
        }
        let mut sum = 0usize;
        for c in &mut starts {
            let n = *c;
            *c = sum;
            sum += n;
        }
        for &k in keys.iter() {
            if let Some(at) = starts.get_mut(bucket(k)) {
                if let Some(d) = dst.get_mut(*at) {
                    *d = k;
                }
                *at += 1;
            }
        }
        std::mem::swap(keys, &mut dst);
    }
}

/// Call `f(serial, position)` for every serial, in ascending serial order,
/// equal serials in input order. When the offset from the smallest serial
/// and the position fit one u64 together (JPKI-like serials: 27 + 24 bits
/// at 10M entries), each entry is one 8-byte key sorted on its serial bits
/// — half the memory and traffic of (serial, position) pairs; otherwise
/// (serials spread over more than 2^32) a parallel sort of such pairs.
fn for_each_in_order(serials: &[u64], mut f: impl FnMut(u64, u32)) {
    let n = serials.len();
    let min = serials.iter().copied().min().unwrap_or(0);
    let max = serials.iter().copied().max().unwrap_or(0);
    let span_bits = 64 - (max - min).leading_zeros();
    let pos_bits = (64 - n.saturating_sub(1).leading_zeros()).max(1);
    if span_bits + pos_bits <= 64 && u32::try_from(n).is_ok() {
        let pos_mask = (1u64 << pos_bits) - 1;
        let mut keys: Vec<u64> = serials.iter().enumerate().map(|(i, &s)| (s - min) << pos_bits | i as u64).collect();
        if n < RADIX_MIN_LEN {
            keys.sort_unstable();
        } else {
            radix_sort_bits(&mut keys, pos_bits, span_bits);
        }
        for k in keys {
            // The position has pos_bits <= 32 bits (n fits a u32).
            #[allow(clippy::cast_possible_truncation)]
            f(min + (k >> pos_bits), (k & pos_mask) as u32);
        }
    } else {
        let mut pairs: Vec<(u64, u32)> =
            serials.iter().enumerate().map(|(i, &s)| (s, u32::try_from(i).unwrap_or(u32::MAX))).collect();
        // By serial, then position: equal serials stay in input order.
        pairs.par_sort_unstable();
        for (s, i) in pairs {
            f(s, i);
        }
    }
}

/// Sort long serials, de-duplicate by the earliest-revocation rule.
fn finish_long(mut long: Vec<LongEntry>) -> (Vec<LongRecord>, u64) {
    long.sort_by(|a, b| {
        a.serial.cmp(&b.serial).then(a.revocation_time.cmp(&b.revocation_time)).then(a.ordinal.cmp(&b.ordinal))
    });
    let before = long.len();
    long.dedup_by(|later, earlier| later.serial == earlier.serial);
    let dups = (before - long.len()) as u64;
    let records = long
        .into_iter()
        .map(|LongEntry { serial, revocation_time, reason, invalidity_time, .. }| LongRecord {
            serial,
            revocation: Revocation { revocation_time, reason, invalidity_time },
        })
        .collect();
    (records, dups)
}

impl RevocationIndex {
    /// Assemble from parts already in rank order (serials strictly
    /// ascending, hence unique).
    pub(crate) fn from_sorted(
        meta: IndexMeta,
        members: RoaringTreemap,
        times: Vec<u32>,
        reasons: Vec<u8>,
        time_overflow: Vec<(u32, Timestamp)>,
        mut invalidity: Vec<(u32, Timestamp)>,
        long: Vec<LongEntry>,
    ) -> Self {
        invalidity.sort_unstable_by_key(|&(k, _)| k);
        let (long, duplicates) = finish_long(long);
        Self::assemble(meta, members, (times, reasons), time_overflow, invalidity, long, duplicates)
    }

    /// Fill in the counts of `meta` and put the parts together.
    fn assemble(
        mut meta: IndexMeta,
        members: RoaringTreemap,
        (times, reasons): (Vec<u32>, Vec<u8>),
        time_overflow: Vec<(u32, Timestamp)>,
        invalidity: Vec<(u32, Timestamp)>,
        long: Vec<LongRecord>,
        duplicates: u64,
    ) -> Self {
        meta.entries = members.len() + long.len() as u64;
        meta.duplicates = duplicates;
        meta.long_serials = long.len() as u64;
        Self {
            meta,
            members,
            times,
            reasons,
            packed: Vec::new(),
            time_overflow,
            invalidity,
            long,
            rank: std::sync::OnceLock::new(),
            invalidity_dir: std::sync::OnceLock::new(),
        }
    }

    /// Build from the entries of one or more CRLs of one issuer (partitions
    /// are merged). `meta` describes the CRLs; counts are filled in here.
    pub fn build(meta: IndexMeta, cols: EntryColumns) -> Self {
        let EntryColumns { serials, times, reasons, time_overflow, invalidity, long } = cols;
        let n = serials.len();
        let sorted = serials.windows(2).all(|w| matches!(w, [a, b] if a < b));
        let mut duplicates = 0u64;

        let overflow_of = |idx: usize| -> Timestamp {
            let i = u32::try_from(idx).unwrap_or(u32::MAX);
            time_overflow
                .binary_search_by_key(&i, |&(k, _)| k)
                .ok()
                .and_then(|p| time_overflow.get(p))
                .map_or(Timestamp(0), |&(_, t)| t)
        };
        let time_at = |idx: usize| -> Timestamp {
            match times.get(idx) {
                Some(&c) if c != TIME_OVERFLOW => time_from_code(c),
                _ => overflow_of(idx),
            }
        };

        // `order`: indexes into the input columns, in ascending serial
        // order, one per distinct serial.
        let order: Option<Vec<u32>> = if sorted {
            None
        } else {
            let mut order: Vec<u32> = Vec::with_capacity(n);
            // The serial being grouped and the position of its best entry.
            let mut group: Option<(u64, u32)> = None;
            for_each_in_order(&serials, |s, idx| match &mut group {
                Some((g, best)) if *g == s => {
                    duplicates += 1;
                    if better((time_at(idx as usize), idx as usize), (time_at(*best as usize), *best as usize)) {
                        *best = idx;
                    }
                }
                _ => {
                    if let Some((_, best)) = group {
                        order.push(best);
                    }
                    group = Some((s, idx));
                }
            });
            if let Some((_, best)) = group {
                order.push(best);
            }
            Some(order)
        };

        let (members, times_out, reasons_out, overflow_out, invalidity_out) = match order {
            None => {
                let members = RoaringTreemap::from_sorted_iter(serials.iter().copied()).unwrap_or_default();
                let mut inv = invalidity;
                inv.sort_unstable_by_key(|&(k, _)| k);
                (members, times, reasons, time_overflow, inv)
            }
            Some(order) => {
                // The membership and the per-rank columns are independent:
                // built side by side (1,700 partitions, 10M entries: the
                // build is a single-threaded half second otherwise).
                let (members, (t, r, ovf, inv)) = rayon::join(
                    || {
                        RoaringTreemap::from_sorted_iter(order.iter().filter_map(|&i| serials.get(i as usize).copied()))
                            .unwrap_or_default()
                    },
                    || {
                        let mut t = Vec::with_capacity(order.len());
                        let mut r = Vec::with_capacity(order.len());
                        let mut ovf = Vec::new();
                        for (rank, &i) in order.iter().enumerate() {
                            let code = times.get(i as usize).copied().unwrap_or(TIME_OVERFLOW);
                            if code == TIME_OVERFLOW {
                                ovf.push((u32::try_from(rank).unwrap_or(u32::MAX), overflow_of(i as usize)));
                            }
                            t.push(code);
                            r.push(reasons.get(i as usize).copied().unwrap_or(crlbatch_crl::NO_REASON));
                        }
                        // Invalidity dates follow their entry to its new rank (the
                        // inverse permutation; entries dropped as duplicates have none).
                        let mut rank_of: Vec<u32> = vec![u32::MAX; n];
                        for (rank, &i) in order.iter().enumerate() {
                            if let Some(slot) = rank_of.get_mut(i as usize) {
                                *slot = u32::try_from(rank).unwrap_or(u32::MAX);
                            }
                        }
                        let mut inv: Vec<(u32, Timestamp)> = invalidity
                            .iter()
                            .filter_map(|&(i, t)| rank_of.get(i as usize).filter(|&&r| r != u32::MAX).map(|&r| (r, t)))
                            .collect();
                        inv.sort_unstable_by_key(|&(k, _)| k);
                        (t, r, ovf, inv)
                    },
                );
                (members, t, r, ovf, inv)
            }
        };

        let (long, long_dups) = finish_long(long);
        duplicates += long_dups;
        Self::assemble(meta, members, (times_out, reasons_out), overflow_out, invalidity_out, long, duplicates)
    }

    fn lookup_dir(&self) -> &Lookup {
        self.rank.get_or_init(|| {
            let len = usize::try_from(self.members.len()).unwrap_or(0);
            let ends = self.members.min().zip(self.members.max());
            Lookup { rank: RankIndex::build(ends, len, crate::rank::SortedMembers::new(&self.members)) }
        })
    }

    /// Pack the per-entry data into its compact lookup form and drop the
    /// columns (lookups then touch one 5-byte record per hit).
    pub fn compact(&mut self) {
        if !self.packed.is_empty() || self.times.is_empty() {
            return;
        }
        let mut packed = pack(&self.times, &self.reasons);
        for &(r, _) in &self.invalidity {
            if let Some(p) = packed.get_mut(r as usize) {
                p[4] |= PACKED_HAS_INVALIDITY;
            }
        }
        self.packed = packed;
        self.times = Vec::new();
        self.reasons = Vec::new();
    }

    /// Time codes and reason octets by rank, whichever form is held.
    pub(crate) fn columns(&self) -> (std::borrow::Cow<'_, [u32]>, std::borrow::Cow<'_, [u8]>) {
        if self.packed.is_empty() {
            (std::borrow::Cow::Borrowed(&self.times), std::borrow::Cow::Borrowed(&self.reasons))
        } else {
            let t = self.packed.iter().map(|p| u32::from_le_bytes([p[0], p[1], p[2], p[3]])).collect();
            let r = self.packed.iter().map(|p| unpack_reason(p[4])).collect();
            (std::borrow::Cow::Owned(t), std::borrow::Cow::Owned(r))
        }
    }

    /// Build the lookup structures now rather than on the first lookup.
    pub fn prepare(&self) {
        let _ = self.lookup_dir();
    }

    pub fn meta(&self) -> &IndexMeta {
        &self.meta
    }

    /// The description, to complete what the parser could not know (for
    /// example the SHA-256 of a body hashed while it was downloaded).
    pub fn meta_mut(&mut self) -> &mut IndexMeta {
        &mut self.meta
    }

    /// Distinct revoked serials.
    pub fn len(&self) -> u64 {
        self.members.len() + self.long.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Membership only, for a u64 serial.
    #[inline]
    pub fn contains_u64(&self, serial: u64) -> bool {
        self.members.contains(serial)
    }

    /// The position of a listed u64 serial (its rank), `None` if not listed.
    /// With [`RevocationIndex::revocation_at`], lets bulk callers locate a
    /// whole batch first (independent memory accesses overlap) and fetch
    /// the few revocations after.
    #[inline]
    pub fn position_u64(&self, serial: u64) -> Option<usize> {
        self.lookup_dir().rank.rank(serial)
    }

    /// Hint that [`RevocationIndex::position_u64`] of `serial` will be asked
    /// soon (batch lookups: hint a few rows ahead).
    #[inline]
    pub fn prefetch_u64(&self, serial: u64) {
        self.lookup_dir().rank.prefetch(serial);
    }

    /// Hint that [`RevocationIndex::revocation_at`] of `position` will be asked soon.
    #[inline]
    pub fn prefetch_position(&self, position: usize) {
        crate::prefetch::prefetch(&self.packed, position);
    }

    /// The revocation at a position returned by [`RevocationIndex::position_u64`].
    #[inline]
    pub fn revocation_at(&self, position: usize) -> Revocation {
        self.at_rank(position)
    }

    /// Full lookup of a u64 serial.
    #[inline]
    pub fn lookup_u64(&self, serial: u64) -> Option<Revocation> {
        // The rank structure answers membership exactly (it holds every
        // member); no separate roaring probe.
        let rank = self.lookup_dir().rank.rank(serial)?;
        Some(self.at_rank(rank))
    }

    fn at_rank(&self, rank: usize) -> Revocation {
        let r32 = u32::try_from(rank).unwrap_or(u32::MAX);
        let (code, reason_octet, has_invalidity) = match self.packed.get(rank) {
            Some(p) => {
                (u32::from_le_bytes([p[0], p[1], p[2], p[3]]), unpack_reason(p[4]), p[4] & PACKED_HAS_INVALIDITY != 0)
            }
            None => (
                self.times.get(rank).copied().unwrap_or(TIME_OVERFLOW),
                self.reasons.get(rank).copied().unwrap_or(crlbatch_crl::NO_REASON),
                !self.invalidity.is_empty(),
            ),
        };
        let revocation_time = if code == TIME_OVERFLOW {
            self.time_overflow
                .binary_search_by_key(&r32, |&(k, _)| k)
                .ok()
                .and_then(|p| self.time_overflow.get(p))
                .map_or(Timestamp(0), |&(_, t)| t)
        } else {
            time_from_code(code)
        };
        let reason = reason_from_u8(reason_octet);
        let invalidity_time = if !has_invalidity {
            None
        } else {
            self.invalidity_dir
                .get_or_init(|| RankBuckets::build(&self.invalidity))
                .find(&self.invalidity, r32)
                .copied()
        };
        Revocation { revocation_time, reason, invalidity_time }
    }

    /// Full lookup of any serial.
    pub fn lookup(&self, serial: &Serial) -> Option<Revocation> {
        match serial.to_u64() {
            Some(v) => self.lookup_u64(v),
            None => self.lookup_long(serial),
        }
    }

    fn lookup_long(&self, serial: &Serial) -> Option<Revocation> {
        self.long.binary_search_by(|r| r.serial.cmp(serial)).ok().and_then(|p| self.long.get(p)).map(|r| r.revocation)
    }

    /// Every listed serial with its revocation, u64 serials first in
    /// ascending order, then long serials.
    pub fn iter(&self) -> impl Iterator<Item = (Serial, Revocation)> + '_ {
        self.members
            .iter()
            .enumerate()
            .map(|(rank, s)| (Serial::from_u64(s), self.at_rank(rank)))
            .chain(self.long.iter().map(|r| (r.serial, r.revocation)))
    }

    /// The u64 membership set.
    pub fn members(&self) -> &RoaringTreemap {
        &self.members
    }

    /// The long serials.
    pub fn long_serials(&self) -> &[LongRecord] {
        &self.long
    }

    /// Approximate heap bytes (for reports and benchmarks).
    pub fn heap_bytes(&self) -> usize {
        usize::try_from(self.members.serialized_size() as u64).unwrap_or(0)
            + self.times.len() * 4
            + self.reasons.len()
            + self.packed.len() * 5
            + (self.time_overflow.len() + self.invalidity.len()) * 16
            + self.long.len() * std::mem::size_of::<LongRecord>()
            + self.rank.get().map_or(0, |l| l.rank.heap_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::{for_each_in_order, RankBuckets, RADIX_MIN_LEN};

    /// Both ways of ordering the entries (packed keys, pairs) give a stable
    /// sort by serial, around the radix threshold and across the u64 range.
    #[test]
    #[allow(clippy::cast_possible_truncation)]
    fn entries_in_order_are_a_stable_sort_by_serial_on_both_paths() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        // Spans that fit a packed key with the positions, and ones that do
        // not (pairs); sizes below and above the radix threshold.
        let big = RADIX_MIN_LEN * 2;
        for (span, n) in [
            (1_000u64, 500usize),
            (1_000, big),
            (3_000_000, big),
            (1 << 31, big),
            (u64::from(u32::MAX), big),
            (1 << 39, big),
            (1 << 40, big),
            (1 << 50, 5_000),
            (u64::MAX - 10, 3_000),
        ] {
            let base = 7u64;
            let mut serials: Vec<u64> = (0..n).map(|_| base + rnd(span)).collect();
            serials.push(base);
            serials.push(base + span);
            serials.push(base + span / 2);
            serials.push(base + span / 2);
            let mut want: Vec<(u64, u32)> = serials.iter().enumerate().map(|(i, &s)| (s, i as u32)).collect();
            want.sort_by_key(|p| p.0);
            let mut got = Vec::new();
            for_each_in_order(&serials, |s, i| got.push((s, i)));
            assert_eq!(got, want, "span {span}, n {n}");
        }
        let mut none = Vec::new();
        for_each_in_order(&[], |s, i| none.push((s, i)));
        assert!(none.is_empty());
    }

    /// The bucket directory answers exactly like a binary search of the
    /// whole list: empty lists, gaps of many buckets, bucket edges, ranks
    /// past the end.
    #[test]
    fn rank_buckets_agree_with_binary_search() {
        let lists: Vec<Vec<(u32, u64)>> = vec![
            vec![],
            vec![(0, 1)],
            vec![(255, 2), (256, 3), (257, 4)],
            vec![(3, 5), (10_000, 6), (10_001, 7), (70_000, 8)],
            (0..5000u32).filter(|r| r % 7 == 0 || r % 256 == 255).map(|r| (r, u64::from(r) * 3)).collect(),
        ];
        for pairs in &lists {
            let dir = RankBuckets::build(pairs);
            let top = pairs.last().map_or(600, |&(r, _)| r + 600);
            for rank in 0..top {
                let want = pairs.binary_search_by_key(&rank, |&(k, _)| k).ok().map(|p| pairs[p].1);
                assert_eq!(dir.find(pairs, rank).copied(), want, "rank {rank}");
            }
            assert_eq!(dir.find(pairs, u32::MAX), None);
        }
    }
}
