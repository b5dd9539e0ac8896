use std::time::Duration;

use crlbatch_schedule::{missed_run, CatchUp, CatchUpPolicy, Schedule, DEFAULT_GRACE};

use crate::t;

const HOUR: Duration = Duration::from_secs(3600);

fn daily_0230_tokyo() -> Schedule {
    Schedule::parse("30 2 * * *", chrono_tz::Asia::Tokyo).unwrap()
}

#[test]
fn default_grace_is_six_hours() {
    assert_eq!(DEFAULT_GRACE, 6 * HOUR);
    assert_eq!(CatchUpPolicy::default().grace, 6 * HOUR);
}

#[test]
fn down_from_0100_to_0500_jst_runs_the_0230_slot_once() {
    // Last fired 02:30 JST on the 26th; down from 01:00 to 05:00 JST on the 27th.
    let last = t("2026-11-25T17:30:00Z");
    let now = t("2026-11-26T20:00:00Z");
    let slot = t("2026-11-26T17:30:00Z");
    assert_eq!(
        missed_run(&daily_0230_tokyo(), Some(last), now, 6 * HOUR),
        CatchUp::RunNow { slot, first_missed: slot }
    );
    assert_eq!(
        CatchUpPolicy::default().decide(&daily_0230_tokyo(), Some(last), now),
        CatchUp::RunNow { slot, first_missed: slot }
    );
}

#[test]
fn three_days_down_runs_at_most_once_for_the_latest_slot() {
    let last = t("2026-11-23T17:30:00Z");
    let first_missed = t("2026-11-24T17:30:00Z");
    let slot = t("2026-11-26T17:30:00Z");
    // 05:00 JST on the 27th: the latest slot is 2h30 old.
    assert_eq!(
        missed_run(&daily_0230_tokyo(), Some(last), t("2026-11-26T20:00:00Z"), 6 * HOUR),
        CatchUp::RunNow { slot, first_missed }
    );
    // 11:00 JST on the 27th: the latest slot is 8h30 old, beyond the grace window.
    assert_eq!(
        missed_run(&daily_0230_tokyo(), Some(last), t("2026-11-27T02:00:00Z"), 6 * HOUR),
        CatchUp::Skipped { slot, first_missed, missed_by: Duration::from_secs(8 * 3600 + 1800) }
    );
}

#[test]
fn grace_boundary_is_inclusive_and_configurable() {
    let last = t("2026-11-25T17:30:00Z");
    let slot = t("2026-11-26T17:30:00Z");
    assert_eq!(
        missed_run(&daily_0230_tokyo(), Some(last), t("2026-11-26T23:30:00Z"), 6 * HOUR),
        CatchUp::RunNow { slot, first_missed: slot }
    );
    assert_eq!(
        missed_run(&daily_0230_tokyo(), Some(last), t("2026-11-26T23:30:01Z"), 6 * HOUR),
        CatchUp::Skipped { slot, first_missed: slot, missed_by: 6 * HOUR + Duration::from_secs(1) }
    );
    assert_eq!(
        CatchUpPolicy { grace: HOUR }.decide(&daily_0230_tokyo(), Some(last), t("2026-11-26T20:00:00Z")),
        CatchUp::Skipped { slot, first_missed: slot, missed_by: Duration::from_secs(2 * 3600 + 1800) }
    );
    // A slot due exactly now counts as missed by zero.
    assert_eq!(
        missed_run(&daily_0230_tokyo(), Some(last), slot, Duration::ZERO),
        CatchUp::RunNow { slot, first_missed: slot }
    );
}

#[test]
fn nothing_to_catch_up() {
    // First start.
    assert_eq!(missed_run(&daily_0230_tokyo(), None, t("2026-11-26T20:00:00Z"), 6 * HOUR), CatchUp::None);
    // The latest slot was fired.
    assert_eq!(
        missed_run(&daily_0230_tokyo(), Some(t("2026-11-26T17:30:00Z")), t("2026-11-26T20:00:00Z"), 6 * HOUR),
        CatchUp::None
    );
    // A last fire in the future (clock went back) owes nothing.
    assert_eq!(
        missed_run(&daily_0230_tokyo(), Some(t("2026-11-28T17:30:00Z")), t("2026-11-26T20:00:00Z"), 6 * HOUR),
        CatchUp::None
    );
}

#[test]
fn per_minute_schedule_after_days_down() {
    let s = Schedule::parse("* * * * *", chrono_tz::Asia::Tokyo).unwrap();
    assert_eq!(
        missed_run(&s, Some(t("2026-11-20T00:00:00Z")), t("2026-11-26T20:00:30Z"), 6 * HOUR),
        CatchUp::RunNow { slot: t("2026-11-26T20:00:00Z"), first_missed: t("2026-11-20T00:01:00Z") }
    );
}
