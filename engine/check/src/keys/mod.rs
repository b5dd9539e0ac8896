//! The keys behind `new_since_previous_run`: the 64-bit identity hashes
//! ([`crate::KeyHasher`]) of the records a run flagged, kept for the next run.
//!
//! Memory does not grow with the records: the previous run's keys are a
//! sorted file mapped read-only ([`KeyFile`], probed through a bucket
//! directory), swept in key order once per result row group
//! ([`KeyView::sweep`]) with the pages behind each sweep released, so only
//! about a window of the file ([`SWEEP_WINDOW_BYTES`]) per worker is
//! resident at a time; this
//! run's keys are gathered per worker in a bounded buffer spilled as sorted
//! runs ([`KeyRuns`]) and merged range by range into the next file
//! ([`write_merged`], which releases mapped inputs behind it too).
//!
//! File format (version 2, little-endian), `flagged.keys`:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `CRLBKEY2` |
//! | 8 | 8 | `n`, the number of keys |
//! | 16 | 4 | `bits`, directory bits (0 to [`MAX_DIR_BITS`]) |
//! | 20 | 4 | reserved, 0 |
//! | 24 | 8·n | the keys, strictly ascending |
//! | 24 + 8·n | 4·(2^bits + 1) | directory: entry `b` is the index of the first key whose top `bits` bits are ≥ `b`; the last entry is `n` |
//!
//! Version 1 (`CRLBKEYS`, `n`, then the keys) is still read (into memory,
//! once) so a job's first run after an upgrade keeps its history.

use std::path::{Path, PathBuf};

mod file;
mod mapped;
mod runs;
mod writer;

pub use file::{KeyFile, KeyView, SWEEP_WINDOW_BYTES};
pub use runs::{write_merged, KeyRuns, SortedRun, KEY_BUFFER_KEYS};
pub use writer::KeyFileWriter;

/// Magic of the current format.
pub const MAGIC_V2: &[u8; 8] = b"CRLBKEY2";
/// Magic of the first format (read only).
pub const MAGIC_V1: &[u8; 8] = b"CRLBKEYS";
/// Header bytes before the keys.
pub const HEADER_BYTES: usize = 24;
/// Largest directory: 2^20 buckets (4 MiB). Past ~4M keys buckets hold
/// more than 4 keys (scanned); past ~16M, more than 16 (bisected).
pub const MAX_DIR_BITS: u32 = 20;
/// Most keys a file holds (directory entries are u32).
pub const MAX_KEYS: u64 = u32::MAX as u64;

/// Where the sorted runs of the keys file `path` spill while it is being
/// made: `{path}.spill/`.
pub fn spill_dir(path: &Path) -> PathBuf {
    PathBuf::from(format!("{}.spill", path.display()))
}

/// The start of the names of `path`'s temporary files (`.{name}.tmp-{pid}`
/// beside it).
fn tmp_prefix(path: &Path) -> String {
    format!(".{}.tmp-", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default())
}

/// Remove what an interrupted making of the keys file `path` left: the
/// file, its temporary files, its spill folder. Only while no other process
/// writes it (the caller holds the job's run lock).
pub fn remove_unfinished(path: &Path) {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_dir_all(spill_dir(path));
    let prefix = tmp_prefix(path);
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Directory bits for about `n` keys: about 4 keys per bucket.
pub fn dir_bits_for(n: u64) -> u32 {
    let per_bucket = (n / 4).max(1);
    (63 - per_bucket.leading_zeros()).min(MAX_DIR_BITS)
}

/// The bucket of `key` in a directory of `bits` bits.
#[inline(always)]
pub(crate) fn bucket(key: u64, bits: u32) -> usize {
    // bits = 0: one bucket (a shift by 64 is not defined).
    usize::try_from(key.checked_shr(64 - bits).unwrap_or(0)).unwrap_or(usize::MAX)
}

/// Total file size for `n` keys and `bits` directory bits.
pub(crate) fn file_len(n: u64, bits: u32) -> Option<u64> {
    let dir = (1u64 << bits).checked_add(1)?.checked_mul(4)?;
    (HEADER_BYTES as u64).checked_add(n.checked_mul(8)?)?.checked_add(dir)
}
