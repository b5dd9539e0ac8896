//! Cron expressions evaluated in a time zone.
//!
//! # Accepted forms
//!
//! * **5 fields**, exactly as in crontab(5): `minute hour day-of-month month
//!   day-of-week`, e.g. `30 2 * * *` or `*/15 9-17 * * MON-FRI`. The job fires
//!   at second 0.
//! * **6 or 7 fields**, the form of the `cron` crate: `second minute hour
//!   day-of-month month day-of-week [year]`, e.g. `0 30 2 * * *`.
//! * **Shortcuts**: `@yearly` = `@annually` = `0 0 1 1 *`, `@monthly` =
//!   `0 0 1 * *`, `@weekly` = `0 0 * * 0`, `@daily` = `@midnight` = `0 0 * * *`,
//!   `@hourly` = `0 * * * *`. (`@reboot` is rejected: there is no boot here.)
//!
//! Items are `*`, values, names (`JAN`, `MON`, case-insensitive), ranges
//! (`1-5`), lists (`1,15`) and steps (`*/5`, `0-30/10`); see the `field` module.
//!
//! # Crontab meaning, in every form
//!
//! The expression means what it means in crontab, whatever the number of fields:
//!
//! * **Day-of-week numbers are crontab numbers**: 0 or 7 = Sunday, 1 = Monday
//!   ... 6 = Saturday. The `cron` crate numbers 1 = Sunday ... 7 = Saturday;
//!   the expression is translated, so `0 9 * * 1-5` is Monday to Friday and
//!   `0 0 * * 7` is Sunday. The 6/7-field form uses the crontab numbering
//!   too, so that adding a seconds field never changes which days match (an
//!   expression written for the `cron` crate or Quartz with *numeric* days of
//!   the week therefore means something else here: use names, `MON-FRI`,
//!   which mean the same everywhere).
//! * **Day-of-month and day-of-week**: when both are restricted (neither
//!   starts with `*` or `?`), a day matches if *either* matches, as in crontab
//!   (`0 0 1 * MON` is the 1st of the month and every Monday); the `cron`
//!   crate would require both. When one of them starts with `*`, both must
//!   match (so `0 0 */2 * MON` is odd days that are Mondays, the classic
//!   crontab quirk).
//!
//! An expression that can never match (`0 0 30 2 *`) is rejected.
//!
//! # Time zones and daylight saving time
//!
//! Fields are matched against the wall-clock time in the schedule's zone
//! (`30 2 * * *` in `Asia/Tokyo` is 02:30 JST = 17:30 UTC the day before).
//! Zones with daylight saving time have local times that do not exist
//! (spring forward) or exist twice (fall back). On its own the `cron` crate
//! silently skips local times that do not exist and yields both instants of a
//! repeated local time (from a fresh start it returns the earlier one even if
//! it is before the start). This module instead gives **every matching local
//! time exactly one fire instant**:
//!
//! * a local time that exists once fires then;
//! * a local time that exists twice fires at its **first** occurrence only
//!   (a daily `30 1 * * *` in `America/New_York` runs once on the fall-back
//!   day; a `*/15` schedule pauses for the repeated hour);
//! * a local time that does not exist fires at the **end of the gap**, i.e.
//!   at the transition instant (a daily `30 2 * * *` in `Europe/Berlin` runs at
//!   03:00 CEST on the spring-forward day instead of not at all; several
//!   skipped slots of a `*/15` schedule collapse into that one instant).
//!
//! Fire instants are therefore never decreasing in local-time order, and
//! [`Schedule::next_after`] is strictly increasing when iterated.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use crate::field::{self, FieldSpec};

/// Upper bound of the change of a zone's UTC offset at one transition (the
/// largest in the tz database since 1970 is 2 hours, Antarctica/Troll).
const MAX_OFFSET_SHIFT_SECS: i64 = 3 * 3600;

/// Defensive bound on the candidates examined by one search (a per-second
/// schedule crosses at most a few thousand candidates in a DST gap or overlap).
const MAX_SCAN: usize = 1_000_000;

/// A parsed cron expression in a time zone.
#[derive(Clone)]
pub struct Schedule {
    expression: String,
    tz: Tz,
    /// One `cron` schedule, or two when day-of-month and day-of-week are both
    /// restricted (a day matches if either matches). They are evaluated in
    /// UTC on *local wall-clock* times (so the `cron` crate never sees DST);
    /// the mapping to real instants is done here.
    parts: Vec<cron::Schedule>,
}

/// An invalid cron expression: one line naming the expression and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schedule {expression:?}: {reason}")]
pub struct ScheduleError {
    expression: String,
    reason: String,
}

impl ScheduleError {
    fn new(expression: &str, reason: impl Into<String>) -> ScheduleError {
        ScheduleError { expression: expression.to_owned(), reason: reason.into() }
    }

    /// The expression as given.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// What is wrong with it.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schedule").field("expression", &self.expression).field("timezone", &self.tz).finish()
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.expression, self.tz)
    }
}

/// Expansion of a shortcut into the 5-field form, or why it is refused.
fn shortcut(word: &str) -> Result<&'static str, String> {
    match word.to_ascii_lowercase().as_str() {
        "@yearly" | "@annually" => Ok("0 0 1 1 *"),
        "@monthly" => Ok("0 0 1 * *"),
        "@weekly" => Ok("0 0 * * 0"),
        "@daily" | "@midnight" => Ok("0 0 * * *"),
        "@hourly" => Ok("0 * * * *"),
        "@reboot" => Err("@reboot is not supported by the scheduler (it has no notion of boot)".to_owned()),
        _ => Err(format!(
            "unknown shortcut {word:?} (known: @yearly @annually @monthly @weekly @daily @midnight @hourly)"
        )),
    }
}

/// The `cron` crate text for a set of values (`*` for the full range).
fn cron_list(values: &BTreeSet<u32>, spec: &FieldSpec, map: impl Fn(u32) -> u32) -> String {
    let full = u32::try_from(values.len()).is_ok_and(|n| n == spec.max - spec.min + 1);
    if full {
        "*".to_owned()
    } else {
        values.iter().map(|v| map(*v).to_string()).collect::<Vec<_>>().join(",")
    }
}

impl Schedule {
    /// Parse `expr` (see the module documentation for the accepted forms),
    /// evaluated in the zone `tz`.
    pub fn parse(expr: &str, tz: Tz) -> Result<Schedule, ScheduleError> {
        let trimmed = expr.trim();
        if trimmed.is_empty() {
            return Err(ScheduleError::new(expr, "empty expression"));
        }
        let text = if trimmed.starts_with('@') {
            shortcut(trimmed).map_err(|reason| ScheduleError::new(expr, reason))?
        } else {
            trimmed
        };
        let fields: Vec<&str> = text.split_whitespace().collect();
        let (second, rest, year) = match fields.as_slice() {
            [m, h, dom, mon, dow] => ("0", [*m, *h, *dom, *mon, *dow], None),
            [s, m, h, dom, mon, dow] => (*s, [*m, *h, *dom, *mon, *dow], None),
            [s, m, h, dom, mon, dow, y] => (*s, [*m, *h, *dom, *mon, *dow], Some(*y)),
            _ => {
                return Err(ScheduleError::new(
                    expr,
                    format!(
                        "expected 5 fields (minute hour day-of-month month day-of-week), 6 or 7 (second first, \
                         optional year last) or a @shortcut, found {} field{}",
                        fields.len(),
                        if fields.len() == 1 { "" } else { "s" }
                    ),
                ))
            }
        };
        let [minute, hour, dom, month, dow] = rest;
        let parse = |text: &str, spec: &FieldSpec| field::parse_field(text, spec);
        let parsed = (|| {
            let seconds = parse(second, &field::SECOND)?;
            let minutes = parse(minute, &field::MINUTE)?;
            let hours = parse(hour, &field::HOUR)?;
            let doms = parse(dom, &field::DAY_OF_MONTH)?;
            let months = parse(month, &field::MONTH)?;
            // Crontab 7 is Sunday like 0.
            let dows: BTreeSet<u32> = parse(dow, &field::DAY_OF_WEEK)?.into_iter().map(|d| d % 7).collect();
            let years = match year {
                Some(y) => Some(parse(y, &field::YEAR)?),
                None => None,
            };
            Ok::<_, String>((seconds, minutes, hours, doms, months, dows, years))
        })();
        let (seconds, minutes, hours, doms, months, dows, years) =
            parsed.map_err(|reason| ScheduleError::new(expr, reason))?;

        let common = |dom_text: &str, dow_text: &str| {
            format!(
                "{} {} {} {dom_text} {} {dow_text} {}",
                cron_list(&seconds, &field::SECOND, |v| v),
                cron_list(&minutes, &field::MINUTE, |v| v),
                cron_list(&hours, &field::HOUR, |v| v),
                cron_list(&months, &field::MONTH, |v| v),
                years.as_ref().map_or_else(|| "*".to_owned(), |y| cron_list(y, &field::YEAR, |v| v)),
            )
        };
        let dom_text = cron_list(&doms, &field::DAY_OF_MONTH, |v| v);
        // Sunday..Saturday are 0..6 in crontab and 1..7 in the cron crate. After
        // folding 7 into 0 the full week has 7 values, one less than the span 0-7.
        let dow_text = if dows.len() == 7 {
            "*".to_owned()
        } else {
            dows.iter().map(|d| (d + 1).to_string()).collect::<Vec<_>>().join(",")
        };
        let cron_texts = if field::starts_unrestricted(dom) || field::starts_unrestricted(dow) {
            vec![common(&dom_text, &dow_text)]
        } else {
            vec![common(&dom_text, "*"), common("*", &dow_text)]
        };
        let parts = cron_texts
            .iter()
            .map(|t| {
                cron::Schedule::from_str(t)
                    .map_err(|e| ScheduleError::new(expr, format!("rejected by the cron crate as {t:?}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let schedule = Schedule { expression: expr.to_owned(), tz, parts };
        if schedule.naive_next(NaiveDateTime::MIN).is_none() {
            return Err(ScheduleError::new(expr, "never matches any date from 1970 to 2100"));
        }
        Ok(schedule)
    }

    /// The expression as given to [`Schedule::parse`].
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The zone the fields are matched in.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The first fire instant strictly after `t`, or `None` if there is none
    /// (the `cron` crate stops at the end of 2100).
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Local times not after wall(t) fire at or before t (fire instants are
        // non-decreasing in local-time order), so the search starts there. Only
        // inside a repeated hour does it go through candidates whose (first)
        // instant is already past.
        let mut local = self.wall(t)?;
        for _ in 0..MAX_SCAN {
            local = self.naive_next(local)?;
            match self.instant_of(local) {
                Some(x) if x > t => return Some(x),
                _ => {}
            }
        }
        None
    }

    /// The next `n` fire instants strictly after `after`, fewer if the
    /// schedule ends.
    pub fn upcoming(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(n.min(1024));
        let mut cursor = after;
        while out.len() < n {
            match self.next_after(cursor) {
                Some(x) => {
                    out.push(x);
                    cursor = x;
                }
                None => break,
            }
        }
        out
    }

    /// The most recent fire instant in `[not_before, t]`, if any.
    ///
    /// Cost does not depend on the length of the window: the search goes
    /// backwards from `t` (through the `cron` crate's reverse iteration) and
    /// the answer is then checked with [`Schedule::next_after`]; should that
    /// check ever fail, the window is scanned forwards from `not_before`.
    pub fn latest_at_or_before(&self, t: DateTime<Utc>, not_before: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if not_before > t {
            return None;
        }
        let found = self.latest_backwards(t, not_before);
        let check_from = match found {
            Some(x) => Some(x),
            None => not_before.checked_sub_signed(TimeDelta::nanoseconds(1)),
        };
        match check_from.and_then(|from| self.next_after(from)) {
            Some(next) if next <= t => self.latest_forwards(t, not_before),
            _ => found,
        }
    }

    fn latest_backwards(&self, t: DateTime<Utc>, not_before: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // A local time whose fire instant is <= t is at most t + (the largest
        // offset in force shortly before t): at a fall-back transition the
        // repeated local times are later than wall(t) but fired earlier.
        let earlier = t.checked_sub_signed(TimeDelta::seconds(MAX_OFFSET_SHIFT_SECS)).unwrap_or(t);
        let offset = self.offset_secs(t).max(self.offset_secs(earlier));
        let upper = t.naive_utc().checked_add_signed(TimeDelta::seconds(offset))?;
        let mut local = upper.checked_add_signed(TimeDelta::seconds(1))?;
        for _ in 0..MAX_SCAN {
            local = self.naive_prev(local)?;
            match self.instant_of(local) {
                Some(x) if x < not_before => return None,
                Some(x) if x <= t => return Some(x),
                _ => {}
            }
        }
        None
    }

    fn latest_forwards(&self, t: DateTime<Utc>, not_before: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut cursor = not_before.checked_sub_signed(TimeDelta::nanoseconds(1))?;
        let mut latest = None;
        while let Some(x) = self.next_after(cursor) {
            if x > t {
                break;
            }
            latest = Some(x);
            cursor = x;
        }
        latest
    }

    /// UTC offset of the zone at instant `t`, in seconds.
    fn offset_secs(&self, t: DateTime<Utc>) -> i64 {
        i64::from(self.tz.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc())
    }

    /// Wall-clock time in the zone at instant `t`.
    fn wall(&self, t: DateTime<Utc>) -> Option<NaiveDateTime> {
        t.naive_utc().checked_add_signed(TimeDelta::seconds(self.offset_secs(t)))
    }

    /// The one fire instant of a matching local time (see the module docs).
    fn instant_of(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self.tz.from_local_datetime(&local) {
            LocalResult::Single(x) => Some(x.with_timezone(&Utc)),
            LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
            LocalResult::None => self.gap_end(local),
        }
    }

    /// For a local time inside a DST gap: the transition instant, i.e. the
    /// first instant whose wall-clock time is after `local`.
    fn gap_end(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        let after = |secs: i64| DateTime::from_timestamp(secs, 0).and_then(|x| self.wall(x)).map(|w| w > local);
        let center = local.and_utc().timestamp();
        // Offsets are less than a day, so the wall time a day before (after)
        // `local` read as UTC is before (after) `local`.
        let (mut lo, mut hi) = (center.checked_sub(86_400)?, center.checked_add(86_400)?);
        if after(lo)? || !after(hi)? {
            return None;
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if after(mid)? {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        DateTime::from_timestamp(hi, 0)
    }

    /// The first matching local time strictly after `local`.
    fn naive_next(&self, local: NaiveDateTime) -> Option<NaiveDateTime> {
        // The cron crate covers 1970-2100; keep its arithmetic away from the
        // limits of chrono's range.
        let start = if local.year() < 1970 {
            NaiveDate::from_ymd_opt(1969, 12, 31)?.and_hms_opt(23, 59, 59)?
        } else if local.year() > 2100 {
            return None;
        } else {
            local
        };
        self.parts.iter().filter_map(|p| p.after(&start.and_utc()).next()).map(|d| d.naive_utc()).min()
    }

    /// The last matching local time strictly before `local`.
    fn naive_prev(&self, local: NaiveDateTime) -> Option<NaiveDateTime> {
        let start = if local.year() > 2100 {
            NaiveDate::from_ymd_opt(2101, 1, 1)?.and_hms_opt(0, 0, 0)?
        } else if local.year() < 1970 {
            return None;
        } else {
            local
        };
        self.parts.iter().filter_map(|p| p.after(&start.and_utc()).next_back()).map(|d| d.naive_utc()).max()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;

    fn t(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// The backward search answers on its own (the forward scan in
    /// `latest_at_or_before` is only a safety net), including around DST.
    #[test]
    fn backward_search_agrees_with_forward_scan() {
        let zones = [chrono_tz::Asia::Tokyo, chrono_tz::Europe::Berlin, chrono_tz::Australia::Lord_Howe];
        let exprs = ["*/15 * * * *", "30 2 * * *", "0 0 1 * MON", "*/7 1-3 * * *", "*/20 * 2 * * *"];
        for tz in zones {
            for expr in exprs {
                let s = Schedule::parse(expr, tz).unwrap();
                for start in ["2026-03-28T20:00:00Z", "2026-10-03T12:00:00Z", "2026-10-24T20:00:00Z"] {
                    let nb = t(start);
                    for step in 0..(30 * 6) {
                        let now = nb + TimeDelta::minutes(10 * step) + TimeDelta::seconds(step % 7);
                        assert_eq!(s.latest_backwards(now, nb), s.latest_forwards(now, nb), "{expr} in {tz} at {now}");
                    }
                }
            }
        }
    }

    /// What the module documentation says about the cron crate on its own.
    #[test]
    fn raw_cron_crate_dst_behaviour() {
        let tz = chrono_tz::Europe::Berlin;
        let daily = cron::Schedule::from_str("0 30 2 * * *").unwrap();
        // Spring forward: 02:30 on 2026-03-29 does not exist and is skipped.
        let spring: Vec<_> = daily.after(&t("2026-03-28T12:00:00Z").with_timezone(&tz)).take(2).collect();
        assert_eq!(spring[0].with_timezone(&Utc), t("2026-03-30T00:30:00Z"));
        // Fall back: 02:30 on 2026-10-25 comes out twice.
        let fall: Vec<_> = daily.after(&t("2026-10-24T12:00:00Z").with_timezone(&tz)).take(3).collect();
        let fall: Vec<_> = fall.iter().map(|x| x.with_timezone(&Utc)).collect();
        assert_eq!(fall, vec![t("2026-10-25T00:30:00Z"), t("2026-10-25T01:30:00Z"), t("2026-10-26T01:30:00Z")]);
        // From a fresh start inside the second 02:00-02:59, it first returns an instant before the start.
        let start = t("2026-10-25T01:10:00Z");
        let first = daily.after(&start.with_timezone(&tz)).next().unwrap().with_timezone(&Utc);
        assert_eq!(first, t("2026-10-25T00:30:00Z"));
        assert!(first < start);
        // Its day-of-week numbers: 1 = Sunday.
        let sunday = cron::Schedule::from_str("0 0 0 * * 1").unwrap();
        assert_eq!(sunday.after(&t("2026-11-26T00:00:00Z")).next(), Some(t("2026-11-29T00:00:00Z")));
    }

    #[test]
    fn translation_to_the_cron_crate() {
        let s = Schedule::parse("*/15 9-17 * * 1-5", chrono_tz::UTC).unwrap();
        let sources: Vec<&str> = s.parts.iter().map(cron::Schedule::source).collect();
        assert_eq!(sources, vec!["0 0,15,30,45 9,10,11,12,13,14,15,16,17 * * 2,3,4,5,6 *"]);
        let s = Schedule::parse("0 0 1 * 0,7", chrono_tz::UTC).unwrap();
        let sources: Vec<&str> = s.parts.iter().map(cron::Schedule::source).collect();
        assert_eq!(sources, vec!["0 0 0 1 * * *", "0 0 0 * * 1 *"]);
    }
}
