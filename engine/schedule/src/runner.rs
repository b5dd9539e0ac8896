//! The long-lived scheduler loop, independent of what a job is.
//!
//! [`run_loop`] runs jobs given as [`Entry`]s through the caller's `fire`
//! function:
//!
//! 1. **Start.** It takes an exclusive lock next to the state file
//!    (`<state file>.lock`, see [`RunLock`]), so two schedulers never share a
//!    state file, and reads the state (see [`SchedulerState`]). A job seen for
//!    the first time is recorded as done through "now": it waits for its
//!    next slot. The state is written once; failing to write it is an error.
//! 2. **Catch-up.** For every entry, in order, the catch-up policy
//!    ([`missed_run`]) is applied to the slots missed while the scheduler was
//!    down: at most one run for the most recent missed slot if it is within
//!    `grace`; otherwise the missed slots are skipped and reported.
//! 3. **Loop.** It sleeps until the earliest next slot of all entries, in
//!    slices of at most [`SLEEP_SLICE`] so that a stop request is seen
//!    promptly, then fires the due entry. One run at a time: `fire` runs the
//!    job synchronously, so runs of different jobs never overlap and runs of
//!    one job never overlap. When several entries are due, the one with the
//!    oldest slot goes first (ties: in the order of `entries`), so a job that
//!    is always due cannot starve the others.
//! 4. **Overrun.** If slots passed while runs were going on, the same policy
//!    applies as after downtime: one run for the most recent passed slot (if
//!    within `grace`), not one per passed slot.
//! 5. **Record.** After each run (or skip) the job's slot is recorded in the
//!    state file before going back to sleep, whatever the run's
//!    [`FireResult`]: failed runs are not retried, the next slot is the next
//!    chance. If writing the state fails, the loop carries on (the state in
//!    memory is right, so this process does not re-fire) and reports
//!    [`Event::StateNotSaved`]; the next write retries.
//! 6. **Stop.** The loop returns when [`Stop`] is requested: checked between
//!    runs and on every sleep slice, never interrupting a run. Whether the
//!    current run finishes early is up to the caller's `fire` (it can watch
//!    the same [`Stop`]).
//!
//! Slots are whole seconds; "due" means `slot <= now`. If the clock goes
//! backwards, slots already dealt with are not fired again: the next slot is
//! always after the recorded one.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::catchup::{missed_run, CatchUp};
use crate::clock::{Clock, Stop};
use crate::lock::{LockError, RunLock};
use crate::schedule::Schedule;
use crate::state::{JobState, SchedulerState, StateError};

/// Longest single sleep of the loop: a stop request is seen within this time.
pub const SLEEP_SLICE: Duration = Duration::from_secs(1);

/// A job to schedule: a name (the key in the state file) and its schedule.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub schedule: Schedule,
}

/// How a run went, as reported by the caller's `fire`. Every result counts as
/// the slot being dealt with (no retries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FireResult {
    /// The job ran and succeeded.
    Succeeded,
    /// The job ran and failed.
    Failed(String),
    /// The job did not run because it was busy elsewhere (e.g. its
    /// [`RunLock`] is held by a run started by hand).
    Busy(String),
}

/// What the loop did, for the caller to log (one line each through `Display`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The loop started with `jobs` entries.
    Started { jobs: usize, state_path: PathBuf },
    /// A job has no history: it waits for its next slot (`None`: the schedule has no more slots).
    FirstStart { job: String, next: Option<DateTime<Utc>> },
    /// A missed slot is about to be run late, once, for all slots from `first_missed` to `slot`.
    CaughtUp { job: String, slot: DateTime<Utc>, first_missed: DateTime<Utc>, late_by: Duration },
    /// Missed slots older than the grace window were skipped.
    SkippedMissed {
        job: String,
        slot: DateTime<Utc>,
        first_missed: DateTime<Utc>,
        missed_by: Duration,
        grace: Duration,
    },
    /// A run is starting.
    Firing { job: String, slot: DateTime<Utc> },
    /// A run has ended.
    Fired { job: String, slot: DateTime<Utc>, result: FireResult, took: Duration },
    /// The schedule of a job has no more slots (the `cron` crate ends in 2100).
    NoMoreSlots { job: String },
    /// The state file could not be written; the loop carries on.
    StateNotSaved { error: StateError },
    /// A stop was requested: the loop returns.
    Stopping,
}

/// Why the loop could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunnerError {
    /// Invalid entries (none, or duplicate names).
    #[error("scheduler: {0}")]
    Config(String),
    /// The state file could not be read or first written.
    #[error(transparent)]
    State(#[from] StateError),
    /// Another scheduler uses the same state file.
    #[error(
        "another scheduler is already using state file {} (lock {} held by {})",
        .state_path.display(),
        .lock_path.display(),
        .holder.as_deref().unwrap_or("another process")
    )]
    AlreadyRunning { state_path: PathBuf, lock_path: PathBuf, holder: Option<String> },
    /// The scheduler lock could not be taken.
    #[error(transparent)]
    Lock(LockError),
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A short human form: `4h05m`, `3m07s`, `1.250s`.
fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 3600 {
        format!("{}h{:02}m", secs / 3600, secs % 3600 / 60)
    } else if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{}.{:03}s", secs, d.subsec_millis())
    }
}

impl fmt::Display for FireResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FireResult::Succeeded => f.write_str("succeeded"),
            FireResult::Failed(message) => write!(f, "failed: {message}"),
            FireResult::Busy(message) => write!(f, "not run: {message}"),
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Started { jobs, state_path } => {
                write!(f, "scheduler started with {jobs} job(s), state {}", state_path.display())
            }
            Event::FirstStart { job, next: Some(next) } => {
                write!(f, "job {job}: first start, next run at {}", time(*next))
            }
            Event::FirstStart { job, next: None } => write!(f, "job {job}: first start, schedule has no more slots"),
            Event::CaughtUp { job, slot, first_missed, late_by } if first_missed == slot => {
                write!(f, "job {job}: catching up missed slot {} ({} late)", time(*slot), human(*late_by))
            }
            Event::CaughtUp { job, slot, first_missed, late_by } => write!(
                f,
                "job {job}: catching up once for the slots missed from {} to {} ({} late; earlier slots not run)",
                time(*first_missed),
                time(*slot),
                human(*late_by)
            ),
            Event::SkippedMissed { job, slot, first_missed, missed_by, grace } => write!(
                f,
                "job {job}: skipped the slots missed from {} to {} (latest {} ago, beyond the {} grace window)",
                time(*first_missed),
                time(*slot),
                human(*missed_by),
                human(*grace)
            ),
            Event::Firing { job, slot } => write!(f, "job {job}: running slot {}", time(*slot)),
            Event::Fired { job, slot, result: result @ FireResult::Busy(_), .. } => {
                write!(f, "job {job}: slot {} {result}", time(*slot))
            }
            Event::Fired { job, slot, result, took } => {
                write!(f, "job {job}: slot {} {result} in {}", time(*slot), human(*took))
            }
            Event::NoMoreSlots { job } => write!(f, "job {job}: schedule has no more slots"),
            Event::StateNotSaved { error } => write!(f, "state not saved (will retry after the next run): {error}"),
            Event::Stopping => f.write_str("scheduler stopping"),
        }
    }
}

/// The lock file of a scheduler using `state_path`.
fn lock_path(state_path: &Path) -> PathBuf {
    let mut name = OsString::from(state_path.as_os_str());
    name.push(".lock");
    PathBuf::from(name)
}

/// The loop's working data.
struct Runner<'a> {
    entries: &'a [Entry],
    state_path: &'a Path,
    grace: Duration,
    clock: &'a dyn Clock,
    fire: &'a mut dyn FnMut(&Entry, DateTime<Utc>) -> FireResult,
    log: &'a mut dyn FnMut(&Event),
    state: SchedulerState,
    /// Next slot per entry (same order), from the state: recomputed only when
    /// the entry's state changes.
    next: Vec<Option<DateTime<Utc>>>,
    /// Entries whose end of schedule was reported.
    exhausted: Vec<bool>,
}

impl Runner<'_> {
    fn done_through(&self, entry: &Entry) -> Option<DateTime<Utc>> {
        self.state.job(&entry.name).map(|job| job.done_through)
    }

    fn compute_next(&mut self, index: usize) {
        let Some(entry) = self.entries.get(index) else { return };
        let next = self.done_through(entry).and_then(|done| entry.schedule.next_after(done));
        if let Some(exhausted) = self.exhausted.get_mut(index) {
            if next.is_none() && !*exhausted {
                (self.log)(&Event::NoMoreSlots { job: entry.name.clone() });
            }
            *exhausted = next.is_none();
        }
        if let Some(slot) = self.next.get_mut(index) {
            *slot = next;
        }
    }

    /// Record that the slots of `entries[index]` up to `slot` are dealt with.
    fn record(&mut self, index: usize, slot: DateTime<Utc>, fired: bool) {
        let Some(entry) = self.entries.get(index) else { return };
        let previous = self.state.job(&entry.name).copied();
        let done_through = previous.map_or(slot, |job| job.done_through.max(slot));
        let last_fired = if fired { Some(slot) } else { previous.and_then(|job| job.last_fired) };
        self.state.set_job(&entry.name, JobState { done_through, last_fired });
        if let Err(error) = self.state.save(self.state_path) {
            (self.log)(&Event::StateNotSaved { error });
        }
        self.compute_next(index);
    }

    fn fire_one(&mut self, index: usize, slot: DateTime<Utc>) {
        let Some(entry) = self.entries.get(index) else { return };
        (self.log)(&Event::Firing { job: entry.name.clone(), slot });
        let started = self.clock.now();
        let result = (self.fire)(entry, slot);
        let took = (self.clock.now() - started).to_std().unwrap_or(Duration::ZERO);
        (self.log)(&Event::Fired { job: entry.name.clone(), slot, result, took });
        self.record(index, slot, true);
    }

    /// Apply the catch-up policy to `entries[index]` at `now`; `startup`
    /// reports a single late slot as a catch-up too (in the loop a single slot
    /// is merely late). Returns whether anything was due.
    fn handle_due(&mut self, index: usize, now: DateTime<Utc>, startup: bool) -> bool {
        let Some(entry) = self.entries.get(index) else { return false };
        match missed_run(&entry.schedule, self.done_through(entry), now, self.grace) {
            CatchUp::None => return false,
            CatchUp::RunNow { slot, first_missed } => {
                if startup || first_missed < slot {
                    let late_by = (now - slot).to_std().unwrap_or(Duration::ZERO);
                    (self.log)(&Event::CaughtUp { job: entry.name.clone(), slot, first_missed, late_by });
                }
                self.fire_one(index, slot);
            }
            CatchUp::Skipped { slot, first_missed, missed_by } => {
                let grace = self.grace;
                (self.log)(&Event::SkippedMissed { job: entry.name.clone(), slot, first_missed, missed_by, grace });
                self.record(index, slot, false);
            }
        }
        true
    }

    /// The entry with the oldest due slot at `now`, or how long to sleep.
    fn due(&self, now: DateTime<Utc>) -> Result<usize, Duration> {
        let earliest = self.next.iter().enumerate().filter_map(|(i, next)| next.map(|t| (t, i))).min();
        match earliest {
            Some((slot, index)) if slot <= now => Ok(index),
            Some((slot, _)) => Err((slot - now).to_std().unwrap_or(SLEEP_SLICE).min(SLEEP_SLICE)),
            None => Err(SLEEP_SLICE),
        }
    }
}

/// Run `entries` until `stop` is requested (see the module documentation).
///
/// `fire(entry, slot)` runs one job for one slot, synchronously; `log`
/// receives every [`Event`]. `grace` is the catch-up grace window
/// ([`crate::DEFAULT_GRACE`] is the usual value). Returns `Ok(())` after a
/// stop request, or an error if the loop could not start.
pub fn run_loop(
    entries: &[Entry],
    state_path: &Path,
    grace: Duration,
    stop: &Stop,
    clock: &dyn Clock,
    fire: &mut dyn FnMut(&Entry, DateTime<Utc>) -> FireResult,
    log: &mut dyn FnMut(&Event),
) -> Result<(), RunnerError> {
    if entries.is_empty() {
        return Err(RunnerError::Config("no jobs to schedule".to_owned()));
    }
    let mut names = BTreeSet::new();
    for entry in entries {
        if !names.insert(entry.name.as_str()) {
            return Err(RunnerError::Config(format!("job name {:?} is used twice", entry.name)));
        }
    }
    let lock_path = lock_path(state_path);
    let _lock = RunLock::try_acquire(&lock_path).map_err(|e| match e {
        LockError::Held { path, holder } => {
            RunnerError::AlreadyRunning { state_path: state_path.to_path_buf(), lock_path: path, holder }
        }
        e @ LockError::Io { .. } => RunnerError::Lock(e),
    })?;
    let state = SchedulerState::load(state_path)?;
    let mut runner = Runner {
        entries,
        state_path,
        grace,
        clock,
        fire,
        log,
        state,
        next: vec![None; entries.len()],
        exhausted: vec![false; entries.len()],
    };
    (runner.log)(&Event::Started { jobs: entries.len(), state_path: state_path.to_path_buf() });

    let now = clock.now();
    for entry in entries {
        if runner.state.job(&entry.name).is_none() {
            runner.state.set_job(&entry.name, JobState { done_through: now, last_fired: None });
            (runner.log)(&Event::FirstStart { job: entry.name.clone(), next: entry.schedule.next_after(now) });
        }
    }
    runner.state.save(state_path)?;

    for index in 0..entries.len() {
        if stop.is_requested() {
            break;
        }
        if !runner.handle_due(index, clock.now(), true) {
            runner.compute_next(index);
        }
    }

    loop {
        if stop.is_requested() {
            (runner.log)(&Event::Stopping);
            return Ok(());
        }
        let now = clock.now();
        match runner.due(now) {
            Ok(index) => {
                if !runner.handle_due(index, now, false) {
                    // Not expected (the slot was due); never spin.
                    runner.compute_next(index);
                    clock.sleep(SLEEP_SLICE);
                }
            }
            Err(sleep) => clock.sleep(sleep),
        }
    }
}
