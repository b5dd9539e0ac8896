//! A cache prefetch hint. Batch lookups touch one random cache line each in
//! tables of several MB; hinting the line of a lookup a few rows ahead lets
//! the memory system fetch it while earlier rows are worked on.
//!
//! The one `unsafe` here: `_mm_prefetch` is a `#[target_feature(enable =
//! "sse")]` intrinsic (SSE is part of the x86_64 baseline) and only a hint —
//! it never faults and never reads into the program, whatever the address;
//! the addresses given are inside live slices anyway.

#![allow(unsafe_code)]

/// Hint that `slice[index]` will be read soon (no effect out of bounds, or
/// off x86_64).
#[inline(always)]
pub fn prefetch<T>(slice: &[T], index: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(p) = slice.get(index) {
        // SAFETY: SSE is in the x86_64 baseline; a prefetch neither faults
        // nor affects program state, and `p` points into a live slice.
        unsafe { core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>((p as *const T).cast::<i8>()) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (slice, index);
}
