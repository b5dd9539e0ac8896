//! Date of birth in the JPKI era-coded form `EYYYYMMDD`
//! (`1.2.392.200149.8.5.5.4`, see `shared/jpki.md`): E is the era digit
//! (1 Meiji, 2 Taisho, 3 Showa, 4 Heisei, 5 Reiwa, 0 unknown).
//!
//! Whether `YYYY` is the year within the era or the Gregorian year is not
//! public. The two readings cannot be confused: an era year is at most a few
//! dozen (Showa, the longest era so far, has 64), a Gregorian year is at least
//! 1868. Both are accepted exactly: `YYYY` below 1868 is an era year (1 = the
//! era's first year, 元年), otherwise a Gregorian year; either way the date
//! must be a real calendar date inside the era (Showa 64 ends 1989-01-07,
//! Heisei 31 ends 2019-04-30).
//!
//! Month or day `00` (a birth date known only to the year or month, as some
//! resident records have) is kept as a partial date, not refused. Era `0`
//! means the date is unknown: kept as [`BirthDate::Unknown`], whatever the
//! eight digits are.

use std::fmt;

/// A Japanese era as coded in the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Era {
    Meiji,
    Taisho,
    Showa,
    Heisei,
    Reiwa,
}

/// (year, month, day), Gregorian.
pub type Ymd = (u16, u8, u8);

impl Era {
    /// The era of an era digit (`1`..=`5`).
    pub fn from_digit(d: u8) -> Option<Era> {
        Some(match d {
            1 => Era::Meiji,
            2 => Era::Taisho,
            3 => Era::Showa,
            4 => Era::Heisei,
            5 => Era::Reiwa,
            _ => return None,
        })
    }

    pub fn digit(self) -> u8 {
        match self {
            Era::Meiji => 1,
            Era::Taisho => 2,
            Era::Showa => 3,
            Era::Heisei => 4,
            Era::Reiwa => 5,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Era::Meiji => "meiji",
            Era::Taisho => "taisho",
            Era::Showa => "showa",
            Era::Heisei => "heisei",
            Era::Reiwa => "reiwa",
        }
    }

    /// The era's first day. Meiji 1 is taken to be the whole of 1868 (the
    /// era name was applied retroactively from the first day of that year;
    /// dates before 1873 were lunar, which no living person's record needs).
    pub fn first_day(self) -> Ymd {
        match self {
            Era::Meiji => (1868, 1, 1),
            Era::Taisho => (1912, 7, 30),
            Era::Showa => (1926, 12, 25),
            Era::Heisei => (1989, 1, 8),
            Era::Reiwa => (2019, 5, 1),
        }
    }

    /// The era's last day (`None`: the current era).
    pub fn last_day(self) -> Option<Ymd> {
        match self {
            Era::Meiji => Some((1912, 7, 29)),
            Era::Taisho => Some((1926, 12, 24)),
            Era::Showa => Some((1989, 1, 7)),
            Era::Heisei => Some((2019, 4, 30)),
            Era::Reiwa => None,
        }
    }
}

/// How the certificate wrote the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearForm {
    /// `YYYY` is the year within the era (Showa 60 = `0060`).
    EraYear,
    /// `YYYY` is the Gregorian year.
    Gregorian,
}

/// A parsed date of birth.
#[derive(Clone, PartialEq, Eq)]
pub enum BirthDate {
    /// A full date (Gregorian) in a known era.
    Date { era: Era, date: Ymd, form: YearForm },
    /// Year known, month and/or day recorded as `00`.
    Partial { era: Era, year: u16, month: Option<u8>, form: YearForm },
    /// Era digit 0: the date is unknown.
    Unknown,
}

// Personal data: never printed, not even by `{:?}`.
impl fmt::Debug for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BirthDate::Date { .. } => "BirthDate::Date(..)",
            BirthDate::Partial { .. } => "BirthDate::Partial(..)",
            BirthDate::Unknown => "BirthDate::Unknown",
        })
    }
}

/// Why a date of birth was refused. Never carries the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BirthDateError {
    #[error("not nine ASCII digits (EYYYYMMDD)")]
    Shape,
    #[error("era digit is not 0 to 5")]
    Era,
    #[error("year 0 of an era")]
    YearZero,
    #[error("not a calendar date")]
    NotADate,
    #[error("outside the era's span")]
    OutsideEra,
}

/// Gregorian years at or above this are read as Gregorian; below, as era years.
pub const FIRST_GREGORIAN_YEAR: u16 = 1868;

fn is_leap(y: u16) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u16, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

fn digits(v: &[u8]) -> Option<u16> {
    v.iter().try_fold(0u16, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u16::from(c - b'0')))
}

/// Parse `EYYYYMMDD`.
pub fn parse_birth_date(v: &[u8]) -> Result<BirthDate, BirthDateError> {
    if v.len() != 9 || !v.iter().all(u8::is_ascii_digit) {
        return Err(BirthDateError::Shape);
    }
    let (e, rest) = v.split_first().ok_or(BirthDateError::Shape)?;
    let e = *e - b'0';
    if e == 0 {
        return Ok(BirthDate::Unknown);
    }
    let era = Era::from_digit(e).ok_or(BirthDateError::Era)?;
    let num = |r: std::ops::Range<usize>| rest.get(r).and_then(digits).ok_or(BirthDateError::Shape);
    let yyyy = num(0..4)?;
    let mm = u8::try_from(num(4..6)?).map_err(|_| BirthDateError::Shape)?;
    let dd = u8::try_from(num(6..8)?).map_err(|_| BirthDateError::Shape)?;
    let (year, form) = if yyyy >= FIRST_GREGORIAN_YEAR {
        (yyyy, YearForm::Gregorian)
    } else if yyyy == 0 {
        return Err(BirthDateError::YearZero);
    } else {
        (era.first_day().0 + yyyy - 1, YearForm::EraYear)
    };
    if mm > 12 || (mm == 0 && dd != 0) {
        return Err(BirthDateError::NotADate);
    }
    if dd > days_in_month(year, mm.max(1)) {
        return Err(BirthDateError::NotADate);
    }
    // The earliest and latest full date the (partial) value can stand for must
    // overlap the era.
    let lo = (year, mm.max(1), dd.max(1));
    let hi = (
        year,
        if mm == 0 { 12 } else { mm },
        if dd == 0 { days_in_month(year, if mm == 0 { 12 } else { mm }) } else { dd },
    );
    if hi < era.first_day() || era.last_day().is_some_and(|last| lo > last) {
        return Err(BirthDateError::OutsideEra);
    }
    Ok(if mm == 0 || dd == 0 {
        BirthDate::Partial { era, year, month: (mm != 0).then_some(mm), form }
    } else {
        BirthDate::Date { era, date: (year, mm, dd), form }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Result<BirthDate, BirthDateError> {
        parse_birth_date(s.as_bytes())
    }

    #[test]
    fn both_year_readings_give_the_same_date() {
        let g = date("319850215").unwrap();
        let e = date("300600215").unwrap();
        assert_eq!(g, BirthDate::Date { era: Era::Showa, date: (1985, 2, 15), form: YearForm::Gregorian });
        assert_eq!(e, BirthDate::Date { era: Era::Showa, date: (1985, 2, 15), form: YearForm::EraYear });
    }

    #[test]
    fn era_boundaries() {
        // Showa 64 is 1989-01-01 to 01-07; Heisei 1 starts 01-08.
        assert_eq!(
            date("300640107").unwrap(),
            BirthDate::Date { era: Era::Showa, date: (1989, 1, 7), form: YearForm::EraYear }
        );
        assert_eq!(date("300640108"), Err(BirthDateError::OutsideEra));
        assert_eq!(date("319890108"), Err(BirthDateError::OutsideEra));
        assert_eq!(
            date("400010108").unwrap(),
            BirthDate::Date { era: Era::Heisei, date: (1989, 1, 8), form: YearForm::EraYear }
        );
        assert_eq!(date("400010107"), Err(BirthDateError::OutsideEra));
        // Heisei 31 ends 2019-04-30; Reiwa 1 starts 05-01.
        assert_eq!(
            date("400310430").unwrap(),
            BirthDate::Date { era: Era::Heisei, date: (2019, 4, 30), form: YearForm::EraYear }
        );
        assert_eq!(date("400310501"), Err(BirthDateError::OutsideEra));
        assert_eq!(date("520190430"), Err(BirthDateError::OutsideEra));
        assert_eq!(
            date("500010501").unwrap(),
            BirthDate::Date { era: Era::Reiwa, date: (2019, 5, 1), form: YearForm::EraYear }
        );
        // Taisho 15 ends 1926-12-24, Showa 1 starts 12-25.
        assert_eq!(
            date("200151224").unwrap(),
            BirthDate::Date { era: Era::Taisho, date: (1926, 12, 24), form: YearForm::EraYear }
        );
        assert_eq!(date("200151225"), Err(BirthDateError::OutsideEra));
        assert_eq!(
            date("319261225").unwrap(),
            BirthDate::Date { era: Era::Showa, date: (1926, 12, 25), form: YearForm::Gregorian }
        );
        // Meiji 45 ends 1912-07-29.
        assert_eq!(
            date("119120729").unwrap(),
            BirthDate::Date { era: Era::Meiji, date: (1912, 7, 29), form: YearForm::Gregorian }
        );
        assert_eq!(date("100450730"), Err(BirthDateError::OutsideEra));
        assert_eq!(date("220250101"), Err(BirthDateError::OutsideEra));
    }

    #[test]
    fn calendar_validity() {
        assert_eq!(
            date("400120229").unwrap(),
            BirthDate::Date { era: Era::Heisei, date: (2000, 2, 29), form: YearForm::EraYear }
        );
        assert_eq!(date("400110229"), Err(BirthDateError::NotADate));
        // 1900 is not a leap year (divisible by 100, not by 400).
        assert_eq!(date("119000229"), Err(BirthDateError::NotADate));
        assert_eq!(
            date("119040229").unwrap(),
            BirthDate::Date { era: Era::Meiji, date: (1904, 2, 29), form: YearForm::Gregorian }
        );
        assert_eq!(date("319000228"), Err(BirthDateError::OutsideEra));
        assert_eq!(date("319850230"), Err(BirthDateError::NotADate));
        assert_eq!(date("319851301"), Err(BirthDateError::NotADate));
        assert_eq!(date("319850431"), Err(BirthDateError::NotADate));
        assert_eq!(date("300000101"), Err(BirthDateError::YearZero));
        assert_eq!(date("300010015"), Err(BirthDateError::NotADate));
    }

    #[test]
    fn unknown_partial_and_malformed() {
        assert_eq!(date("000000000").unwrap(), BirthDate::Unknown);
        assert_eq!(date("019850215").unwrap(), BirthDate::Unknown);
        assert_eq!(
            date("319850000").unwrap(),
            BirthDate::Partial { era: Era::Showa, year: 1985, month: None, form: YearForm::Gregorian }
        );
        assert_eq!(
            date("300600200").unwrap(),
            BirthDate::Partial { era: Era::Showa, year: 1985, month: Some(2), form: YearForm::EraYear }
        );
        // Showa 1 (1926) partial: only its last week is Showa, still possible.
        assert_eq!(
            date("300011200").unwrap(),
            BirthDate::Partial { era: Era::Showa, year: 1926, month: Some(12), form: YearForm::EraYear }
        );
        assert_eq!(date("300011100"), Err(BirthDateError::OutsideEra));
        assert_eq!(date("619850215"), Err(BirthDateError::Era));
        assert_eq!(date("31985021"), Err(BirthDateError::Shape));
        assert_eq!(date("3198502150"), Err(BirthDateError::Shape));
        assert_eq!(date("3198５0215"), Err(BirthDateError::Shape));
        assert_eq!(date("31985-215"), Err(BirthDateError::Shape));
        assert_eq!(format!("{:?}", date("319850215").unwrap()), "BirthDate::Date(..)");
    }
}
