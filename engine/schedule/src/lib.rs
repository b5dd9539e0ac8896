//! The built-in scheduler of crlbatch: cron expressions in a time zone, a
//! catch-up policy after downtime, one run per job at a time, and the
//! long-lived loop that ties them together. It knows nothing about what a job
//! does: the caller passes a function that runs one.
//!
//! # Policies
//!
//! * **Expressions** ([`Schedule`]): crontab lines mean what they mean in
//!   crontab (5 fields, `*/5`, ranges, lists, names, day-of-week 0 or 7 =
//!   Sunday, the day-of-month/day-of-week "either" rule), plus the `cron`
//!   crate's 6/7-field form with seconds and year (day-of-week numbers are
//!   crontab numbers there too) and the `@daily`-style shortcuts. Fields are
//!   matched in the schedule's zone. Around DST changes every matching local
//!   time fires exactly once: a repeated local time at its first occurrence,
//!   a skipped local time at the end of the gap. See [`schedule`].
//! * **Catch-up** ([`missed_run`]): after downtime (or a run that overran
//!   later slots) a job is run *once*, for its most recent missed slot, if
//!   that slot is within the grace window (default 6 hours,
//!   [`DEFAULT_GRACE`]); otherwise the missed slots are skipped and reported.
//!   No catch-up on a job's first start. See [`catchup`].
//! * **One run at a time** ([`RunLock`]): an exclusive non-blocking `flock`
//!   on a lock file holding "pid N since T" for diagnostics; released on
//!   drop, the file is never deleted. See [`lock`].
//! * **The loop** ([`run_loop`]): sleeps in slices of at most 1 s until the
//!   earliest next slot, fires due jobs one at a time, records each handled
//!   slot in an atomically replaced state file before sleeping again, so a
//!   restart never re-fires a slot, and returns on [`Stop`] (SIGTERM/SIGINT
//!   or [`Stop::request`]) without interrupting a run. Time comes from a
//!   [`Clock`] ([`SystemClock`], or [`ManualClock`] in tests). See [`runner`]
//!   and [`state`].

pub mod catchup;
pub mod clock;
mod field;
pub mod lock;
pub mod runner;
pub mod schedule;
pub mod state;

pub use catchup::{missed_run, CatchUp, CatchUpPolicy, DEFAULT_GRACE};
pub use clock::{Clock, ManualClock, Stop, SystemClock};
pub use lock::{LockError, RunLock};
pub use runner::{run_loop, Entry, Event, FireResult, RunnerError, SLEEP_SLICE};
pub use schedule::{Schedule, ScheduleError};
pub use state::{JobState, SchedulerState, StateError, STATE_VERSION};
