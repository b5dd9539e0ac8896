//! Counters of a run's progress, for a front end to poll and draw (the
//! engine never draws anything itself). Relaxed atomics: a display may be a
//! moment behind, never wrong at the end.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

/// The step a run is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Step {
    Starting = 0,
    Crls = 1,
    Check = 2,
    Publish = 3,
    Done = 4,
}

/// Progress of one run (all counters start at zero).
#[derive(Debug, Default)]
pub struct Progress {
    step: AtomicU8,
    /// Remote sources to fetch, and fetched (whatever the outcome).
    pub sources_total: AtomicU64,
    pub sources_done: AtomicU64,
    /// CAs whose index is being obtained, and obtained.
    pub cas_total: AtomicU64,
    pub cas_done: AtomicU64,
    /// Records (rows) to check in this run or shard, and checked.
    pub rows_total: AtomicU64,
    pub rows_done: std::sync::Arc<AtomicU64>,
}

impl Progress {
    pub fn set_step(&self, s: Step) {
        self.step.store(s as u8, Ordering::Relaxed);
    }

    pub fn step(&self) -> Step {
        match self.step.load(Ordering::Relaxed) {
            1 => Step::Crls,
            2 => Step::Check,
            3 => Step::Publish,
            4 => Step::Done,
            _ => Step::Starting,
        }
    }
}
