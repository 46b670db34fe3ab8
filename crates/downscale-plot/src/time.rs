//! Times as people type them (`2085-01-15`, `2085-01`, `2085`) and dates as positions on a time axis.

use std::fmt;
use std::str::FromStr;

use downscale_data::calendar::{Calendar, CfDateTime};

use crate::error::PlotError;

/// A day, a month or a year, as given on the command line or in a dashboard's query. Which dates exist depends on
/// the store's calendar, so a day is checked against it only when it is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSpec {
    /// `YYYY-MM-DD`.
    Day {
        /// The year.
        year: i32,
        /// The month, 1..=12.
        month: u32,
        /// The day of the month, 1..=31.
        day: u32,
    },
    /// `YYYY-MM`.
    Month {
        /// The year.
        year: i32,
        /// The month, 1..=12.
        month: u32,
    },
    /// `YYYY`.
    Year(i32),
}

impl FromStr for TimeSpec {
    type Err = PlotError;

    fn from_str(text: &str) -> Result<TimeSpec, PlotError> {
        let bad = |detail: &str| PlotError::BadTime { given: text.to_string(), detail: detail.to_string() };
        let parts: Vec<&str> = text.trim().split('-').collect();
        let number = |part: &str, digits: usize, what: &str| -> Result<u32, PlotError> {
            if part.len() != digits || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(&format!("the {what} must be {digits} digits")));
            }
            part.parse::<u32>().map_err(|_| bad(&format!("the {what} is not a number")))
        };
        let year = number(parts[0], 4, "year")?;
        let year = i32::try_from(year).map_err(|_| bad("the year is too large"))?;
        let month = match parts.get(1) {
            None => return Ok(TimeSpec::Year(year)),
            Some(part) => number(part, 2, "month")?,
        };
        if !(1..=12).contains(&month) {
            return Err(bad("the month must be 01 to 12"));
        }
        let day = match parts.get(2) {
            None => return Ok(TimeSpec::Month { year, month }),
            Some(part) => number(part, 2, "day")?,
        };
        if !(1..=31).contains(&day) {
            return Err(bad("the day must be 01 to 31"));
        }
        if parts.len() > 3 {
            return Err(bad("nothing may follow the day"));
        }
        Ok(TimeSpec::Day { year, month, day })
    }
}

impl fmt::Display for TimeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeSpec::Day { year, month, day } => write!(f, "{year:04}-{month:02}-{day:02}"),
            TimeSpec::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            TimeSpec::Year(year) => write!(f, "{year:04}"),
        }
    }
}

/// `date` as a fractional year in `calendar` (2085.0 is 2085-01-01 at midnight): a time axis that is linear within
/// every calendar, 360-day and noleap included, where real dates would need the standard calendar.
pub(crate) fn fractional_year(calendar: Calendar, date: &CfDateTime) -> f64 {
    let day = f64::from(calendar.day_of_year(date)) - 1.0 + date.time_of_day_micros() as f64 / 86_400e6;
    f64::from(date.year) + day / f64::from(calendar.days_in_year(date.year).max(1))
}

/// The day part of a date, `YYYY-MM-DD`, for labels and messages.
pub(crate) fn day_label(date: &CfDateTime) -> String {
    format!("{:04}-{:02}-{:02}", date.year, date.month, date.day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_as_day_month_or_year() {
        assert_eq!("2085-01-15".parse::<TimeSpec>().unwrap(), TimeSpec::Day { year: 2085, month: 1, day: 15 });
        assert_eq!("2085-12".parse::<TimeSpec>().unwrap(), TimeSpec::Month { year: 2085, month: 12 });
        assert_eq!("2085".parse::<TimeSpec>().unwrap(), TimeSpec::Year(2085));
        for (bad, why) in [
            ("85", "year must be 4 digits"),
            ("2085-13", "month must be 01 to 12"),
            ("2085-1", "month must be 2 digits"),
            ("2085-02-32", "day must be 01 to 31"),
            ("2085-02-03-04", "nothing may follow"),
            ("January", "year must be 4 digits"),
            ("", "year must be 4 digits"),
        ] {
            let message = bad.parse::<TimeSpec>().unwrap_err().to_string();
            assert!(message.contains(why) && message.contains(&format!("'{bad}'")), "{bad}: {message}");
        }
        assert_eq!(TimeSpec::Day { year: 2085, month: 1, day: 5 }.to_string(), "2085-01-05");
    }

    #[test]
    fn fractional_years_are_linear_within_each_calendar() {
        let mid = CfDateTime::ymd(2001, 7, 1);
        assert!((fractional_year(Calendar::Day360, &mid) - 2001.5).abs() < 1e-12);
        assert!((fractional_year(Calendar::NoLeap, &CfDateTime::ymd(2000, 1, 1)) - 2000.0).abs() < 1e-12);
        let noon = CfDateTime::ymd(2001, 1, 1).with_time(12, 0, 0, 0);
        assert!((fractional_year(Calendar::Standard, &noon) - (2001.0 + 0.5 / 365.0)).abs() < 1e-12);
    }
}
