//! A read-only mapping of a keys file.
//!
//! The first `unsafe` here is `memmap2::Mmap::map`: a mapping is unsound if
//! the file is truncated or written while mapped (a read past the new end
//! raises SIGBUS; a write changes bytes under a `&[u8]`). crlbatch never
//! modifies a keys file in place — the previous-run keys in `_state/`, a
//! shard's `flagged.keys` — a new one is written beside it (temporary file)
//! and renamed over it, which leaves a mapped inode intact. Only an outside
//! process writing or truncating the file while a run uses it could break
//! this. The bytes are validated whole (`KeyView::check`) before use,
//! and read with bounds-checked accessors.
//!
//! The second `unsafe` is `madvise(MADV_DONTNEED)` on ranges already read
//! ([`Mapped::release`]), which keeps the process's resident set bounded
//! while a large file is swept: it drops the pages from this process's page
//! tables only. The mapping is a read-only shared mapping of a file
//! (`Mmap::map`: `MAP_SHARED`, `PROT_READ`) that is not modified while
//! mapped (above), so a later read of a released page faults the same bytes
//! back in from the page cache (or the file): the `&[u8]` handed out stays
//! valid and unchanged. It would NOT be sound on anonymous memory or on a
//! private mapping written to (`MmapMut`, `map_copy`): there the released
//! pages read back as zeros or as the file's original bytes.

#![allow(unsafe_code)]

use std::fs::File;

/// The page size assumed when aligning released ranges. The kernel's may be
/// larger (16 or 64 KiB on some ARM systems): memmap2 then aligns the start
/// down and the kernel rounds the length up, so up to a page on either side
/// is released too — pages that are simply faulted in again if read.
const PAGE: usize = 4096;

/// Mapped bytes of a file.
#[derive(Debug)]
pub(crate) struct Mapped(memmap2::Mmap);

impl Mapped {
    pub(crate) fn map(f: &File) -> std::io::Result<Mapped> {
        // SAFETY: see the module documentation: the file is not modified in
        // place while mapped.
        let m = unsafe { memmap2::Mmap::map(f)? };
        Ok(Mapped(m))
    }

    /// Drop the whole pages of `start..end` from the resident set (best
    /// effort: an error only means they stay resident).
    pub(crate) fn release(&self, start: usize, end: usize) {
        let start = start.next_multiple_of(PAGE);
        let end = end.min(self.0.len()) / PAGE * PAGE;
        if end > start {
            // SAFETY: see the module documentation: a released page of this
            // unmodified file mapping reads back the same bytes.
            let _ = unsafe { self.0.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start) };
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// `count` little-endian u64 at byte `offset`, read in place (None if
    /// out of range, misaligned, or the machine is big-endian).
    pub(crate) fn u64s(&self, offset: usize, count: usize) -> Option<&[u64]> {
        if cfg!(target_endian = "big") {
            return None;
        }
        let b = self.0.get(offset..offset.checked_add(count.checked_mul(8)?)?)?;
        bytemuck::try_cast_slice(b).ok()
    }

    /// `count` little-endian u32 at byte `offset` (as [`Self::u64s`]).
    pub(crate) fn u32s(&self, offset: usize, count: usize) -> Option<&[u32]> {
        if cfg!(target_endian = "big") {
            return None;
        }
        let b = self.0.get(offset..offset.checked_add(count.checked_mul(4)?)?)?;
        bytemuck::try_cast_slice(b).ok()
    }
}
