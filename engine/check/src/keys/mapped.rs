//! A read-only mapping of a keys file.
//!
//! The one `unsafe` here is `memmap2::Mmap::map`: a mapping is unsound if
//! the file is truncated or written while mapped (a read past the new end
//! raises SIGBUS; a write changes bytes under a `&[u8]`). crlbatch never
//! modifies a keys file in place — the previous-run keys in `_state/`, a
//! shard's `flagged.keys` — a new one is written beside it (temporary file)
//! and renamed over it, which leaves a mapped inode intact. Only an outside
//! process writing or truncating the file while a run uses it could break
//! this. The bytes are validated whole (`KeyView::check`) before use,
//! and read with bounds-checked accessors.

#![allow(unsafe_code)]

use std::fs::File;

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
