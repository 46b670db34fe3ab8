//! The `time_range` column, written as ESGF file names and NCAR/Pangeo catalogs write it: `YYYY-YYYY`,
//! `YYYYMM-YYYYMM`, `YYYYMMDD-YYYYMMDD`, or with hours, minutes and seconds for sub-daily files
//! (`YYYYMMDDhh`, `YYYYMMDDhhmm`, `YYYYMMDDhhmmss`), optionally followed by `-clim` for climatologies.

use std::fmt;

/// A date of the precision the catalog gives (a year, a month, or a day).
///
/// Days are checked against 1..=31 only: catalogs describe files in any CF calendar, and 30 February is a real
/// day of the 360_day calendar. Times of day are validated but not kept, because catalogs select files by day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CatalogDate {
    /// The year, as written (no calendar is assumed).
    pub year: i32,
    /// The month, 1..=12, when the cell gives one.
    pub month: Option<u32>,
    /// The day of the month, 1..=31, when the cell gives one.
    pub day: Option<u32>,
}

impl fmt::Display for CatalogDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(month) = self.month {
            write!(f, "-{month:02}")?;
        }
        if let Some(day) = self.day {
            write!(f, "-{day:02}")?;
        }
        Ok(())
    }
}

/// The first and last date of an asset, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeRange {
    /// The first date.
    pub start: CatalogDate,
    /// The last date, included (a file `1950-2014` holds 2014).
    pub end: CatalogDate,
}

impl TimeRange {
    /// Parses a `time_range` cell; the error says what was expected.
    pub(crate) fn parse(text: &str) -> Result<TimeRange, String> {
        let expected = "expected YYYY-YYYY, YYYYMM-YYYYMM or YYYYMMDD-YYYYMMDD (optionally with hhmmss)";
        let body = text.strip_suffix("-clim").unwrap_or(text);
        let Some((start, end)) = body.split_once('-') else { return Err(expected.to_string()) };
        // Both ends are written with the same precision; a mismatch is a typo, not a range.
        if start.len() != end.len() {
            return Err(expected.to_string());
        }
        let start = parse_date(start).ok_or_else(|| expected.to_string())?;
        let end = parse_date(end).ok_or_else(|| expected.to_string())?;
        // A missing month or day is the earliest possible for the start and the latest for the end.
        let earliest = (start.year, start.month.unwrap_or(0), start.day.unwrap_or(0));
        let latest = (end.year, end.month.unwrap_or(13), end.day.unwrap_or(32));
        if earliest > latest {
            return Err(format!("starts ({start}) after it ends ({end})"));
        }
        Ok(TimeRange { start, end })
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} .. {}", self.start, self.end)
    }
}

fn parse_date(text: &str) -> Option<CatalogDate> {
    // Checked first: every later slice is then on an ASCII boundary.
    if !matches!(text.len(), 4 | 6 | 8 | 10 | 12 | 14) || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let field = |range: std::ops::Range<usize>| text.get(range).and_then(|digits| digits.parse::<u32>().ok());
    let year = i32::try_from(field(0..4)?).ok()?;
    let month = if text.len() >= 6 { Some(field(4..6).filter(|m| (1..=12).contains(m))?) } else { None };
    let day = if text.len() >= 8 { Some(field(6..8).filter(|d| (1..=31).contains(d))?) } else { None };
    let limits = [(8..10, 24), (10..12, 60), (12..14, 60)];
    for (range, limit) in limits {
        if text.len() >= range.end && field(range)? >= limit {
            return None;
        }
    }
    Some(CatalogDate { year, month, day })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: i32, month: Option<u32>, day: Option<u32>) -> CatalogDate {
        CatalogDate { year, month, day }
    }

    #[test]
    fn the_three_esgf_precisions_parse() {
        let days = TimeRange::parse("19821201-20020228").unwrap();
        assert_eq!(days.start, date(1982, Some(12), Some(1)));
        assert_eq!(days.end, date(2002, Some(2), Some(28)));
        let months = TimeRange::parse("185001-201412").unwrap();
        assert_eq!(months.end, date(2014, Some(12), None));
        let years = TimeRange::parse("2015-2100").unwrap();
        assert_eq!((years.start, years.end), (date(2015, None, None), date(2100, None, None)));
        assert_eq!(days.to_string(), "1982-12-01 .. 2002-02-28");
    }

    #[test]
    fn sub_daily_and_climatology_forms_parse() {
        assert_eq!(TimeRange::parse("185001010600-185101010000").unwrap().end, date(1851, Some(1), Some(1)));
        assert_eq!(TimeRange::parse("1950010106-1950123118").unwrap().start, date(1950, Some(1), Some(1)));
        assert_eq!(TimeRange::parse("185001-201412-clim").unwrap().start, date(1850, Some(1), None));
        assert!(TimeRange::parse("20000230-20000330").is_ok(), "360_day dates are valid");
    }

    #[test]
    fn malformed_ranges_are_rejected() {
        for bad in [
            "",
            "1982",
            "19821201",
            "1982-12-01",
            "198212-2002",
            "19821301-20020228",
            "19821200-20020228",
            "1982120125-1983010100",
            "20020228-19821201",
            "２０００-２００１",
            "abcd-efgh",
            "-",
            "1982--1983",
        ] {
            assert!(TimeRange::parse(bad).is_err(), "{bad:?} parsed");
        }
        assert_eq!(TimeRange::parse("2002-1982").unwrap_err(), "starts (2002) after it ends (1982)");
    }
}
