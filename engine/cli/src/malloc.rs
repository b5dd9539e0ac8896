//! Allocator settings for a long batch run (glibc only).
//!
//! glibc serves blocks over its mmap threshold (128 KiB at start) with a
//! fresh `mmap` and returns them with `munmap`; it raises the threshold only
//! after the first such block is freed. Until then every Parquet page and
//! decode buffer of the check is a new mapping: faulted in page by page,
//! then unmapped (a TLB shootdown across the worker threads). Fixing the
//! threshold at glibc's own ceiling (32 MiB) keeps those buffers in the heap
//! and reused. Measured on the 10M-record check, one worker: check phase
//! 3.45–3.57 s → 3.25–3.32 s (the same as `GLIBC_TUNABLES=
//! glibc.malloc.mmap_threshold=33554432`). Only for job runs: `crlbatch
//! index` gains nothing (0.32 s either way) and keeps 28 MB more at peak
//! (142 → 170 MB) when its large buffers stay in the heap.
//!
//! The one `unsafe`: `mallopt` is a C function; it only changes allocator
//! parameters, is called once before any thread starts, and its arguments
//! are constants.

#![allow(unsafe_code)]

/// Blocks up to this size come from the heap (glibc's maximum for the
/// dynamic threshold on 64-bit).
const MMAP_THRESHOLD: i32 = 32 << 20;
/// Free memory at the top of the heap kept before it is returned to the OS.
const TRIM_THRESHOLD: i32 = 64 << 20;

/// Apply the settings (no effect off glibc).
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt takes two ints and changes allocator parameters;
    // called at start, before other threads exist. A zero return (refused)
    // leaves glibc's defaults, which are correct, only slower.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}
