//! Time and stop requests for the scheduler loop, replaceable in tests.
//!
//! * [`Clock`] gives the current time and sleeps. [`SystemClock`] reads the
//!   system (UTC) clock and sleeps for real; [`ManualClock`] only moves when
//!   told to (or when "slept"), so loop tests run instantly and
//!   deterministically.
//! * [`Stop`] is a shared flag asking the loop to return. It is set by
//!   [`Stop::request`] or, after [`Stop::install_signals`], by SIGTERM or
//!   SIGINT.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

/// The source of time of the scheduler loop.
pub trait Clock {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
    /// Wait for `d` (the loop only asks for short slices, at most 1 second).
    fn sleep(&self, d: Duration);
}

/// The system clock. The loop re-reads the time after every slice of sleep,
/// so a step of the system clock (NTP, manual change) is noticed within a
/// second.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// A clock for tests: time stands still except when [`ManualClock::advance`]d,
/// [`ManualClock::set`] or slept on (sleeping advances it by the requested
/// duration at once).
#[derive(Debug)]
pub struct ManualClock {
    state: Mutex<ManualState>,
}

#[derive(Debug, Clone, Copy)]
struct ManualState {
    now: DateTime<Utc>,
    sleeps: u64,
    slept: Duration,
}

/// `t + d`, saturating at chrono's limits.
pub(crate) fn add_std(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(d).ok().and_then(|d| t.checked_add_signed(d)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock { state: Mutex::new(ManualState { now: start, sleeps: 0, slept: Duration::ZERO }) }
    }

    fn with<R>(&self, f: impl FnOnce(&mut ManualState) -> R) -> R {
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    /// Move the time forward by `d`.
    pub fn advance(&self, d: Duration) {
        self.with(|s| s.now = add_std(s.now, d));
    }

    /// Set the time (also backwards).
    pub fn set(&self, t: DateTime<Utc>) {
        self.with(|s| s.now = t);
    }

    /// How many times [`Clock::sleep`] was called.
    pub fn sleeps(&self) -> u64 {
        self.with(|s| s.sleeps)
    }

    /// The total duration slept.
    pub fn slept(&self) -> Duration {
        self.with(|s| s.slept)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.with(|s| s.now)
    }

    fn sleep(&self, d: Duration) {
        self.with(|s| {
            s.now = add_std(s.now, d);
            s.sleeps += 1;
            s.slept = s.slept.saturating_add(d);
        });
    }
}

/// A request to stop the scheduler loop, shared between clones.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    flag: Arc<AtomicBool>,
}

impl Stop {
    /// A stop flag that is not set.
    pub fn new() -> Stop {
        Stop::default()
    }

    /// A stop flag set by SIGTERM and SIGINT (through
    /// `signal_hook::flag::register`: the handler only sets the flag). The
    /// handlers stay installed for the life of the process; the signals no
    /// longer terminate it, the loop returns instead.
    pub fn install_signals() -> std::io::Result<Stop> {
        let stop = Stop::new();
        for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            signal_hook::flag::register(signal, Arc::clone(&stop.flag))?;
        }
        Ok(stop)
    }

    /// Ask the loop to stop.
    pub fn request(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was requested.
    pub fn is_requested(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}
