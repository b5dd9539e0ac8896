use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use crlbatch_schedule::{
    run_loop, Clock, Entry, Event, FireResult, JobState, ManualClock, RunLock, RunnerError, Schedule, SchedulerState,
    Stop, SystemClock, DEFAULT_GRACE, SLEEP_SLICE,
};

use crate::{t, ts};

const TOKYO: Tz = chrono_tz::Asia::Tokyo;
const MINUTE: Duration = Duration::from_secs(60);

/// A manual clock that requests a stop once its time reaches `stop_at`, and
/// remembers the longest sleep asked for.
struct TestClock {
    inner: ManualClock,
    stop: Stop,
    stop_at: Option<DateTime<Utc>>,
    longest_sleep: Cell<Duration>,
}

impl TestClock {
    fn new(start: &str, stop: &Stop, stop_at: Option<&str>) -> TestClock {
        TestClock {
            inner: ManualClock::new(t(start)),
            stop: stop.clone(),
            stop_at: stop_at.map(t),
            longest_sleep: Cell::new(Duration::ZERO),
        }
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        self.inner.now()
    }

    fn sleep(&self, d: Duration) {
        self.longest_sleep.set(self.longest_sleep.get().max(d));
        self.inner.sleep(d);
        if self.stop_at.is_some_and(|at| self.inner.now() >= at) {
            self.stop.request();
        }
    }
}

fn entry(name: &str, expr: &str) -> Entry {
    Entry { name: name.to_owned(), schedule: Schedule::parse(expr, TOKYO).unwrap() }
}

/// One run as seen by the job: which job, which slot, when it started and ended.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    job: String,
    slot: DateTime<Utc>,
    started: DateTime<Utc>,
    ended: DateTime<Utc>,
}

/// What a run of the loop did.
struct Outcome {
    result: Result<(), RunnerError>,
    runs: Vec<Run>,
    events: Vec<Event>,
}

/// Run the loop; every run takes `run_time` (per job name, default zero) of
/// fake time; `stop_after_runs` requests a stop during that run.
fn run(
    entries: &[Entry],
    state: &Path,
    clock: &TestClock,
    stop: &Stop,
    run_time: &dyn Fn(&str) -> Duration,
    stop_after_runs: Option<usize>,
) -> Outcome {
    let runs = RefCell::new(Vec::new());
    let running = Cell::new(false);
    let mut events = Vec::new();
    let mut fire = |entry: &Entry, slot: DateTime<Utc>| {
        assert!(!running.replace(true), "two runs at once");
        let started = clock.now();
        clock.inner.advance(run_time(&entry.name));
        let mut runs = runs.borrow_mut();
        runs.push(Run { job: entry.name.clone(), slot, started, ended: clock.now() });
        if stop_after_runs == Some(runs.len()) {
            stop.request();
        }
        running.set(false);
        FireResult::Succeeded
    };
    let result =
        run_loop(entries, state, DEFAULT_GRACE, stop, clock, &mut fire, &mut |e: &Event| events.push(e.clone()));
    Outcome { result, runs: runs.into_inner(), events }
}

fn no_time(_: &str) -> Duration {
    Duration::ZERO
}

fn slots(runs: &[Run]) -> Vec<DateTime<Utc>> {
    runs.iter().map(|r| r.slot).collect()
}

fn state_file(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("scheduler.json")
}

fn assert_no_overlap(runs: &[Run]) {
    for pair in runs.windows(2) {
        assert!(pair[1].started >= pair[0].ended, "overlapping runs: {pair:?}");
    }
}

#[test]
fn fires_at_the_slots() {
    let dir = tempfile::tempdir().unwrap();
    let stop = Stop::new();
    let clock = TestClock::new("2026-11-26T00:07:00Z", &stop, None);
    let out = run(&[entry("q", "*/15 * * * *")], &state_file(&dir), &clock, &stop, &no_time, Some(4));
    out.result.unwrap();
    let expected =
        ts(&["2026-11-26T00:15:00Z", "2026-11-26T00:30:00Z", "2026-11-26T00:45:00Z", "2026-11-26T01:00:00Z"]);
    assert_eq!(slots(&out.runs), expected);
    // Each run starts exactly at its slot (the fake clock sleeps exactly).
    assert!(out.runs.iter().all(|r| r.started == r.slot));
    assert!(clock.longest_sleep.get() <= SLEEP_SLICE);
    assert_eq!(out.events[0], Event::Started { jobs: 1, state_path: state_file(&dir) });
    assert_eq!(out.events[1], Event::FirstStart { job: "q".into(), next: Some(t("2026-11-26T00:15:00Z")) });
    assert_eq!(out.events[2], Event::Firing { job: "q".into(), slot: t("2026-11-26T00:15:00Z") });
    assert_eq!(
        out.events[3],
        Event::Fired {
            job: "q".into(),
            slot: t("2026-11-26T00:15:00Z"),
            result: FireResult::Succeeded,
            took: Duration::ZERO
        }
    );
    assert_eq!(out.events.last(), Some(&Event::Stopping));
    assert!(!out.events.iter().any(|e| matches!(e, Event::CaughtUp { .. } | Event::SkippedMissed { .. })));
    let state = SchedulerState::load(&state_file(&dir)).unwrap();
    let slot = t("2026-11-26T01:00:00Z");
    assert_eq!(state.job("q"), Some(&JobState { done_through: slot, last_fired: Some(slot) }));
}

#[test]
fn runs_one_at_a_time_oldest_slot_first() {
    let dir = tempfile::tempdir().unwrap();
    let stop = Stop::new();
    let clock = TestClock::new("2026-11-26T17:00:00Z", &stop, None);
    let entries = [entry("daily", "30 2 * * *"), entry("half", "*/30 * * * *")];
    let out = run(&entries, &state_file(&dir), &clock, &stop, &|_| 10 * MINUTE, Some(4));
    out.result.unwrap();
    let got: Vec<(&str, DateTime<Utc>, DateTime<Utc>)> =
        out.runs.iter().map(|r| (r.job.as_str(), r.slot, r.started)).collect();
    assert_eq!(
        got,
        vec![
            // Both due at 02:30 JST: in the order of the entries, one after the other.
            ("daily", t("2026-11-26T17:30:00Z"), t("2026-11-26T17:30:00Z")),
            ("half", t("2026-11-26T17:30:00Z"), t("2026-11-26T17:40:00Z")),
            ("half", t("2026-11-26T18:00:00Z"), t("2026-11-26T18:00:00Z")),
            ("half", t("2026-11-26T18:30:00Z"), t("2026-11-26T18:30:00Z")),
        ]
    );
    assert_no_overlap(&out.runs);
}

#[test]
fn a_busy_job_does_not_starve_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let stop = Stop::new();
    let clock = TestClock::new("2026-11-26T00:00:30Z", &stop, None);
    // "minutely" takes 90 s, so it is always due again when it ends.
    let entries = [entry("minutely", "* * * * *"), entry("other", "2 * * * *")];
    let run_time = |job: &str| if job == "minutely" { Duration::from_secs(90) } else { MINUTE };
    let out = run(&entries, &state_file(&dir), &clock, &stop, &run_time, Some(3));
    out.result.unwrap();
    let got: Vec<(&str, DateTime<Utc>, DateTime<Utc>)> =
        out.runs.iter().map(|r| (r.job.as_str(), r.slot, r.started)).collect();
    assert_eq!(
        got,
        vec![
            ("minutely", t("2026-11-26T00:01:00Z"), t("2026-11-26T00:01:00Z")),
            // 00:02 is due for both at 00:02:30: "other" was due since 00:02 as well; tie by order.
            ("minutely", t("2026-11-26T00:02:00Z"), t("2026-11-26T00:02:30Z")),
            ("other", t("2026-11-26T00:02:00Z"), t("2026-11-26T00:04:00Z")),
        ]
    );
    assert_no_overlap(&out.runs);
}

#[test]
fn one_catch_up_after_downtime() {
    let dir = tempfile::tempdir().unwrap();
    let daily = [entry("daily", "30 2 * * *")];
    // First life: fires 02:30 JST on the 26th (17:30Z on the 25th), then stops.
    let stop = Stop::new();
    let clock = TestClock::new("2026-11-25T17:00:00Z", &stop, None);
    let out = run(&daily, &state_file(&dir), &clock, &stop, &no_time, Some(1));
    out.result.unwrap();
    assert_eq!(slots(&out.runs), ts(&["2026-11-25T17:30:00Z"]));

    // Down from 01:00 to 05:00 JST on the 27th: one catch-up run, then the regular 02:30 on the 28th.
    let stop = Stop::new();
    let clock = TestClock::new("2026-11-26T20:00:00Z", &stop, Some("2026-11-27T18:00:00Z"));
    let out = run(&daily, &state_file(&dir), &clock, &stop, &no_time, None);
    out.result.unwrap();
    let got: Vec<(DateTime<Utc>, DateTime<Utc>)> = out.runs.iter().map(|r| (r.slot, r.started)).collect();
    assert_eq!(
        got,
        vec![
            (t("2026-11-26T17:30:00Z"), t("2026-11-26T20:00:00Z")),
            (t("2026-11-27T17:30:00Z"), t("2026-11-27T17:30:00Z")),
        ]
    );
    let caught_up: Vec<&Event> = out.events.iter().filter(|e| matches!(e, Event::CaughtUp { .. })).collect();
    assert_eq!(
        caught_up,
        vec![&Event::CaughtUp {
            job: "daily".into(),
            slot: t("2026-11-26T17:30:00Z"),
            first_missed: t("2026-11-26T17:30:00Z"),
            late_by: Duration::from_secs(9000),
        }]
    );
    assert_eq!(caught_up[0].to_string(), "job daily: catching up missed slot 2026-11-26T17:30:00Z (2h30m late)");
}

fn state_with(path: &Path, job: &str, done: &str) {
    let mut state = SchedulerState::default();
    state.set_job(job, JobState { done_through: t(done), last_fired: Some(t(done)) });
    state.save(path).unwrap();
}

#[test]
fn three_days_down_catches_up_once_within_grace() {
    let dir = tempfile::tempdir().unwrap();
    state_with(&state_file(&dir), "daily", "2026-11-23T17:30:00Z");
    let stop = Stop::new();
    let clock = TestClock::new("2026-11-26T20:00:00Z", &stop, Some("2026-11-26T21:00:00Z"));
    let out = run(&[entry("daily", "30 2 * * *")], &state_file(&dir), &clock, &stop, &no_time, None);
    out.result.unwrap();
    assert_eq!(slots(&out.runs), ts(&["2026-11-26T17:30:00Z"]));
    let caught_up = out.events.iter().find(|e| matches!(e, Event::CaughtUp { .. })).unwrap();
    assert_eq!(
        caught_up.to_string(),
        "job daily: catching up once for the slots missed from 2026-11-24T17:30:00Z to 2026-11-26T17:30:00Z \
         (2h30m late; earlier slots not run)"
    );
}

#[test]
fn three_days_down_beyond_grace_skips_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    state_with(&state_file(&dir), "daily", "2026-11-23T17:30:00Z");
    let stop = Stop::new();
    let clock = TestClock::new("2026-11-27T02:00:00Z", &stop, Some("2026-11-27T03:00:00Z"));
    let out = run(&[entry("daily", "30 2 * * *")], &state_file(&dir), &clock, &stop, &no_time, None);
    out.result.unwrap();
    assert!(out.runs.is_empty());
    let skipped = out.events.iter().find(|e| matches!(e, Event::SkippedMissed { .. })).unwrap();
    assert_eq!(
        skipped,
        &Event::SkippedMissed {
            job: "daily".into(),
            slot: t("2026-11-26T17:30:00Z"),
            first_missed: t("2026-11-24T17:30:00Z"),
            missed_by: Duration::from_secs(8 * 3600 + 1800),
            grace: DEFAULT_GRACE,
        }
    );
    assert_eq!(
        skipped.to_string(),
        "job daily: skipped the slots missed from 2026-11-24T17:30:00Z to 2026-11-26T17:30:00Z \
         (latest 8h30m ago, beyond the 6h00m grace window)"
    );
    // The skip is recorded (no second report on restart); the last fire is unchanged.
    let state = SchedulerState::load(&state_file(&dir)).unwrap();
    assert_eq!(
        state.job("daily"),
        Some(&JobState { done_through: t("2026-11-26T17:30:00Z"), last_fired: Some(t("2026-11-23T17:30:00Z")) })
    );
}

#[test]
fn first_start_does_not_catch_up_but_later_downtime_does() {
    let dir = tempfile::tempdir().unwrap();
    let daily = [entry("daily", "30 2 * * *")];
    // First start at 01:00 JST, stopped at 02:00 JST before the first slot.
    let stop = Stop::new();
    let clock = TestClock::new("2026-11-26T16:00:00Z", &stop, Some("2026-11-26T17:00:00Z"));
    let out = run(&daily, &state_file(&dir), &clock, &stop, &no_time, None);
    out.result.unwrap();
    assert!(out.runs.is_empty());
    // Back at 03:00 JST: the 02:30 slot falls after the first start, so it is owed.
    let stop = Stop::new();
    let clock = TestClock::new("2026-11-26T18:00:00Z", &stop, Some("2026-11-26T18:30:00Z"));
    let out = run(&daily, &state_file(&dir), &clock, &stop, &no_time, None);
    out.result.unwrap();
    assert_eq!(slots(&out.runs), ts(&["2026-11-26T17:30:00Z"]));
}

#[test]
fn overrun_of_two_slots_leads_to_exactly_one_further_run() {
    let dir = tempfile::tempdir().unwrap();
    let stop = Stop::new();
    let clock = TestClock::new("2026-11-26T00:05:00Z", &stop, None);
    let first = Cell::new(true);
    // The first run takes 25 minutes (passing the 00:20 and 00:30 slots), the others 1 minute.
    let run_time = |_: &str| if first.replace(false) { 25 * MINUTE } else { MINUTE };
    let out = run(&[entry("ten", "*/10 * * * *")], &state_file(&dir), &clock, &stop, &run_time, Some(3));
    out.result.unwrap();
    let got: Vec<(DateTime<Utc>, DateTime<Utc>)> = out.runs.iter().map(|r| (r.slot, r.started)).collect();
    assert_eq!(
        got,
        vec![
            (t("2026-11-26T00:10:00Z"), t("2026-11-26T00:10:00Z")),
            (t("2026-11-26T00:30:00Z"), t("2026-11-26T00:35:00Z")),
            (t("2026-11-26T00:40:00Z"), t("2026-11-26T00:40:00Z")),
        ]
    );
    assert!(out.events.contains(&Event::CaughtUp {
        job: "ten".into(),
        slot: t("2026-11-26T00:30:00Z"),
        first_missed: t("2026-11-26T00:20:00Z"),
        late_by: 5 * MINUTE,
    }));
    assert_no_overlap(&out.runs);
}

#[test]
fn stop_during_sleep_returns_promptly() {
    let dir = tempfile::tempdir().unwrap();
    let stop = Stop::new();
    let stop_at = "2026-11-26T03:00:00.500Z";
    let clock = TestClock::new("2026-11-26T00:00:00Z", &stop, Some(stop_at));
    let out = run(&[entry("daily", "30 2 * * *")], &state_file(&dir), &clock, &stop, &no_time, None);
    out.result.unwrap();
    assert!(out.runs.is_empty());
    assert_eq!(out.events.last(), Some(&Event::Stopping));
    let overshoot = (clock.now() - t(stop_at)).to_std().unwrap();
    assert!(overshoot < SLEEP_SLICE, "returned {overshoot:?} after the stop request");
    assert!(clock.longest_sleep.get() <= SLEEP_SLICE);
}

#[test]
fn stop_during_sleep_with_the_system_clock() {
    let dir = tempfile::tempdir().unwrap();
    let stop = Stop::new();
    let requester = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            stop.request();
        })
    };
    let started = std::time::Instant::now();
    let mut fired = 0;
    let result = run_loop(
        &[entry("daily", "30 2 1 1 *")],
        &state_file(&dir),
        DEFAULT_GRACE,
        &stop,
        &SystemClock,
        &mut |_, _| {
            fired += 1;
            FireResult::Succeeded
        },
        &mut |_| {},
    );
    result.unwrap();
    requester.join().unwrap();
    assert_eq!(fired, 0);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_millis(300) + 2 * SLEEP_SLICE,
        "{elapsed:?}"
    );
}

#[test]
fn stop_during_a_run_lets_it_finish() {
    let dir = tempfile::tempdir().unwrap();
    let stop = Stop::new();
    let clock = TestClock::new("2026-11-26T00:00:30Z", &stop, None);
    // The run takes 5 minutes, passing 4 slots; the stop is requested during it.
    let out = run(&[entry("minutely", "* * * * *")], &state_file(&dir), &clock, &stop, &|_| 5 * MINUTE, Some(1));
    out.result.unwrap();
    assert_eq!(
        out.runs,
        vec![Run {
            job: "minutely".into(),
            slot: t("2026-11-26T00:01:00Z"),
            started: t("2026-11-26T00:01:00Z"),
            ended: t("2026-11-26T00:06:00Z"),
        }]
    );
    let tail: Vec<&Event> = out.events.iter().rev().take(2).collect();
    assert_eq!(tail[0], &Event::Stopping);
    assert!(matches!(tail[1], Event::Fired { took, .. } if *took == 5 * MINUTE));
    // The run was recorded before returning.
    let slot = t("2026-11-26T00:01:00Z");
    let state = SchedulerState::load(&state_file(&dir)).unwrap();
    assert_eq!(state.job("minutely"), Some(&JobState { done_through: slot, last_fired: Some(slot) }));
}

#[test]
fn restart_does_not_refire_a_slot() {
    let dir = tempfile::tempdir().unwrap();
    let q = [entry("q", "*/15 * * * *")];
    let stop = Stop::new();
    let clock = TestClock::new("2026-11-26T00:07:00Z", &stop, None);
    let out = run(&q, &state_file(&dir), &clock, &stop, &no_time, Some(1));
    out.result.unwrap();
    assert_eq!(slots(&out.runs), ts(&["2026-11-26T00:15:00Z"]));

    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(state_file(&dir)).unwrap()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "version": 1,
            "jobs": { "q": { "done_through": "2026-11-26T00:15:00Z", "last_fired": "2026-11-26T00:15:00Z" } }
        })
    );
    // Only the state file and the scheduler's lock file: no temporary file left behind.
    let mut names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, vec!["scheduler.json", "scheduler.json.lock"]);

    // Restart at the very same instant: 00:15 is not fired again; 00:30 is next.
    let stop = Stop::new();
    let clock = TestClock::new("2026-11-26T00:15:00Z", &stop, None);
    let out = run(&q, &state_file(&dir), &clock, &stop, &no_time, Some(1));
    out.result.unwrap();
    assert_eq!(slots(&out.runs), ts(&["2026-11-26T00:30:00Z"]));
    assert!(!out.events.iter().any(|e| matches!(e, Event::FirstStart { .. } | Event::CaughtUp { .. })));

    // Even with the clock set back an hour, nothing already fired runs again.
    let stop = Stop::new();
    let clock = TestClock::new("2026-11-25T23:30:00Z", &stop, None);
    let out = run(&q, &state_file(&dir), &clock, &stop, &no_time, Some(1));
    out.result.unwrap();
    assert_eq!(slots(&out.runs), ts(&["2026-11-26T00:45:00Z"]));
}

#[test]
fn state_file_is_replaced_atomically_and_read_back() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let path = state_file(&dir);
    assert_eq!(SchedulerState::load(&path).unwrap(), SchedulerState::default());
    let mut state = SchedulerState::default();
    state.set_job("a", JobState { done_through: t("2026-11-26T00:15:00Z"), last_fired: None });
    state.save(&path).unwrap();
    let inode = std::fs::metadata(&path).unwrap().ino();
    state.set_job(
        "b",
        JobState { done_through: t("2026-11-26T00:30:00.250Z"), last_fired: Some(t("2026-11-26T00:30:00.250Z")) },
    );
    state.save(&path).unwrap();
    // A new file was renamed over the old one (not rewritten in place).
    assert_ne!(std::fs::metadata(&path).unwrap().ino(), inode);
    assert_eq!(SchedulerState::load(&path).unwrap(), state);
    assert_eq!(state.jobs().map(|(name, _)| name).collect::<Vec<_>>(), vec!["a", "b"]);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn damaged_state_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_file(&dir);
    std::fs::write(&path, "{not json").unwrap();
    let err = SchedulerState::load(&path).unwrap_err();
    assert!(err.to_string().starts_with(&format!("scheduler state {}: not a valid state file: ", path.display())));
    std::fs::write(&path, r#"{"version": 2, "jobs": {}}"#).unwrap();
    assert_eq!(
        SchedulerState::load(&path).unwrap_err().to_string(),
        format!("scheduler state {}: unsupported version 2 (expected 1)", path.display())
    );
    std::fs::write(&path, r#"{"version": 1, "jobs": {"a": {"done_through": "yesterday"}}}"#).unwrap();
    assert!(SchedulerState::load(&path)
        .unwrap_err()
        .to_string()
        .contains(r#"job "a": done_through "yesterday" is not an RFC 3339 time"#));
    // The loop refuses to start on it rather than treating it as a first start.
    let stop = Stop::new();
    let clock = TestClock::new("2026-11-26T00:00:00Z", &stop, None);
    let out = run(&[entry("a", "@daily")], &path, &clock, &stop, &no_time, None);
    assert!(matches!(out.result, Err(RunnerError::State(_))));
    assert!(out.runs.is_empty());
}

#[test]
fn one_scheduler_per_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_file(&dir);
    let lock_path = dir.path().join("scheduler.json.lock");
    let held = RunLock::try_acquire(&lock_path).unwrap();
    let stop = Stop::new();
    let clock = TestClock::new("2026-11-26T00:00:00Z", &stop, None);
    let out = run(&[entry("a", "@daily")], &path, &clock, &stop, &no_time, None);
    let err = out.result.unwrap_err();
    match &err {
        RunnerError::AlreadyRunning { holder: Some(holder), .. } => {
            assert!(holder.starts_with(&format!("pid {} since ", std::process::id())));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().starts_with(&format!(
        "another scheduler is already using state file {} (lock {} held by pid ",
        path.display(),
        lock_path.display()
    )));
    drop(held);
}

#[test]
fn bad_entries_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let stop = Stop::new();
    let clock = TestClock::new("2026-11-26T00:00:00Z", &stop, None);
    let out = run(&[], &state_file(&dir), &clock, &stop, &no_time, None);
    assert_eq!(out.result.unwrap_err().to_string(), "scheduler: no jobs to schedule");
    let out = run(&[entry("a", "@daily"), entry("a", "@hourly")], &state_file(&dir), &clock, &stop, &no_time, None);
    assert_eq!(out.result.unwrap_err().to_string(), r#"scheduler: job name "a" is used twice"#);
}

#[test]
fn failed_runs_are_recorded_and_not_retried() {
    let dir = tempfile::tempdir().unwrap();
    let stop = Stop::new();
    let clock = TestClock::new("2026-11-26T00:00:30Z", &stop, None);
    let mut slots_seen = Vec::new();
    let mut events = Vec::new();
    let result = run_loop(
        &[entry("m", "* * * * *")],
        &state_file(&dir),
        DEFAULT_GRACE,
        &stop,
        &clock,
        &mut |_, slot| {
            slots_seen.push(slot);
            if slots_seen.len() == 2 {
                stop.request();
            }
            FireResult::Failed("exit status 75".into())
        },
        &mut |e| events.push(e.to_string()),
    );
    result.unwrap();
    assert_eq!(slots_seen, ts(&["2026-11-26T00:01:00Z", "2026-11-26T00:02:00Z"]));
    assert!(events.contains(&"job m: slot 2026-11-26T00:01:00Z failed: exit status 75 in 0.000s".to_owned()));
    assert_eq!(events.last().unwrap(), "scheduler stopping");
}

#[test]
fn stop_from_signals() {
    let stop = Stop::install_signals().unwrap();
    assert!(!stop.is_requested());
    signal_hook::low_level::raise(signal_hook::consts::SIGTERM).unwrap();
    assert!(stop.is_requested());
}

#[test]
fn event_lines() {
    let slot = t("2026-11-26T17:30:00Z");
    assert_eq!(
        Event::Started { jobs: 2, state_path: "/var/lib/crlbatch/scheduler.json".into() }.to_string(),
        "scheduler started with 2 job(s), state /var/lib/crlbatch/scheduler.json"
    );
    assert_eq!(
        Event::FirstStart { job: "daily".into(), next: Some(slot) }.to_string(),
        "job daily: first start, next run at 2026-11-26T17:30:00Z"
    );
    assert_eq!(Event::Firing { job: "daily".into(), slot }.to_string(), "job daily: running slot 2026-11-26T17:30:00Z");
    assert_eq!(
        Event::Fired { job: "daily".into(), slot, result: FireResult::Succeeded, took: Duration::from_secs(187) }
            .to_string(),
        "job daily: slot 2026-11-26T17:30:00Z succeeded in 3m07s"
    );
    assert_eq!(
        Event::Fired { job: "daily".into(), slot, result: FireResult::Busy("lock held".into()), took: Duration::ZERO }
            .to_string(),
        "job daily: slot 2026-11-26T17:30:00Z not run: lock held"
    );
    assert_eq!(Event::NoMoreSlots { job: "y".into() }.to_string(), "job y: schedule has no more slots");
    assert_eq!(Event::Stopping.to_string(), "scheduler stopping");
}
