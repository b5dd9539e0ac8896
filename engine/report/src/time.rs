//! RFC 3339 UTC timestamps as the manifest writes them
//! (`2026-11-26T03:00:00Z`, optionally with a fraction), to Unix seconds.
//! Anything else is `None`: the report then shows the text and skips the
//! arithmetic.

/// Seconds since the Unix epoch of `YYYY-MM-DDTHH:MM:SS[.f]Z`.
pub(crate) fn parse_utc(s: &str) -> Option<i64> {
    let s = s.strip_suffix('Z').or_else(|| s.strip_suffix('z'))?;
    let (date, time) = s.split_once(['T', 't', ' '])?;
    let mut d = date.split('-');
    let y: i64 = num(d.next()?, 4)?;
    let mo: i64 = num(d.next()?, 2)?;
    let da: i64 = num(d.next()?, 2)?;
    if d.next().is_some() {
        return None;
    }
    let time = time.split_once('.').map_or(time, |(t, _frac)| t).to_owned();
    let mut t = time.split(':');
    let h: i64 = num(t.next()?, 2)?;
    let mi: i64 = num(t.next()?, 2)?;
    let se: i64 = num(t.next()?, 2)?;
    if t.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&da) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, da) * 86_400 + h * 3600 + mi * 60 + se)
}

fn num(s: &str, digits: usize) -> Option<i64> {
    if s.len() != digits || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Whether `s` is a run date, `YYYY-MM-DD` (it names a folder).
pub(crate) fn is_run_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10 && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_manifest_times() {
        assert_eq!(parse_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_utc("2026-11-26T03:00:00Z"), Some(1_795_662_000));
        assert_eq!(parse_utc("2026-11-26T03:00:00.123456Z"), Some(1_795_662_000));
        assert_eq!(parse_utc("2000-03-01T00:00:00Z"), Some(951_868_800));
        for bad in ["", "2026-11-26", "2026-11-26T03:00:00", "2026-13-01T00:00:00Z", "26-11-26T03:00:00Z", "x"] {
            assert_eq!(parse_utc(bad), None, "{bad}");
        }
    }

    #[test]
    fn run_dates() {
        assert!(is_run_date("2026-11-26"));
        for bad in ["2026-11-2", "../../etc", "2026/11/26", "2026-11-26x", ""] {
            assert!(!is_run_date(bad), "{bad}");
        }
    }
}
