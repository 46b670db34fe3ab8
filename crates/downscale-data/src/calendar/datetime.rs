//! [`CfDateTime`], a date and time of day in some CF calendar.

use std::fmt;

use super::{MICROS_PER_HOUR, MICROS_PER_MINUTE, MICROS_PER_SECOND};

/// A date and time of day in some CF calendar (the calendar is not stored:
/// the same fields mean different days in different calendars).
///
/// Field order makes the derived ordering chronological within a calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CfDateTime {
    /// The year, astronomical numbering (year 0 exists); 1..=9999 where decoded.
    pub year: i32,
    /// The month, 1..=12.
    pub month: u32,
    /// The day of the month, 1..=31 (1..=30 in a 360-day calendar).
    pub day: u32,
    /// The hour, 0..=23.
    pub hour: u32,
    /// The minute, 0..=59.
    pub minute: u32,
    /// The second, 0..=59 (CF calendars have no leap seconds).
    pub second: u32,
    /// The microsecond, 0..=999999: cftime's resolution.
    pub microsecond: u32,
}

impl CfDateTime {
    /// Midnight of the given date (not validated: validity depends on the
    /// calendar, see [`Calendar::validate`](super::Calendar::validate)).
    pub fn ymd(year: i32, month: u32, day: u32) -> Self {
        CfDateTime { year, month, day, hour: 0, minute: 0, second: 0, microsecond: 0 }
    }

    /// The same day at the given time of day (not validated).
    pub fn with_time(self, hour: u32, minute: u32, second: u32, microsecond: u32) -> Self {
        CfDateTime { hour, minute, second, microsecond, ..self }
    }

    /// Microseconds since midnight.
    pub fn time_of_day_micros(&self) -> i64 {
        i64::from(self.hour) * MICROS_PER_HOUR
            + i64::from(self.minute) * MICROS_PER_MINUTE
            + i64::from(self.second) * MICROS_PER_SECOND
            + i64::from(self.microsecond)
    }

    /// The same day at `micros` (0..one day) past midnight.
    pub(super) fn with_time_micros(self, micros: i64) -> Self {
        self.with_time(
            (micros / MICROS_PER_HOUR) as u32,
            (micros % MICROS_PER_HOUR / MICROS_PER_MINUTE) as u32,
            (micros % MICROS_PER_MINUTE / MICROS_PER_SECOND) as u32,
            (micros % MICROS_PER_SECOND) as u32,
        )
    }
}

impl fmt::Display for CfDateTime {
    /// `1990-01-01` at midnight, else `1990-01-01 12:00:00`, with
    /// `.ffffff` when there are microseconds: short for the common daily
    /// case, lossless otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)?;
        if self.time_of_day_micros() != 0 {
            write!(f, " {:02}:{:02}:{:02}", self.hour, self.minute, self.second)?;
            if self.microsecond != 0 {
                write!(f, ".{:06}", self.microsecond)?;
            }
        }
        Ok(())
    }
}
