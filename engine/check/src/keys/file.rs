//! Reading a keys file: [`KeyFile`] owns the bytes (a read-only mapping, or
//! memory for a version-1 file), [`KeyView`] answers membership.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::{bucket, dir_bits_for, file_len, mapped::Mapped, HEADER_BYTES, MAGIC_V1, MAGIC_V2, MAX_DIR_BITS, MAX_KEYS};
use crate::error::CheckError;

/// The keys of a previous run.
#[derive(Debug, Default)]
pub struct KeyFile {
    store: Store,
    bits: u32,
}

#[derive(Debug, Default)]
enum Store {
    #[default]
    Empty,
    /// A version-2 file, mapped; keys and directory at these offsets.
    Mapped { map: Mapped, n: usize },
    /// Built in memory (a version-1 file, or a mapping that could not be
    /// read in place).
    Owned { keys: Vec<u64>, dir: Vec<u32> },
}

fn corrupt(path: &Path, what: &str) -> CheckError {
    CheckError::Keys { path: path.display().to_string(), message: format!("corrupt keys file: {what}") }
}

fn io(path: &Path, e: &std::io::Error) -> CheckError {
    CheckError::Keys { path: path.display().to_string(), message: e.to_string() }
}

impl KeyFile {
    /// No keys (a first run).
    pub fn empty() -> Self {
        KeyFile::default()
    }

    /// Open `path`; a missing file is the empty set. The file is checked
    /// whole (size, directory, order of the keys) before it is used.
    pub fn open(path: &Path) -> Result<KeyFile, CheckError> {
        match File::open(path) {
            Ok(f) => Self::read(path, f),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(KeyFile::empty()),
            Err(e) => Err(io(path, &e)),
        }
    }

    /// Open `path`, which must exist (a shard's keys: every shard writes one).
    pub fn open_existing(path: &Path) -> Result<KeyFile, CheckError> {
        let f = File::open(path).map_err(|e| io(path, &e))?;
        Self::read(path, f)
    }

    fn read(path: &Path, mut f: File) -> Result<KeyFile, CheckError> {
        let len = f.metadata().map_err(|e| io(path, &e))?.len();
        let mut head = [0u8; HEADER_BYTES];
        let got = read_up_to(&mut f, &mut head).map_err(|e| io(path, &e))?;
        let magic = head.get(..8);
        if got >= 16 && magic == Some(MAGIC_V1.as_slice()) {
            return Self::open_v1(path, f, len, head.get(..got).unwrap_or_default());
        }
        if got < HEADER_BYTES || magic != Some(MAGIC_V2.as_slice()) {
            return Err(corrupt(path, "no keys header"));
        }
        let n = le_u64(head.get(8..16)).ok_or_else(|| corrupt(path, "header"))?;
        let bits = le_u32(head.get(16..20)).ok_or_else(|| corrupt(path, "header"))?;
        if bits > MAX_DIR_BITS || n > MAX_KEYS {
            return Err(corrupt(path, "header out of range"));
        }
        if file_len(n, bits) != Some(len) {
            return Err(corrupt(path, "size does not match its header"));
        }
        let n = usize::try_from(n).map_err(|_| corrupt(path, "header out of range"))?;
        if n == 0 {
            return Ok(KeyFile::empty());
        }
        let map = Mapped::map(&f).map_err(|e| io(path, &e))?;
        let file = match (map.u64s(HEADER_BYTES, n), map.u32s(HEADER_BYTES + 8 * n, (1usize << bits) + 1)) {
            (Some(_), Some(_)) => KeyFile { store: Store::Mapped { map, n }, bits },
            // Not readable in place (another byte order): decode a copy.
            _ => {
                let bytes = map.bytes();
                let keys = words(bytes.get(HEADER_BYTES..HEADER_BYTES + 8 * n).unwrap_or_default(), le_u64);
                let dir = words(bytes.get(HEADER_BYTES + 8 * n..).unwrap_or_default(), le_u32);
                KeyFile { store: Store::Owned { keys, dir }, bits }
            }
        };
        file.view().check().map_err(|what| corrupt(path, what))?;
        // The check read every page: give them back (sweeps fault in what
        // they need, a window at a time).
        if let Store::Mapped { map, .. } = &file.store {
            map.release(0, map.bytes().len());
        }
        Ok(file)
    }

    /// A version-1 file: the keys into memory, sorted, with a directory.
    fn open_v1(path: &Path, mut f: File, len: u64, head: &[u8]) -> Result<KeyFile, CheckError> {
        let n = le_u64(head.get(8..16)).ok_or_else(|| corrupt(path, "header"))?;
        if n > MAX_KEYS || n.checked_mul(8).and_then(|b| b.checked_add(16)) != Some(len) {
            return Err(corrupt(path, "size does not match its header"));
        }
        let mut bytes = head.get(16..).unwrap_or_default().to_vec();
        f.read_to_end(&mut bytes).map_err(|e| io(path, &e))?;
        let mut keys = words(&bytes, le_u64);
        drop(bytes);
        keys.sort_unstable();
        keys.dedup();
        let bits = dir_bits_for(keys.len() as u64);
        let dir = directory(&keys, bits);
        Ok(KeyFile { store: Store::Owned { keys, dir }, bits })
    }

    /// Lookups.
    pub fn view(&self) -> KeyView<'_> {
        let (keys, dir, map) = match &self.store {
            Store::Empty => (&[][..], &[][..], None),
            Store::Mapped { map, n } => (
                map.u64s(HEADER_BYTES, *n).unwrap_or_default(),
                map.u32s(HEADER_BYTES + 8 * n, (1usize << self.bits) + 1).unwrap_or_default(),
                Some(map),
            ),
            Store::Owned { keys, dir } => (keys.as_slice(), dir.as_slice(), None),
        };
        KeyView { keys, dir, bits: self.bits, map }
    }
}

/// Reorder `items` so that chunk `c` (by `chunk(key)`) holds
/// `starts[c]..starts[c + 1]`: an in-place counting sort (each item is
/// moved straight to the next free place of its chunk; the one there moves
/// on in turn). `starts` must be the prefix sums of the chunk sizes.
fn sort_by_chunk(items: &mut [(u64, u32)], starts: &[usize], chunk: impl Fn(u64) -> usize) {
    let mut next: Vec<usize> = starts.to_vec();
    for c in 0..starts.len().saturating_sub(1) {
        let end = starts.get(c + 1).copied().unwrap_or(0);
        while let Some(&at) = next.get(c).filter(|&&at| at < end) {
            let Some(&first) = items.get(at) else { return };
            let mut item = first;
            // Follow the cycle until an item of chunk c comes back.
            loop {
                let d = chunk(item.0);
                if d == c {
                    break;
                }
                let Some(slot) = next.get_mut(d) else { return };
                let Some(there) = items.get_mut(*slot) else { return };
                std::mem::swap(&mut item, there);
                *slot += 1;
            }
            if let Some(here) = items.get_mut(at) {
                *here = item;
            }
            if let Some(n) = next.get_mut(c) {
                *n += 1;
            }
        }
    }
}

/// The directory of sorted `keys` for `bits` bits.
pub(crate) fn directory(keys: &[u64], bits: u32) -> Vec<u32> {
    let buckets = 1usize << bits;
    let mut dir = Vec::with_capacity(buckets + 1);
    let mut i = 0usize;
    for b in 0..=buckets {
        while keys.get(i).is_some_and(|&k| bucket(k, bits) < b) {
            i += 1;
        }
        dir.push(u32::try_from(i).unwrap_or(u32::MAX));
    }
    dir
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while let Some(rest) = buf.get_mut(got..).filter(|r| !r.is_empty()) {
        match f.read(rest)? {
            0 => break,
            k => got += k,
        }
    }
    Ok(got)
}

fn le_u64(b: Option<&[u8]>) -> Option<u64> {
    b.and_then(|b| b.try_into().ok()).map(u64::from_le_bytes)
}

fn le_u32(b: Option<&[u8]>) -> Option<u32> {
    b.and_then(|b| b.try_into().ok()).map(u32::from_le_bytes)
}

fn words<T>(bytes: &[u8], f: fn(Option<&[u8]>) -> Option<T>) -> Vec<T> {
    let size = std::mem::size_of::<T>();
    bytes.chunks_exact(size).filter_map(|c| f(Some(c))).collect()
}

/// Membership in a sorted key set through its bucket directory: one
/// directory entry (a few MB at most: usually cached) and one line of keys
/// per lookup.
#[derive(Debug, Clone, Copy)]
pub struct KeyView<'a> {
    keys: &'a [u64],
    dir: &'a [u32],
    bits: u32,
    /// The mapping `keys` and `dir` live in, when mapped (for releasing
    /// the pages a sweep has passed).
    map: Option<&'a Mapped>,
}

/// Bytes of keys a sweep reads between two releases of their pages: the
/// resident part of a mapped keys file stays about this size per sweep,
/// whatever the file's size.
pub const SWEEP_WINDOW_BYTES: usize = 1 << 20;

/// How many probes ahead a sweep hints its cache lines.
const SWEEP_AHEAD: usize = 12;

/// Most chunks a sweep cuts its probes into (a counting sort by top bits).
const MAX_SWEEP_BITS: u32 = 16;

impl<'a> KeyView<'a> {
    /// No keys.
    pub const EMPTY: KeyView<'static> = KeyView { keys: &[], dir: &[], bits: 0, map: None };

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys, ascending.
    pub fn keys(&self) -> &'a [u64] {
        self.keys
    }

    #[inline(always)]
    fn range(&self, key: u64) -> (usize, usize) {
        let b = bucket(key, self.bits);
        let at = |i: usize| self.dir.get(i).map_or(0, |&v| v as usize);
        (at(b), at(b + 1))
    }

    /// Hint the cache lines `contains(key)` will read (a bucket of a few
    /// keys can straddle two lines).
    #[inline(always)]
    pub fn prefetch(&self, key: u64) {
        let (lo, hi) = self.range(key);
        crlbatch_index::prefetch(self.keys, lo);
        crlbatch_index::prefetch(self.keys, hi.saturating_sub(1));
    }

    /// `f(item, whether its key is in the set)` for each of `items`, in
    /// order. A pipeline: the directory entry of the item `2 * ahead` on is
    /// hinted, then the key lines of the item `ahead` on (its directory entry
    /// arrived meanwhile), so a lookup rarely waits for memory.
    #[inline(always)]
    fn probe_each<T>(&self, items: &[T], key: impl Fn(&T) -> u64, ahead: usize, mut f: impl FnMut(&T, bool)) {
        for (j, item) in items.iter().enumerate() {
            if let Some(far) = items.get(j + 2 * ahead) {
                crlbatch_index::prefetch(self.dir, bucket(key(far), self.bits));
            }
            if let Some(next) = items.get(j + ahead) {
                self.prefetch(key(next));
            }
            f(item, self.contains(key(item)));
        }
    }

    /// For each `(key, tag)` of `probes`, `found(tag, key in the set)`,
    /// probing in key order: the probes are cut by their top bits into
    /// chunks whose keys span about [`SWEEP_WINDOW_BYTES`] of the file, each
    /// chunk probed while its window is in cache, and a mapped file's pages
    /// are released behind the sweep every half window. So a sweep keeps
    /// about one and a half windows of the file resident (plus the matching
    /// part of the directory), and its reads are near-sequential. Workers
    /// share one mapping: each keeps its own window, and a release by one
    /// may drop pages another is reading (they are faulted in again: a cost,
    /// not an error). `probes` is reordered (in place: no copy); tags are
    /// reported in that new order.
    pub fn sweep(&self, probes: &mut [(u64, u32)], mut found: impl FnMut(u32, bool)) {
        if probes.is_empty() {
            return;
        }
        if self.keys.is_empty() {
            probes.iter().for_each(|&(_, tag)| found(tag, false));
            return;
        }
        let key_bytes = self.keys.len() * 8;
        let mut cbits = 0u32;
        while cbits < self.bits.min(MAX_SWEEP_BITS) && (key_bytes >> cbits) > SWEEP_WINDOW_BYTES {
            cbits += 1;
        }
        let chunk = |key: u64| bucket(key, cbits);
        let chunks = 1usize << cbits;
        let mut starts = vec![0usize; chunks + 1];
        for &(key, _) in probes.iter() {
            if let Some(s) = starts.get_mut(chunk(key) + 1) {
                *s += 1;
            }
        }
        for c in 0..chunks {
            let before = starts.get(c).copied().unwrap_or(0);
            if let Some(s) = starts.get_mut(c + 1) {
                *s += before;
            }
        }
        sort_by_chunk(probes, &starts, chunk);
        let mut released = (0usize, 0usize);
        for c in 0..chunks {
            let (lo, hi) = (starts.get(c).copied().unwrap_or(0), starts.get(c + 1).copied().unwrap_or(0));
            let items = probes.get(lo..hi).unwrap_or_default();
            self.probe_each(items, |p| p.0, SWEEP_AHEAD, |p, hit| found(p.1, hit));
            // Everything below the next chunk's first bucket is behind us.
            let b = (c + 1) << (self.bits - cbits);
            let first = self.dir.get(b).map_or(self.keys.len(), |&v| v as usize);
            released = self.release_below(first, b, released);
        }
    }

    /// Release the mapped pages of the keys before index `key` and of the
    /// directory before entry `entry`, once the sweep has moved half a window
    /// past the last release (`done`: its end offsets), or at the end.
    pub(crate) fn release_below(&self, key: usize, entry: usize, done: (usize, usize)) -> (usize, usize) {
        let Some(map) = self.map else { return done };
        let base = map.bytes().as_ptr() as usize;
        let keys_at = (self.keys.as_ptr() as usize).saturating_sub(base);
        let dir_at = (self.dir.as_ptr() as usize).saturating_sub(base);
        let (k_end, d_end) = (keys_at + 8 * key, dir_at + 4 * entry);
        if key < self.keys.len() && k_end < done.0 + SWEEP_WINDOW_BYTES / 2 {
            return done;
        }
        map.release(done.0.max(keys_at), k_end);
        map.release(done.1.max(dir_at), d_end);
        (k_end, d_end)
    }

    #[inline]
    pub fn contains(&self, key: u64) -> bool {
        let (lo, hi) = self.range(key);
        match self.keys.get(lo..hi) {
            Some(s) if s.len() <= 16 => s.iter().fold(false, |f, &k| f | (k == key)),
            Some(s) => s.binary_search(&key).is_ok(),
            None => false,
        }
    }

    /// The whole structure is consistent: directory from 0 to n, never
    /// decreasing; keys strictly ascending within each bucket and each in
    /// its bucket (so ascending throughout). One pass, in file order, a
    /// mapped file's pages released behind it.
    fn check(&self) -> Result<(), &'static str> {
        let n = self.keys.len();
        if self.dir.len() != (1usize << self.bits) + 1
            || self.dir.first() != Some(&0)
            || self.dir.last().map(|&v| v as usize) != Some(n)
        {
            return Err("directory bounds");
        }
        // The directory first (at most 4 MiB, whatever the number of keys).
        if self.dir.windows(2).any(|w| matches!(w, [lo, hi] if lo > hi)) {
            return Err("directory order");
        }
        let mut released = (0usize, 0usize);
        for (b, w) in self.dir.windows(2).enumerate() {
            let (lo, hi) = match w {
                [lo, hi] => (*lo as usize, *hi as usize),
                _ => return Err("directory"),
            };
            let keys = self.keys.get(lo..hi).ok_or("directory order")?;
            if keys.iter().any(|&k| bucket(k, self.bits) != b) {
                return Err("a key outside its bucket");
            }
            if keys.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
                return Err("keys out of order");
            }
            released = self.release_below(hi, b + 1, released);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::keys::KeyFileWriter;

    fn keys(n: usize, seed: u64) -> Vec<u64> {
        let mut x = seed;
        let mut v: Vec<u64> = (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            })
            .collect();
        v.extend([0, 1, u64::MAX]);
        v.sort_unstable();
        v.dedup();
        v
    }

    fn write(path: &Path, k: &[u64]) {
        let mut w = KeyFileWriter::create(path, k.len() as u64).unwrap();
        // In pieces, the first of a piece repeating the last of the one before.
        let mut from = 0;
        for chunk in k.chunks(777) {
            let start = from.max(1) - 1;
            w.push_sorted(&k[start..from + chunk.len()]).unwrap();
            from += chunk.len();
        }
        assert_eq!(w.finish().unwrap(), k.len() as u64);
    }

    fn error(path: &Path) -> String {
        KeyFile::open(path).unwrap_err().to_string()
    }

    #[test]
    fn written_keys_are_found_and_others_are_not() {
        let dir = tempfile::tempdir().unwrap();
        for n in [0usize, 3, 100, 50_000] {
            let k = keys(n, 0x2545_f491_4f6c_dd1d + n as u64);
            let p = dir.path().join(format!("k{n}"));
            write(&p, &k);
            let len = std::fs::metadata(&p).unwrap().len();
            let bits = dir_bits_for(k.len() as u64);
            assert_eq!(Some(len), file_len(k.len() as u64, bits));
            let f = KeyFile::open(&p).unwrap();
            let v = f.view();
            assert_eq!(v.keys(), k.as_slice());
            assert!(k.iter().all(|&x| v.contains(x)));
            let others = keys(n, 0x9e37_79b9_7f4a_7c15);
            for &x in &others {
                assert_eq!(v.contains(x), k.binary_search(&x).is_ok());
            }
            let mut probes: Vec<(u64, u32)> = others.iter().zip(0u32..).map(|(&x, i)| (x, i)).collect();
            let mut each = vec![None; others.len()];
            v.sweep(&mut probes, |i, hit| assert!(each[i as usize].replace(hit).is_none()));
            assert_eq!(each, others.iter().map(|&x| Some(k.binary_search(&x).is_ok())).collect::<Vec<_>>());
        }
        assert_eq!(dir_bits_for(50_003), 13);
        assert_eq!(dir_bits_for(3), 0);
        assert_eq!(dir_bits_for(u64::MAX), MAX_DIR_BITS);
    }

    /// Resident KiB of this process's mapping of `path` (Linux).
    fn resident_kib(path: &Path) -> u64 {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let name = path.to_str().unwrap();
        let mut lines = smaps.lines();
        let mut total = 0;
        while let Some(l) = lines.next() {
            if l.ends_with(name) && l.split_whitespace().count() >= 6 {
                for l in lines.by_ref() {
                    if let Some(v) = l.strip_prefix("Rss:") {
                        total += v.trim().trim_end_matches(" kB").trim().parse::<u64>().unwrap();
                        break;
                    }
                }
            }
        }
        total
    }

    #[test]
    fn a_sweep_answers_every_probe_and_leaves_about_a_window_resident() {
        let dir = tempfile::tempdir().unwrap();
        // 1M keys: 8 MB of keys, 1 MB of directory; the sweep cuts it into
        // windows of SWEEP_WINDOW_BYTES.
        let k = keys(1 << 20, 0x1234_5678_9abc_def1);
        let p = dir.path().join("big.keys");
        write(&p, &k);
        let f = KeyFile::open(&p).unwrap();
        let v = f.view();
        // Opening reads every page (the check) and gives them back.
        assert!(resident_kib(&p) <= 64, "{} KiB resident after open", resident_kib(&p));
        // Probes: every other member, and as many non-members, shuffled
        // (they come in row order, not key order).
        let mut probes: Vec<(u64, u32)> = k.iter().step_by(2).map(|&x| (x, 0)).collect();
        probes.extend(keys(k.len() / 2, 0x0bad_cafe_f00d_d00d).into_iter().map(|x| (x, 0)));
        probes.sort_unstable_by_key(|p| p.0.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        for (p, i) in probes.iter_mut().zip(0u32..) {
            p.1 = i;
        }
        let want: Vec<Option<bool>> = probes.iter().map(|&(x, _)| Some(k.binary_search(&x).is_ok())).collect();
        for round in 0..2 {
            let mut got = vec![None; probes.len()];
            v.sweep(&mut probes, |i, hit| assert!(got[i as usize].replace(hit).is_none()));
            assert_eq!(got, want, "round {round}");
            let rss = resident_kib(&p);
            assert!(rss <= 2 * SWEEP_WINDOW_BYTES as u64 / 1024, "{rss} KiB resident after a sweep");
        }
        // Not mapped (version 1, or empty): the same answers.
        let owned = KeyFile { store: Store::Owned { keys: k.clone(), dir: directory(&k, f.bits) }, bits: f.bits };
        let mut got = vec![None; probes.len()];
        owned.view().sweep(&mut probes, |i, hit| got[i as usize] = Some(hit));
        assert_eq!(got, want);
        let mut none = 0;
        KeyView::EMPTY.sweep(&mut probes, |_, hit| none += usize::from(!hit));
        assert_eq!(none, probes.len());
    }

    #[test]
    fn the_counting_sort_places_every_item_in_its_chunk() {
        let cases: Vec<(u32, Vec<u64>)> = vec![
            (0, keys(100, 7)),
            (3, vec![]),
            (3, vec![u64::MAX; 50]),
            (3, (0..64).map(|i| (i % 8) << 61).rev().collect()),
            (8, keys(5_000, 11)),
            (8, keys(300, 13).into_iter().map(|k| k | (1 << 63)).collect()),
        ];
        for (bits, ks) in cases {
            let mut items: Vec<(u64, u32)> = ks.iter().zip(0u32..).map(|(&k, i)| (k, i)).collect();
            let chunks = 1usize << bits;
            let mut starts = vec![0usize; chunks + 1];
            for &(k, _) in &items {
                starts[bucket(k, bits) + 1] += 1;
            }
            for c in 0..chunks {
                starts[c + 1] += starts[c];
            }
            sort_by_chunk(&mut items, &starts, |k| bucket(k, bits));
            for c in 0..chunks {
                assert!(items[starts[c]..starts[c + 1]].iter().all(|&(k, _)| bucket(k, bits) == c), "bits {bits}");
            }
            // A permutation: every tag once, with its key.
            let mut tags: Vec<u32> = items.iter().map(|p| p.1).collect();
            tags.sort_unstable();
            assert_eq!(tags, (0u32..).take(ks.len()).collect::<Vec<_>>());
            assert!(items.iter().all(|&(k, t)| ks[t as usize] == k));
        }
    }

    #[test]
    fn missing_file_is_empty_and_the_empty_view_finds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let f = KeyFile::open(&dir.path().join("none")).unwrap();
        assert!(f.view().is_empty());
        let e = KeyFile::open_existing(&dir.path().join("none")).unwrap_err().to_string();
        assert!(e.ends_with("none: No such file or directory (os error 2)"), "{e}");
        assert!(!KeyView::EMPTY.contains(0));
        let mut out = Vec::new();
        KeyView::EMPTY.sweep(&mut [(1, 7), (2, 9)], |tag, hit| out.push((tag, hit)));
        assert_eq!(out, vec![(7, false), (9, false)]);
        KeyView::EMPTY.sweep(&mut [], |_, _| panic!("no probes, no answers"));
    }

    #[test]
    fn version_1_files_are_read_sorted_without_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v1");
        let raw = [9u64, 3, u64::MAX, 3, 0];
        let mut b = MAGIC_V1.to_vec();
        b.extend_from_slice(&(raw.len() as u64).to_le_bytes());
        for k in raw {
            b.extend_from_slice(&k.to_le_bytes());
        }
        std::fs::write(&p, &b).unwrap();
        let f = KeyFile::open(&p).unwrap();
        assert_eq!(f.view().keys(), &[0, 3, 9, u64::MAX]);
        assert!(f.view().contains(u64::MAX) && !f.view().contains(4));
        // An empty version-1 file (what a run that flagged nothing wrote).
        let mut empty = b[..16].to_vec();
        empty[8..16].copy_from_slice(&0u64.to_le_bytes());
        std::fs::write(&p, &empty).unwrap();
        assert!(KeyFile::open(&p).unwrap().view().is_empty());
        // A short version-1 file.
        std::fs::write(&p, &b[..b.len() - 1]).unwrap();
        assert_eq!(error(&p), format!("{}: corrupt keys file: size does not match its header", p.display()));
    }

    #[test]
    fn corrupt_files_are_refused_with_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        let k = keys(1000, 7);
        write(&p, &k);
        let good = std::fs::read(&p).unwrap();
        let n = k.len();
        let msg = |what: &str| format!("{}: corrupt keys file: {what}", p.display());
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"not a keys file at all".to_vec(), "no keys header"),
            (good[..10].to_vec(), "no keys header"),
            (good[..good.len() - 4].to_vec(), "size does not match its header"),
            (
                {
                    let mut b = good.clone();
                    b[16] = 21; // directory bits over the limit
                    b
                },
                "header out of range",
            ),
            (
                {
                    // Two neighbours of one bucket swapped.
                    let mut b = good.clone();
                    let bits = dir_bits_for(n as u64);
                    let at = (1..n).find(|&i| bucket(k[i], bits) == bucket(k[i + 1], bits)).unwrap();
                    let (i, j) = (HEADER_BYTES + 8 * at, HEADER_BYTES + 8 * (at + 1));
                    let a: Vec<u8> = b[i..i + 8].to_vec();
                    b.copy_within(j..j + 8, i);
                    b[j..j + 8].copy_from_slice(&a);
                    b
                },
                "keys out of order",
            ),
            (
                {
                    // A key moved to another bucket.
                    let mut b = good.clone();
                    b[HEADER_BYTES + 8 * 500 + 7] ^= 0x80;
                    b
                },
                "a key outside its bucket",
            ),
            (
                {
                    // The last directory entry not n.
                    let mut b = good.clone();
                    let at = b.len() - 4;
                    b[at..].copy_from_slice(&(u32::try_from(n).unwrap() - 1).to_le_bytes());
                    b
                },
                "directory bounds",
            ),
            (
                {
                    // A directory entry past the next one.
                    let mut b = good.clone();
                    let at = HEADER_BYTES + 8 * n + 4 * 3;
                    b[at..at + 4].copy_from_slice(&u32::try_from(n).unwrap().to_le_bytes());
                    b
                },
                "directory order",
            ),
        ];
        for (bytes, what) in cases {
            std::fs::write(&p, &bytes).unwrap();
            assert_eq!(error(&p), msg(what));
        }
    }

    #[test]
    fn the_fuzz_seeds_are_what_they_say() {
        let seeds = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/seeds/keys_load"));
        let v2 = KeyFile::open(&seeds.join("v2.keys")).unwrap();
        assert!(matches!(v2.store, Store::Mapped { n: 39, .. }));
        let v1 = KeyFile::open(&seeds.join("v1.keys")).unwrap();
        assert_eq!(v1.view().keys(), v2.view().keys());
        let empty = seeds.join("empty.keys");
        assert_eq!(error(&empty), format!("{}: corrupt keys file: no keys header", empty.display()));
    }

    #[test]
    fn the_writer_refuses_keys_out_of_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        let mut w = KeyFileWriter::create(&p, 4).unwrap();
        w.push_sorted(&[1, 5]).unwrap();
        let e = w.push_sorted(&[4]).unwrap_err().to_string();
        assert!(e.ends_with("keys not in ascending order (internal error)"), "{e}");
    }
}
