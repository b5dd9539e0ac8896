//! Parsing of one cron field into the explicit set of values it selects.
//!
//! The syntax is the union of what crontab(5) and the `cron` crate accept, per
//! comma-separated item:
//!
//! * `*` (every value) and, in day-of-month and day-of-week only, `?` (same as `*`);
//! * a value `5`, or a name (`JAN`, `mon`, `Tuesday`: case-insensitive, months
//!   and days of the week only);
//! * a range `1-5` or `MON-FRI` (no wrap-around: `FRI-MON` is an error);
//! * a step after any of these: `*/15`, `1-30/5`, and `5/15` meaning `5-max/15`.
//!
//! Values are checked against the field's range, so mistakes are reported per
//! field (`minute field "61": 61 is out of range 0-59`) instead of being left
//! to the `cron` crate, whose messages do not say which field is wrong.

use std::collections::BTreeSet;

/// Description of one field: its name in messages, its range and its names.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldSpec {
    pub(crate) name: &'static str,
    pub(crate) min: u32,
    pub(crate) max: u32,
    names: &'static [(&'static str, u32)],
    /// Whether `?` is accepted (day-of-month and day-of-week, as in the `cron` crate).
    allow_any: bool,
}

const MONTH_NAMES: &[(&str, u32)] = &[
    ("jan", 1),
    ("january", 1),
    ("feb", 2),
    ("february", 2),
    ("mar", 3),
    ("march", 3),
    ("apr", 4),
    ("april", 4),
    ("may", 5),
    ("jun", 6),
    ("june", 6),
    ("jul", 7),
    ("july", 7),
    ("aug", 8),
    ("august", 8),
    ("sep", 9),
    ("september", 9),
    ("oct", 10),
    ("october", 10),
    ("nov", 11),
    ("november", 11),
    ("dec", 12),
    ("december", 12),
];

/// Crontab numbering: 0 = Sunday ... 6 = Saturday (7 is also Sunday, see [`DAY_OF_WEEK`]).
const DAY_NAMES: &[(&str, u32)] = &[
    ("sun", 0),
    ("sunday", 0),
    ("mon", 1),
    ("monday", 1),
    ("tue", 2),
    ("tues", 2),
    ("tuesday", 2),
    ("wed", 3),
    ("wednesday", 3),
    ("thu", 4),
    ("thur", 4),
    ("thurs", 4),
    ("thursday", 4),
    ("fri", 5),
    ("friday", 5),
    ("sat", 6),
    ("saturday", 6),
];

pub(crate) const SECOND: FieldSpec = FieldSpec { name: "second", min: 0, max: 59, names: &[], allow_any: false };
pub(crate) const MINUTE: FieldSpec = FieldSpec { name: "minute", min: 0, max: 59, names: &[], allow_any: false };
pub(crate) const HOUR: FieldSpec = FieldSpec { name: "hour", min: 0, max: 23, names: &[], allow_any: false };
pub(crate) const DAY_OF_MONTH: FieldSpec =
    FieldSpec { name: "day-of-month", min: 1, max: 31, names: &[], allow_any: true };
pub(crate) const MONTH: FieldSpec = FieldSpec { name: "month", min: 1, max: 12, names: MONTH_NAMES, allow_any: false };
/// Crontab day of week: 0-7 where both 0 and 7 are Sunday. The caller folds 7 into 0.
pub(crate) const DAY_OF_WEEK: FieldSpec =
    FieldSpec { name: "day-of-week", min: 0, max: 7, names: DAY_NAMES, allow_any: true };
/// The `cron` crate only represents years 1970-2100.
pub(crate) const YEAR: FieldSpec = FieldSpec { name: "year", min: 1970, max: 2100, names: &[], allow_any: false };

/// The values selected by `text` in the field described by `spec`.
///
/// The error is a one-line description naming the field, e.g.
/// `minute field "61": 61 is out of range 0-59`.
pub(crate) fn parse_field(text: &str, spec: &FieldSpec) -> Result<BTreeSet<u32>, String> {
    let mut values = BTreeSet::new();
    for item in text.split(',') {
        let (start, end, step) =
            parse_item(item, spec).map_err(|what| format!("{} field {text:?}: {what}", spec.name))?;
        let mut v = start;
        while v <= end {
            values.insert(v);
            match v.checked_add(step) {
                Some(next) => v = next,
                None => break,
            }
        }
    }
    Ok(values)
}

/// Whether the field text leaves the field unrestricted in the sense of
/// crontab's day-of-month/day-of-week rule: it starts with `*` (or `?`).
pub(crate) fn starts_unrestricted(text: &str) -> bool {
    text.starts_with('*') || text.starts_with('?')
}

/// One list item as an inclusive range with a step.
fn parse_item(item: &str, spec: &FieldSpec) -> Result<(u32, u32, u32), String> {
    if item.is_empty() {
        return Err("empty list item".to_owned());
    }
    let (base, step) = match item.split_once('/') {
        Some((base, step)) => (base, Some(parse_step(step, spec)?)),
        None => (item, None),
    };
    let (start, end) = match base {
        "*" => (spec.min, spec.max),
        "?" if spec.allow_any => (spec.min, spec.max),
        "?" => return Err("'?' is only allowed in the day-of-month and day-of-week fields".to_owned()),
        "" => return Err(format!("missing value before '/' in {item:?}")),
        _ => match base.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (parse_value(a, spec)?, parse_value(b, spec)?);
                if a > b {
                    return Err(format!("range {base:?} is backwards (ranges do not wrap around)"));
                }
                (a, b)
            }
            // `5/15` means `5-max/15` (as in the cron crate and cronie).
            None if step.is_some() => (parse_value(base, spec)?, spec.max),
            None => {
                let v = parse_value(base, spec)?;
                (v, v)
            }
        },
    };
    Ok((start, end, step.unwrap_or(1)))
}

fn parse_step(text: &str, spec: &FieldSpec) -> Result<u32, String> {
    let span = spec.max - spec.min + 1;
    match parse_number(text) {
        Some(step) if (1..=span).contains(&step) => Ok(step),
        _ => Err(format!("step {text:?} must be a number from 1 to {span}")),
    }
}

fn parse_value(text: &str, spec: &FieldSpec) -> Result<u32, String> {
    if text.is_empty() {
        return Err("missing value in range".to_owned());
    }
    if let Some(v) = parse_number(text) {
        return if (spec.min..=spec.max).contains(&v) {
            Ok(v)
        } else {
            Err(format!("{v} is out of range {}-{}", spec.min, spec.max))
        };
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{text} is out of range {}-{}", spec.min, spec.max));
    }
    if spec.names.is_empty() {
        return Err(format!("{text:?} is not a number (names are only allowed for months and days of the week)"));
    }
    let lower = text.to_ascii_lowercase();
    spec.names
        .iter()
        .find(|(name, _)| *name == lower)
        .map(|(_, v)| *v)
        .ok_or_else(|| format!("{text:?} is not a number or a known {} name", spec.name))
}

/// A plain decimal number (no sign, no spaces).
fn parse_number(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;

    fn set(values: &[u32]) -> BTreeSet<u32> {
        values.iter().copied().collect()
    }

    #[test]
    fn items() {
        assert_eq!(parse_field("*/15", &MINUTE).unwrap(), set(&[0, 15, 30, 45]));
        assert_eq!(parse_field("1-5", &DAY_OF_WEEK).unwrap(), set(&[1, 2, 3, 4, 5]));
        assert_eq!(parse_field("mon-FRI", &DAY_OF_WEEK).unwrap(), set(&[1, 2, 3, 4, 5]));
        assert_eq!(parse_field("5-7", &DAY_OF_WEEK).unwrap(), set(&[5, 6, 7]));
        assert_eq!(parse_field("1,6,jan,Dec", &MONTH).unwrap(), set(&[1, 6, 12]));
        assert_eq!(parse_field("10-20/5,59", &SECOND).unwrap(), set(&[10, 15, 20, 59]));
        assert_eq!(parse_field("50/5", &MINUTE).unwrap(), set(&[50, 55]));
        assert_eq!(parse_field("?", &DAY_OF_MONTH).unwrap().len(), 31);
        assert_eq!(parse_field("*/60", &MINUTE).unwrap(), set(&[0]));
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(parse_field("61", &MINUTE).unwrap_err(), r#"minute field "61": 61 is out of range 0-59"#);
        assert_eq!(
            parse_field("5-1", &HOUR).unwrap_err(),
            r#"hour field "5-1": range "5-1" is backwards (ranges do not wrap around)"#
        );
        assert!(parse_field("1,,2", &HOUR).unwrap_err().contains("empty list item"));
        assert!(parse_field("*/0", &HOUR).unwrap_err().contains("step \"0\""));
        assert!(parse_field("?", &HOUR).unwrap_err().contains("'?' is only allowed"));
        assert!(parse_field("funday", &DAY_OF_WEEK).unwrap_err().contains("known day-of-week name"));
        assert!(parse_field("jan", &HOUR).unwrap_err().contains("names are only allowed"));
        assert!(parse_field("99999999999", &HOUR).unwrap_err().contains("out of range"));
        assert!(parse_field("+5", &HOUR).is_err());
        assert!(parse_field("/5", &HOUR).unwrap_err().contains("missing value"));
        assert!(parse_field("1-", &HOUR).unwrap_err().contains("missing value"));
    }
}
