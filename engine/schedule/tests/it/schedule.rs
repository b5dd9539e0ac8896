use chrono::TimeDelta;
use chrono_tz::Tz;
use crlbatch_schedule::Schedule;

use crate::{t, ts};

const TOKYO: Tz = chrono_tz::Asia::Tokyo;
const BERLIN: Tz = chrono_tz::Europe::Berlin;
const UTC: Tz = chrono_tz::UTC;

fn upcoming(expr: &str, tz: Tz, after: &str, n: usize) -> Vec<chrono::DateTime<chrono::Utc>> {
    Schedule::parse(expr, tz).unwrap().upcoming(t(after), n)
}

fn error(expr: &str) -> String {
    Schedule::parse(expr, TOKYO).unwrap_err().to_string()
}

#[test]
fn daily_0230_tokyo_is_1730_utc_the_day_before() {
    let expected = ts(&["2026-11-26T17:30:00Z", "2026-11-27T17:30:00Z", "2026-11-28T17:30:00Z"]);
    assert_eq!(upcoming("30 2 * * *", TOKYO, "2026-11-26T00:00:00Z", 3), expected);
    // The 6-field form with seconds means the same.
    assert_eq!(upcoming("0 30 2 * * *", TOKYO, "2026-11-26T00:00:00Z", 3), expected);
    let s = Schedule::parse("30 2 * * *", TOKYO).unwrap();
    assert_eq!(s.timezone(), TOKYO);
    assert_eq!(s.expression(), "30 2 * * *");
    assert_eq!(s.to_string(), "30 2 * * * (Asia/Tokyo)");
}

#[test]
fn next_after_is_strictly_after() {
    let s = Schedule::parse("30 2 * * *", TOKYO).unwrap();
    assert_eq!(s.next_after(t("2026-11-26T17:30:00Z")), Some(t("2026-11-27T17:30:00Z")));
    assert_eq!(s.next_after(t("2026-11-26T17:29:59.999Z")), Some(t("2026-11-26T17:30:00Z")));
    assert_eq!(s.next_after(t("2026-11-26T17:30:00.001Z")), Some(t("2026-11-27T17:30:00Z")));
}

#[test]
fn every_quarter_hour() {
    assert_eq!(
        upcoming("*/15 * * * *", TOKYO, "2026-11-26T00:07:00Z", 4),
        ts(&["2026-11-26T00:15:00Z", "2026-11-26T00:30:00Z", "2026-11-26T00:45:00Z", "2026-11-26T01:00:00Z"])
    );
    assert_eq!(
        upcoming("0-30/10 9 * * *", UTC, "2026-11-26T00:00:00Z", 5),
        ts(&[
            "2026-11-26T09:00:00Z",
            "2026-11-26T09:10:00Z",
            "2026-11-26T09:20:00Z",
            "2026-11-26T09:30:00Z",
            "2026-11-27T09:00:00Z"
        ])
    );
}

#[test]
fn weekdays_use_crontab_numbers() {
    // 2026-11-26 is a Thursday; 09:00 JST is 00:00 UTC.
    let expected = ts(&["2026-11-27T00:00:00Z", "2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z"]);
    for expr in ["0 9 * * 1-5", "0 9 * * MON-FRI", "0 9 * * mon,tue,wed,thu,fri", "0 0 9 * * 1-5"] {
        assert_eq!(upcoming(expr, TOKYO, "2026-11-26T00:00:00Z", 3), expected, "{expr}");
    }
    // Fri-Sun written with 7 = Sunday (a range that is not contiguous in the cron crate's numbering).
    assert_eq!(
        upcoming("0 9 * * 5-7", TOKYO, "2026-11-26T00:00:00Z", 4),
        ts(&["2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z", "2026-12-04T00:00:00Z"])
    );
    // Saturday is 6.
    assert_eq!(upcoming("0 9 * * 6", TOKYO, "2026-11-26T00:00:00Z", 1), ts(&["2026-11-28T00:00:00Z"]));
}

#[test]
fn sunday_is_0_and_7() {
    // Sunday 2026-11-29 00:00 JST = 2026-11-28T15:00Z.
    let expected = ts(&["2026-11-28T15:00:00Z", "2026-12-05T15:00:00Z"]);
    for expr in ["0 0 * * 0", "0 0 * * 7", "0 0 * * SUN", "0 0 * * Sunday", "@weekly", "0 0 0 * * 7"] {
        assert_eq!(upcoming(expr, TOKYO, "2026-11-26T00:00:00Z", 2), expected, "{expr}");
    }
    // `*/7` over 0-7 is 0 and 7: Sundays only.
    assert_eq!(upcoming("0 0 * * */7", TOKYO, "2026-11-26T00:00:00Z", 2), expected);
}

#[test]
fn shortcuts() {
    let daily = ts(&["2026-11-26T15:00:00Z", "2026-11-27T15:00:00Z"]);
    assert_eq!(upcoming("@daily", TOKYO, "2026-11-26T00:00:00Z", 2), daily);
    assert_eq!(upcoming("@midnight", TOKYO, "2026-11-26T00:00:00Z", 2), daily);
    assert_eq!(
        upcoming("@hourly", UTC, "2026-11-26T00:30:00Z", 2),
        ts(&["2026-11-26T01:00:00Z", "2026-11-26T02:00:00Z"])
    );
    assert_eq!(
        upcoming("@monthly", UTC, "2026-11-26T00:00:00Z", 2),
        ts(&["2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"])
    );
    for expr in ["@yearly", "@annually"] {
        assert_eq!(
            upcoming(expr, TOKYO, "2026-11-26T00:00:00Z", 2),
            ts(&["2026-12-31T15:00:00Z", "2027-12-31T15:00:00Z"])
        );
    }
    assert_eq!(
        error("@reboot"),
        r#"schedule "@reboot": @reboot is not supported by the scheduler (it has no notion of boot)"#
    );
    assert!(error("@fortnightly").starts_with(r#"schedule "@fortnightly": unknown shortcut "@fortnightly""#));
}

#[test]
fn names_and_lists() {
    assert_eq!(
        upcoming("0 12 1 JAN,jul *", UTC, "2026-11-26T00:00:00Z", 2),
        ts(&["2027-01-01T12:00:00Z", "2027-07-01T12:00:00Z"])
    );
    assert_eq!(
        upcoming("15,45 3 * * *", UTC, "2026-11-26T03:20:00Z", 2),
        ts(&["2026-11-26T03:45:00Z", "2026-11-27T03:15:00Z"])
    );
}

#[test]
fn day_of_month_or_day_of_week_as_in_crontab() {
    // Both restricted: the 1st of the month OR a Monday (2026-11-30 and 2026-12-07 are Mondays).
    assert_eq!(
        upcoming("0 0 1 * MON", UTC, "2026-11-26T00:00:00Z", 4),
        ts(&["2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z", "2026-12-07T00:00:00Z", "2026-12-14T00:00:00Z"])
    );
    // Day-of-month starting with `*`: both must match (odd days that are Mondays).
    assert_eq!(
        upcoming("0 0 */2 * MON", UTC, "2026-11-26T00:00:00Z", 2),
        ts(&["2026-12-07T00:00:00Z", "2026-12-21T00:00:00Z"])
    );
    // `?` counts as unrestricted, as `*`.
    assert_eq!(upcoming("0 0 0 ? * MON", UTC, "2026-11-26T00:00:00Z", 1), ts(&["2026-11-30T00:00:00Z"]));
}

#[test]
fn seconds_and_years() {
    assert_eq!(
        upcoming("*/20 * * * * *", UTC, "2026-11-26T00:00:00Z", 3),
        ts(&["2026-11-26T00:00:20Z", "2026-11-26T00:00:40Z", "2026-11-26T00:01:00Z"])
    );
    assert_eq!(upcoming("0 0 12 1 1 * 2027", UTC, "2026-11-26T00:00:00Z", 3), ts(&["2027-01-01T12:00:00Z"]));
    let s = Schedule::parse("0 0 12 1 1 * 2020", UTC).unwrap();
    assert_eq!(s.next_after(t("2026-11-26T00:00:00Z")), None);
    assert_eq!(
        s.latest_at_or_before(t("2026-11-26T00:00:00Z"), t("2019-01-01T00:00:00Z")),
        Some(t("2020-01-01T12:00:00Z"))
    );
}

#[test]
fn bad_expressions_name_the_expression() {
    assert_eq!(error("61 * * * *"), r#"schedule "61 * * * *": minute field "61": 61 is out of range 0-59"#);
    assert_eq!(error("61 2 * * *"), r#"schedule "61 2 * * *": minute field "61": 61 is out of range 0-59"#);
    assert_eq!(
        error("* * *"),
        r#"schedule "* * *": expected 5 fields (minute hour day-of-month month day-of-week), 6 or 7 (second first, optional year last) or a @shortcut, found 3 fields"#
    );
    assert_eq!(error(""), r#"schedule "": empty expression"#);
    assert_eq!(error("   "), r#"schedule "   ": empty expression"#);
    assert_eq!(error("0 24 * * *"), r#"schedule "0 24 * * *": hour field "24": 24 is out of range 0-23"#);
    assert_eq!(error("0 0 0 * *"), r#"schedule "0 0 0 * *": day-of-month field "0": 0 is out of range 1-31"#);
    assert_eq!(error("0 0 * 13 *"), r#"schedule "0 0 * 13 *": month field "13": 13 is out of range 1-12"#);
    assert_eq!(error("0 0 * * 8"), r#"schedule "0 0 * * 8": day-of-week field "8": 8 is out of range 0-7"#);
    assert_eq!(
        error("0 0 * * FRI-MON"),
        r#"schedule "0 0 * * FRI-MON": day-of-week field "FRI-MON": range "FRI-MON" is backwards (ranges do not wrap around)"#
    );
    assert_eq!(error("0 0 30 2 *"), r#"schedule "0 0 30 2 *": never matches any date from 1970 to 2100"#);
    assert!(error("*/0 * * * *").contains("step \"0\" must be a number from 1 to 60"));
    assert!(error("0 0 * * * * 1969").contains("year field \"1969\": 1969 is out of range 1970-2100"));
    // A pasted crontab line with its command is refused, not misread.
    assert!(error("30 2 * * * /usr/bin/crlbatch")
        .starts_with(r#"schedule "30 2 * * * /usr/bin/crlbatch": day-of-week field"#));
    assert!(error("1 2 3 4 5 6 7 8").contains("found 8 fields"));
    // Errors are one line.
    assert!(!error("61\n* * * *").contains('\n'));
}

#[test]
fn latest_at_or_before() {
    let s = Schedule::parse("*/15 * * * *", TOKYO).unwrap();
    let nb = t("2026-11-25T00:00:00Z");
    assert_eq!(s.latest_at_or_before(t("2026-11-26T00:07:00Z"), nb), Some(t("2026-11-26T00:00:00Z")));
    // Both ends inclusive.
    assert_eq!(s.latest_at_or_before(t("2026-11-26T00:15:00Z"), nb), Some(t("2026-11-26T00:15:00Z")));
    assert_eq!(
        s.latest_at_or_before(t("2026-11-26T00:07:00Z"), t("2026-11-26T00:00:00Z")),
        Some(t("2026-11-26T00:00:00Z"))
    );
    assert_eq!(s.latest_at_or_before(t("2026-11-26T00:07:00Z"), t("2026-11-26T00:00:01Z")), None);
    assert_eq!(s.latest_at_or_before(t("2026-11-26T00:07:00Z"), t("2026-11-27T00:00:00Z")), None);
    let daily = Schedule::parse("30 2 * * *", TOKYO).unwrap();
    assert_eq!(
        daily.latest_at_or_before(t("2026-11-26T20:00:00Z"), t("2026-11-23T17:30:00.001Z")),
        Some(t("2026-11-26T17:30:00Z"))
    );
    // A per-minute schedule over a window of days is cheap.
    let minutely = Schedule::parse("* * * * *", TOKYO).unwrap();
    let started = std::time::Instant::now();
    assert_eq!(
        minutely.latest_at_or_before(t("2026-11-26T20:00:30Z"), t("2026-11-20T00:00:00Z")),
        Some(t("2026-11-26T20:00:00Z"))
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}

#[test]
fn spring_forward_fires_at_the_end_of_the_gap() {
    // Europe/Berlin, 2026-03-29: 02:00 CET (01:00Z) becomes 03:00 CEST.
    assert_eq!(
        upcoming("30 2 * * *", BERLIN, "2026-03-28T12:00:00Z", 2),
        ts(&["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"])
    );
    // The skipped 02:00 and 02:30 collapse into the transition instant (= 03:00 CEST).
    assert_eq!(
        upcoming("*/30 * * * *", BERLIN, "2026-03-29T00:15:00Z", 3),
        ts(&["2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:30:00Z"])
    );
}

#[test]
fn fall_back_fires_a_repeated_local_time_once() {
    // Europe/Berlin, 2026-10-25: 03:00 CEST (01:00Z) becomes 02:00 CET; 02:00-02:59 happen twice.
    assert_eq!(
        upcoming("30 2 * * *", BERLIN, "2026-10-24T12:00:00Z", 2),
        ts(&["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"])
    );
    assert_eq!(
        upcoming("*/30 * * * *", BERLIN, "2026-10-24T23:45:00Z", 3),
        ts(&["2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T02:00:00Z"])
    );
    // From inside the second pass: the next local time that has not fired yet.
    let s = Schedule::parse("*/30 * * * *", BERLIN).unwrap();
    assert_eq!(s.next_after(t("2026-10-25T01:10:00Z")), Some(t("2026-10-25T02:00:00Z")));
    assert_eq!(
        s.latest_at_or_before(t("2026-10-25T01:10:00Z"), t("2026-10-24T00:00:00Z")),
        Some(t("2026-10-25T00:30:00Z"))
    );
}

/// `latest_at_or_before` against a plain forward scan, in zones with and
/// without DST, around both transitions.
#[test]
fn latest_at_or_before_matches_a_forward_scan() {
    let exprs = ["*/15 * * * *", "30 2 * * *", "0 9 * * 1-5", "0 0 1 * MON", "*/7 1-3 * * *", "0 30 2 * * *"];
    let starts = ["2026-03-28T20:00:00Z", "2026-10-24T20:00:00Z", "2026-11-25T10:00:00Z"];
    for tz in [TOKYO, BERLIN, chrono_tz::America::New_York, chrono_tz::Australia::Lord_Howe] {
        for expr in exprs {
            let s = Schedule::parse(expr, tz).unwrap();
            for start in starts {
                let nb = t(start);
                let fires = s.upcoming(nb - TimeDelta::seconds(1), 400);
                for step in 0..(36 * 6) {
                    let now = nb + TimeDelta::minutes(10 * step) + TimeDelta::seconds(step % 7);
                    let expected = fires.iter().copied().rfind(|x| *x <= now && *x >= nb);
                    assert_eq!(s.latest_at_or_before(now, nb), expected, "{expr} in {tz} at {now}");
                }
                assert!(fires.windows(2).all(|w| w[0] < w[1]), "{expr} in {tz}: not increasing");
            }
        }
    }
}
