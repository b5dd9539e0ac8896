//! This run's keys with bounded memory: each worker gathers keys in a
//! buffer of [`KEY_BUFFER_KEYS`] (or the job's `[check] key_buffer_keys`;
//! one batch more at most); a full buffer is sorted, deduplicated and
//! spilled to a run file with the bounds of its key ranges. At the end
//! [`write_merged`] merges every run range by range (the keys are uniform
//! hashes, so a range is about 1/1024 of them: merged in cache) into the
//! next keys file.

use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};

use super::file::KeyView;
use super::writer::{write_keys, KeyFileWriter};
use crate::error::CheckError;

/// Keys a worker holds before it spills a sorted run (8 MiB).
pub const KEY_BUFFER_KEYS: usize = 1 << 20;

/// The merge works in 2^MERGE_RANGE_BITS ranges of the key space.
const MERGE_RANGE_BITS: u32 = 10;
const RANGES: usize = 1 << MERGE_RANGE_BITS;

fn range_of(key: u64) -> usize {
    usize::try_from(key >> (64 - MERGE_RANGE_BITS)).unwrap_or(RANGES)
}

/// For sorted keys: the index where each range starts (RANGES + 1 entries).
fn range_bounds(keys: &[u64]) -> Vec<usize> {
    let mut b = Vec::with_capacity(RANGES + 1);
    let mut i = 0;
    for r in 0..=RANGES {
        // Ranges are small (~n/1024): a bisection per range.
        i += keys.get(i..).unwrap_or_default().partition_point(|&k| range_of(k) < r);
        b.push(i);
    }
    b
}

fn err(path: &Path, message: impl std::fmt::Display) -> CheckError {
    CheckError::Keys { path: path.display().to_string(), message: message.to_string() }
}

/// A sorted, duplicate-free run of keys.
#[derive(Debug)]
pub enum SortedRun {
    Memory(Vec<u64>),
    Spilled(Spill),
}

impl SortedRun {
    pub fn len(&self) -> usize {
        match self {
            SortedRun::Memory(v) => v.len(),
            SortedRun::Spilled(s) => s.bounds.last().copied().unwrap_or(0),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A run on disk (removed when dropped).
#[derive(Debug)]
pub struct Spill {
    path: PathBuf,
    bounds: Vec<usize>,
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// One worker's keys.
#[derive(Debug)]
pub struct KeyRuns {
    buf: Vec<u64>,
    cap: usize,
    dir: PathBuf,
    name: String,
    runs: Vec<SortedRun>,
}

impl KeyRuns {
    /// Keys spill into `dir` as `{name}-{k}.run` past `cap` keys in memory.
    pub fn new(dir: &Path, name: &str, cap: usize) -> Self {
        KeyRuns { buf: Vec::new(), cap: cap.max(1), dir: dir.to_path_buf(), name: name.to_owned(), runs: Vec::new() }
    }

    /// Add keys (any order).
    #[inline(never)]
    pub fn extend(&mut self, keys: impl ExactSizeIterator<Item = u64>) -> Result<(), CheckError> {
        if self.buf.len() + keys.len() > self.cap && !self.buf.is_empty() {
            self.spill()?;
        }
        if self.buf.capacity() == 0 {
            self.buf.reserve_exact(self.cap.max(keys.len()));
        }
        self.buf.extend(keys);
        Ok(())
    }

    fn spill(&mut self) -> Result<(), CheckError> {
        self.buf.sort_unstable();
        self.buf.dedup();
        crlbatch_write::atomic::create_dir_all(&self.dir)?;
        let path = self.dir.join(format!("{}-{}.run", self.name, self.runs.len()));
        let spill = Spill { path, bounds: range_bounds(&self.buf) };
        let f = crlbatch_write::atomic::create_file(&spill.path)?;
        let mut out = BufWriter::with_capacity(1 << 18, f);
        write_keys(&mut out, &self.buf).map_err(|e| err(&spill.path, e))?;
        out.into_inner().map_err(|e| err(&spill.path, e.error()))?;
        self.runs.push(SortedRun::Spilled(spill));
        self.buf.clear();
        Ok(())
    }

    /// The runs: the spilled ones and the rest, sorted, in memory.
    pub fn finish(mut self) -> Vec<SortedRun> {
        self.buf.sort_unstable();
        self.buf.dedup();
        if !self.buf.is_empty() {
            self.runs.push(SortedRun::Memory(std::mem::take(&mut self.buf)));
        }
        std::mem::take(&mut self.runs)
    }
}

/// Read `len` keys from `f` into `buf`.
fn read_keys(f: &mut File, len: usize, buf: &mut Vec<u64>) -> std::io::Result<()> {
    buf.clear();
    buf.resize(len, 0);
    if cfg!(target_endian = "little") {
        f.read_exact(bytemuck::cast_slice_mut(buf.as_mut_slice()))
    } else {
        let mut b = [0u8; 8];
        for k in buf.iter_mut() {
            f.read_exact(&mut b)?;
            *k = u64::from_le_bytes(b);
        }
        Ok(())
    }
}

/// Two sorted, duplicate-free lists into `out` (cleared), without
/// duplicates. Branch-free steps: the keys are hashes, so which list leads
/// is a coin toss the CPU cannot predict.
fn merge_two_into(a: &[u64], b: &[u64], out: &mut Vec<u64>) {
    out.clear();
    out.reserve(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        out.push(x.min(y));
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    out.extend_from_slice(a.get(i..).unwrap_or_default());
    out.extend_from_slice(b.get(j..).unwrap_or_default());
}

/// Most spilled runs merged at once (each an open file); more are merged
/// in passes first.
const MAX_OPEN_RUNS: usize = 32;

/// Merge `views` and `runs`, range by range: `sink(range, keys)` gets each
/// range's keys, sorted and distinct, in ascending order of ranges. The
/// pages of mapped views are released behind the merge.
fn merge_ranges(
    views: &[KeyView<'_>],
    runs: &[SortedRun],
    mut sink: impl FnMut(usize, &[u64]) -> Result<(), CheckError>,
) -> Result<(), CheckError> {
    let mut memory: Vec<&[u64]> = views.iter().map(KeyView::keys).collect();
    let mut spills: Vec<(&Spill, File, Vec<u64>)> = Vec::new();
    for r in runs {
        match r {
            SortedRun::Memory(v) => memory.push(v),
            SortedRun::Spilled(s) => {
                let f = File::open(&s.path).map_err(|e| err(&s.path, e))?;
                spills.push((s, f, Vec::new()));
            }
        }
    }
    // The views come first in `memory`, so their bounds lead `memory_bounds`.
    let memory_bounds: Vec<Vec<usize>> = memory.iter().map(|s| range_bounds(s)).collect();
    let (mut acc, mut next) = (Vec::new(), Vec::new());
    let mut released = vec![(0usize, 0usize); views.len()];
    for r in 0..RANGES {
        for (s, f, buf) in &mut spills {
            let (lo, hi) = (s.bounds.get(r).copied().unwrap_or(0), s.bounds.get(r + 1).copied().unwrap_or(0));
            read_keys(f, hi.saturating_sub(lo), buf).map_err(|e| err(&s.path, e))?;
        }
        let mut parts: Vec<&[u64]> = Vec::with_capacity(memory.len() + spills.len());
        for (s, b) in memory.iter().zip(&memory_bounds) {
            let (lo, hi) = (b.get(r).copied().unwrap_or(0), b.get(r + 1).copied().unwrap_or(0));
            parts.push(s.get(lo..hi).unwrap_or_default());
        }
        parts.extend(spills.iter().map(|(_, _, buf)| buf.as_slice()));
        parts.retain(|p| !p.is_empty());
        match parts.as_slice() {
            [] => sink(r, &[])?,
            [one] => sink(r, one)?,
            [first, rest @ ..] => {
                acc.clear();
                acc.extend_from_slice(first);
                for p in rest {
                    merge_two_into(&acc, p, &mut next);
                    std::mem::swap(&mut acc, &mut next);
                }
                sink(r, &acc)?;
            }
        }
        for ((v, b), done) in views.iter().zip(&memory_bounds).zip(released.iter_mut()) {
            *done = v.release_below(b.get(r + 1).copied().unwrap_or(0), 0, *done);
        }
    }
    Ok(())
}

/// Merge `runs` into one spilled run at `path`.
fn merge_to_spill(runs: &[SortedRun], path: PathBuf) -> Result<SortedRun, CheckError> {
    let f = crlbatch_write::atomic::create_file(&path)?;
    // The file is removed if anything below fails.
    let mut spill = Spill { path, bounds: Vec::with_capacity(RANGES + 1) };
    let mut out = BufWriter::with_capacity(1 << 18, f);
    let mut n = 0usize;
    spill.bounds.push(0);
    let path = spill.path.clone();
    merge_ranges(&[], runs, |_, keys| {
        write_keys(&mut out, keys).map_err(|e| err(&path, e))?;
        n += keys.len();
        spill.bounds.push(n);
        Ok(())
    })?;
    out.into_inner().map_err(|e| err(&spill.path, e.error()))?;
    Ok(SortedRun::Spilled(spill))
}

/// Merge sorted key sets (`views`, e.g. mapped keys files, and `runs`)
/// into a new keys file at `path`. Returns the number of distinct keys.
/// At most [`MAX_OPEN_RUNS`] spilled runs are read at once: past that,
/// groups of them are merged into one first. Mapped views stay resident
/// only a range or so at a time.
pub fn write_merged(views: &[KeyView<'_>], runs: Vec<SortedRun>, path: &Path) -> Result<u64, CheckError> {
    let expected = views.iter().map(|s| s.len() as u64).sum::<u64>() + runs.iter().map(|r| r.len() as u64).sum::<u64>();
    let (mut spilled, memory): (Vec<SortedRun>, Vec<SortedRun>) =
        runs.into_iter().partition(|r| matches!(r, SortedRun::Spilled(_)));
    let mut pass = 0usize;
    while spilled.len() > MAX_OPEN_RUNS {
        let mut merged = Vec::with_capacity(spilled.len().div_ceil(MAX_OPEN_RUNS));
        let mut rest = spilled.into_iter();
        loop {
            let group: Vec<SortedRun> = rest.by_ref().take(MAX_OPEN_RUNS).collect();
            let Some(SortedRun::Spilled(first)) = group.first() else { break };
            let name = format!("{}.m{pass}", first.path.display());
            merged.push(merge_to_spill(&group, PathBuf::from(name))?);
        }
        spilled = merged;
        pass += 1;
    }
    let mut writer = KeyFileWriter::create(path, expected)?;
    let all: Vec<SortedRun> = spilled.into_iter().chain(memory).collect();
    merge_ranges(views, &all, |_, keys| writer.push_sorted(keys))?;
    drop(all);
    writer.finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::keys::KeyFile;

    fn xorshift(mut x: u64) -> impl FnMut() -> u64 {
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    #[test]
    fn spilled_and_memory_runs_merge_into_one_sorted_set() {
        let dir = tempfile::tempdir().unwrap();
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut all = Vec::new();
        let mut runs = Vec::new();
        for w in 0..3 {
            // A tiny buffer: many spills, and keys repeated across runs.
            let mut k = KeyRuns::new(&dir.path().join("spill"), &format!("w{w}"), 1000);
            for _ in 0..7 {
                let batch: Vec<u64> = (0..450).map(|_| next() % 20_000 * 0x0001_0000_0000_0001).collect();
                all.extend_from_slice(&batch);
                k.extend(batch.into_iter()).unwrap();
            }
            runs.extend(k.finish());
        }
        assert!(runs.iter().any(|r| matches!(r, SortedRun::Spilled(_))));
        let extra: Vec<u64> = vec![0, 5, u64::MAX];
        all.extend_from_slice(&extra);
        all.sort_unstable();
        all.dedup();
        let path = dir.path().join("flagged.keys");
        // The extra keys come from a (mapped) keys file, as in a shard commit.
        let extra_path = dir.path().join("extra.keys");
        write_merged(&[], vec![SortedRun::Memory(extra.clone())], &extra_path).unwrap();
        let extra_file = KeyFile::open(&extra_path).unwrap();
        let n = write_merged(&[extra_file.view()], runs, &path).unwrap();
        assert_eq!(n, all.len() as u64);
        // Spill files are gone.
        assert_eq!(std::fs::read_dir(dir.path().join("spill")).unwrap().count(), 0);
        let f = KeyFile::open(&path).unwrap();
        let v = f.view();
        assert_eq!(v.keys(), all.as_slice());
        for &k in &all {
            assert!(v.contains(k));
        }
        assert!(!v.contains(1));
    }

    #[test]
    fn more_runs_than_open_files_merge_in_passes() {
        let dir = tempfile::tempdir().unwrap();
        let spill = dir.path().join("spill");
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let mut all = Vec::new();
        let mut k = KeyRuns::new(&spill, "w0", 1);
        for _ in 0..3 * MAX_OPEN_RUNS + 5 {
            let batch: Vec<u64> = (0..20).map(|_| next() % 5_000 * 0x0003_0000_0000_0001).collect();
            all.extend_from_slice(&batch);
            k.extend(batch.into_iter()).unwrap();
        }
        let runs = k.finish();
        assert!(runs.iter().filter(|r| matches!(r, SortedRun::Spilled(_))).count() > 3 * MAX_OPEN_RUNS);
        all.sort_unstable();
        all.dedup();
        let path = dir.path().join("flagged.keys");
        assert_eq!(write_merged(&[], runs, &path).unwrap(), all.len() as u64);
        assert_eq!(KeyFile::open(&path).unwrap().view().keys(), all.as_slice());
        assert_eq!(std::fs::read_dir(&spill).unwrap().count(), 0);
    }

    #[test]
    fn an_unfinished_keys_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flagged.keys");
        let mut w = KeyFileWriter::create(&path, 3).unwrap();
        w.push_sorted(&[1, 2, 3]).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        drop(w);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn leftovers_of_an_interrupted_file_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flagged.keys.next");
        std::fs::write(&path, b"x").unwrap();
        std::fs::write(dir.path().join(".flagged.keys.next.tmp-123"), b"x").unwrap();
        std::fs::create_dir_all(crate::keys::spill_dir(&path).join("inner")).unwrap();
        std::fs::write(dir.path().join("flagged.keys"), b"x").unwrap();
        crate::keys::remove_unfinished(&path);
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, ["flagged.keys"]);
    }
}
