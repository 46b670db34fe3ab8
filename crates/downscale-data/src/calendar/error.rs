//! [`CalendarError`], the errors of calendar arithmetic, time-unit parsing and calendar conversion.

use super::{Calendar, CfDateTime};

/// Errors of calendar arithmetic, time-unit parsing and calendar conversion.
/// Each message is one line and says what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalendarError {
    #[error(
        "unknown calendar {0:?}: expected one of standard, gregorian, proleptic_gregorian, julian, \
         noleap, 365_day, all_leap, 366_day, 360_day"
    )]
    UnknownCalendar(String),
    #[error("bad time units: {0}")]
    BadUnits(String),
    #[error("invalid date {year:04}-{month:02}-{day:02} in the {calendar} calendar: {reason}")]
    InvalidDate { calendar: Calendar, year: i32, month: u32, day: u32, reason: String },
    #[error(
        "invalid time of day {hour:02}:{minute:02}:{second:02}.{microsecond:06}: expected hour 0..=23, \
         minute 0..=59, second 0..=59 and microsecond 0..=999999"
    )]
    InvalidTime { hour: u32, minute: u32, second: u32, microsecond: u32 },
    #[error("time value is NaN or infinite: expected a finite number (mask fill values before decoding)")]
    NonFinite,
    #[error("{0} is outside the supported years 1..=9999")]
    OutOfRange(String),
    #[error(
        "dates are not in increasing order at index {index}: {next} follows {previous}, expected one date per \
         day in increasing order"
    )]
    Unsorted { index: usize, previous: CfDateTime, next: CfDateTime },
    #[error(
        "dates are not daily at index {index}: {next} follows {previous}, expected the same time of day on the \
         next day"
    )]
    NotDaily { index: usize, previous: CfDateTime, next: CfDateTime },
    #[error("dates have a gap at index {index}: {next} follows {previous}, expected the next day")]
    Gap { index: usize, previous: CfDateTime, next: CfDateTime },
    #[error("cannot convert {calendar} dates to the standard calendar: {reason}")]
    UnsupportedConversion { calendar: Calendar, reason: String },
}
