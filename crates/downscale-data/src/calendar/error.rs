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
    /// A `calendar` attribute naming no CF calendar; the name as written.
    UnknownCalendar(String),
    /// A time `units` attribute that is not `<unit> since <date>`; what is wrong with it.
    #[error("bad time units: {0}")]
    BadUnits(String),
    /// A date the calendar does not have (30 February outside 360_day, a day in the Gregorian gap).
    #[error("invalid date {year:04}-{month:02}-{day:02} in the {calendar} calendar: {reason}")]
    InvalidDate {
        /// The calendar that lacks the date.
        calendar: Calendar,
        /// Year of the refused date, as given.
        year: i32,
        /// Month of the refused date, as given (possibly outside 1..=12).
        month: u32,
        /// Day of the refused date, as given.
        day: u32,
        /// Why the calendar lacks it.
        reason: String,
    },
    #[error(
        "invalid time of day {hour:02}:{minute:02}:{second:02}.{microsecond:06}: expected hour 0..=23, \
         minute 0..=59, second 0..=59 and microsecond 0..=999999"
    )]
    /// A time of day outside its ranges.
    InvalidTime {
        /// Hour as given (valid: 0..=23).
        hour: u32,
        /// Minute as given (valid: 0..=59).
        minute: u32,
        /// Second as given (valid: 0..=59).
        second: u32,
        /// Microsecond as given (valid: 0..=999999).
        microsecond: u32,
    },
    /// A stored time that is NaN or infinite, usually an unmasked fill value.
    #[error("time value is NaN or infinite: expected a finite number (mask fill values before decoding)")]
    NonFinite,
    /// A date or time value beyond the years cftime and this module support; the value as text.
    #[error("{0} is outside the supported years 1..=9999")]
    OutOfRange(String),
    #[error(
        "dates are not in increasing order at index {index}: {next} follows {previous}, expected one date per \
         day in increasing order"
    )]
    /// Dates that go back in time.
    Unsorted {
        /// The position of the first date out of order.
        index: usize,
        /// The date before it.
        previous: CfDateTime,
        /// The date out of order.
        next: CfDateTime,
    },
    #[error(
        "dates are not daily at index {index}: {next} follows {previous}, expected the same time of day on the \
         next day"
    )]
    /// Dates that are not one per day at one time of day, which a daily calendar conversion needs.
    NotDaily {
        /// The position of the first date that breaks the step.
        index: usize,
        /// The date before it.
        previous: CfDateTime,
        /// The date that breaks the step.
        next: CfDateTime,
    },
    /// Daily dates with a day missing.
    #[error("dates have a gap at index {index}: {next} follows {previous}, expected the next day")]
    Gap {
        /// The position of the date after the gap.
        index: usize,
        /// The date before the gap.
        previous: CfDateTime,
        /// The date after the gap.
        next: CfDateTime,
    },
    /// A conversion to the standard calendar this module does not make.
    #[error("cannot convert {calendar} dates to the standard calendar: {reason}")]
    UnsupportedConversion {
        /// The calendar converted from.
        calendar: Calendar,
        /// Why it cannot be converted.
        reason: String,
    },
}
