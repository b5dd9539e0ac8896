//! The catch-up policy: what to do about slots that passed while the
//! scheduler was not running them (downtime, or a run that overran later slots).
//!
//! * **At most one catch-up run.** However many slots were missed, the job is
//!   run once, for the *most recent* missed slot: the job computes the
//!   current state of the world, so running it once per missed slot would
//!   only repeat the same work. The older missed slots are skipped; the
//!   decision reports the oldest one so it can be logged.
//! * **Only within the grace window.** The catch-up run happens only if the
//!   most recent missed slot is at most `grace` old (default
//!   [`DEFAULT_GRACE`], 6 hours, inclusive). An older slot is skipped too,
//!   and reported: running a daily 02:30 job at 17:00 after a long outage may
//!   collide with office hours or with the next regular run, so an operator
//!   should decide (run it by hand, or wait for the next slot).
//! * **No history, no catch-up.** On the very first start (`last_fire` is
//!   `None`) nothing is owed: the scheduler waits for the next slot.
//!
//! A slot is "missed" if it is strictly after `last_fire` and at or before
//! `now`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::schedule::Schedule;

/// Default grace window: 6 hours.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(6 * 3600);

/// What to do about missed slots, as decided by [`missed_run`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatchUp {
    /// Nothing was missed (or this is the first start): wait for the next slot.
    None,
    /// Run once now, for `slot`, the most recent missed slot.
    /// `first_missed` is the oldest missed slot (equal to `slot` when only one
    /// was missed); the slots before `slot` are not run.
    RunNow { slot: DateTime<Utc>, first_missed: DateTime<Utc> },
    /// The most recent missed slot, `slot`, is `missed_by` old, beyond the
    /// grace window: nothing is run, all missed slots (from `first_missed` to
    /// `slot`) are skipped.
    Skipped { slot: DateTime<Utc>, first_missed: DateTime<Utc>, missed_by: Duration },
}

/// The catch-up policy with its grace window (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatchUpPolicy {
    /// How old the most recent missed slot may be and still be run.
    pub grace: Duration,
}

impl Default for CatchUpPolicy {
    fn default() -> Self {
        CatchUpPolicy { grace: DEFAULT_GRACE }
    }
}

impl CatchUpPolicy {
    /// [`missed_run`] with this policy's grace window.
    pub fn decide(&self, schedule: &Schedule, last_fire: Option<DateTime<Utc>>, now: DateTime<Utc>) -> CatchUp {
        missed_run(schedule, last_fire, now, self.grace)
    }
}

/// Decide what to do about the slots of `schedule` missed since `last_fire`
/// (the last slot the scheduler fired or otherwise dealt with; `None` on the
/// first start), at `now`, with grace window `grace`.
pub fn missed_run(
    schedule: &Schedule,
    last_fire: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    grace: Duration,
) -> CatchUp {
    let Some(last) = last_fire else {
        return CatchUp::None;
    };
    let Some(first_missed) = schedule.next_after(last).filter(|first| *first <= now) else {
        return CatchUp::None;
    };
    let slot = schedule.latest_at_or_before(now, first_missed).unwrap_or(first_missed);
    let missed_by = (now - slot).to_std().unwrap_or(Duration::ZERO);
    if missed_by <= grace {
        CatchUp::RunNow { slot, first_missed }
    } else {
        CatchUp::Skipped { slot, first_missed, missed_by }
    }
}
