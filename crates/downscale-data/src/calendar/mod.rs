//! CF-convention calendars and `<unit> since <reference>` time coordinates.
//!
//! CF files store time as numbers counted from a reference date in one of
//! several calendars, and the same number means a different date in each
//! calendar. No Rust crate implements the CF calendars, so this module does,
//! with Python's `cftime` (1.6.6) as the reference: decoding and encoding are
//! meant to agree with `cftime.num2date` / `cftime.date2num` to the
//! microsecond, which `tests/calendar_golden.rs` checks against thousands of
//! values produced by `scripts/cftime_golden.py`.
//!
//! # Supported range: years 1..=9999
//!
//! Only dates in years 1 to 9999 of the common era are accepted; anything
//! else is a [`CalendarError::OutOfRange`] error rather than a wrong answer.
//! Before year 1, cftime's year numbering differs between calendars (the
//! standard and Julian calendars have no year zero, the proleptic Gregorian
//! and idealised calendars do), so a value there would mean different things
//! depending on a convention that CF leaves open; no climate file needs such
//! dates. The upper bound is Python's `datetime.MAXYEAR`, beyond which the
//! Python tools we interoperate with fail, and keeps ISO dates at four-digit
//! years.
//!
//! # Day numbers
//!
//! Every calendar maps dates to consecutive integers ([`Calendar::day_number`])
//! so that date arithmetic is integer arithmetic. The numbering is cftime's
//! `datetime.toordinal()`: for the standard, Julian and proleptic Gregorian
//! calendars it is the Julian Day Number (day 2451545 is 2000-01-01 in the
//! standard calendar), so the same physical day gets the same number in all
//! three; for the idealised calendars (noleap, all_leap, 360_day) day 0 is
//! 0000-01-01 of that calendar, e.g. `year * 360 + (month - 1) * 30 + day - 1`
//! for 360_day.
//!
//! # Divergences from cftime (deliberate)
//!
//! * Reference strings that cftime reads only by silently ignoring text
//!   (`"days since 1950-01-01 12"` is midnight to cftime, so is
//!   `"... 00:00:00 -6:00"`) are rejected, because ignoring them hides a wrong
//!   time axis. Non-zero UTC offsets are rejected as well: applying one needs
//!   the calendar, which [`TimeUnits`] does not carry.
//! * `months since` (360_day) and `common_years since` (noleap) are rejected:
//!   they are calendar-specific and absent from the files we read.
//! * In the standard calendar's year 1582, [`Calendar::days_in_month`],
//!   [`Calendar::days_in_year`] and [`Calendar::day_of_year`] count the days
//!   that exist (October has 21, the year 355, 1582-10-15 is day 278); cftime's
//!   `daysinmonth`/`dayofyr` ignore the ten skipped days (31 and 288). Ours
//!   stay consistent with day-number differences.

mod datetime;
mod error;
mod units;

use std::fmt;
use std::str::FromStr;

pub use datetime::CfDateTime;
pub use error::CalendarError;
pub use units::{TimeUnit, TimeUnits};

use units::{div_to_f64, float_to_micros};

/// First supported year (see the module docs for why).
pub const MIN_YEAR: i32 = 1;
/// Last supported year (see the module docs for why).
pub const MAX_YEAR: i32 = 9999;

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;
const MICROS_PER_HOUR: i64 = 60 * MICROS_PER_MINUTE;
const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;

/// Days before each month (index 0..=11) and in the whole year (index 12).
const CUM_DAYS: [u32; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
const CUM_DAYS_LEAP: [u32; 13] = [0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366];

/// Julian Day Number of 1582-10-15, the first Gregorian day of the standard
/// calendar; the day before it is the Julian 1582-10-04.
const GREGORIAN_START_JDN: i64 = 2_299_161;
/// Julian Day Numbers of 0000-03-01 in the proleptic Gregorian and Julian
/// calendars, the epochs of the March-based cycle arithmetic below.
const GREGORIAN_MARCH_EPOCH_JDN: i64 = 1_721_120;
const JULIAN_MARCH_EPOCH_JDN: i64 = 1_721_118;
const DAYS_PER_400_GREGORIAN_YEARS: i64 = 146_097;
const DAYS_PER_4_JULIAN_YEARS: i64 = 1_461;

/// A CF calendar. Synonyms (`gregorian`, `365_day`, `366_day`) parse to the
/// same variant because they define the same day arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Calendar {
    /// Mixed Julian/Gregorian calendar: Julian up to 1582-10-04, Gregorian
    /// from 1582-10-15; the ten days in between do not exist.
    Standard,
    /// Gregorian leap rules applied to all years.
    ProlepticGregorian,
    /// Julian leap rule (every fourth year) applied to all years.
    Julian,
    /// Every year has 365 days.
    NoLeap,
    /// Every year has 366 days.
    AllLeap,
    /// Twelve months of 30 days.
    Day360,
}

impl Calendar {
    /// Every calendar, for exhaustive tests and listings.
    pub const ALL: [Calendar; 6] = [
        Calendar::Standard,
        Calendar::ProlepticGregorian,
        Calendar::Julian,
        Calendar::NoLeap,
        Calendar::AllLeap,
        Calendar::Day360,
    ];

    /// CF names, case-insensitive: standard, gregorian, proleptic_gregorian,
    /// julian, noleap, 365_day, all_leap, 366_day, 360_day.
    ///
    /// Surrounding whitespace is ignored because some writers pad attribute
    /// strings; `none` and `tai` are not supported and are errors.
    pub fn parse(name: &str) -> Result<Calendar, CalendarError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "standard" | "gregorian" => Ok(Calendar::Standard),
            "proleptic_gregorian" => Ok(Calendar::ProlepticGregorian),
            "julian" => Ok(Calendar::Julian),
            "noleap" | "365_day" => Ok(Calendar::NoLeap),
            "all_leap" | "366_day" => Ok(Calendar::AllLeap),
            "360_day" => Ok(Calendar::Day360),
            _ => Err(CalendarError::UnknownCalendar(name.to_string())),
        }
    }

    /// Canonical CF name, used when writing files.
    pub fn cf_name(self) -> &'static str {
        match self {
            Calendar::Standard => "standard",
            Calendar::ProlepticGregorian => "proleptic_gregorian",
            Calendar::Julian => "julian",
            Calendar::NoLeap => "noleap",
            Calendar::AllLeap => "all_leap",
            Calendar::Day360 => "360_day",
        }
    }

    /// Whether `year` has a February 29 (always false for 360_day, which has
    /// no leap years in cftime's sense).
    ///
    /// Years outside 1..=9999 use astronomical numbering (year 0 is a leap
    /// year); they are answered rather than rejected because the question is
    /// harmless, but they do not follow cftime's year-zero conventions.
    pub fn is_leap_year(self, year: i32) -> bool {
        match self {
            Calendar::Standard if year > 1581 => gregorian_leap(year),
            Calendar::Standard | Calendar::Julian => year.rem_euclid(4) == 0,
            Calendar::ProlepticGregorian => gregorian_leap(year),
            Calendar::NoLeap | Calendar::Day360 => false,
            Calendar::AllLeap => true,
        }
    }

    /// Number of days that exist in `month` of `year`; 0 for a month outside
    /// 1..=12 (this answers a question and cannot fail, so a bad month gets
    /// an impossible answer instead of an error).
    ///
    /// October 1582 of the standard calendar has 21 days (cftime says 31).
    pub fn days_in_month(self, year: i32, month: u32) -> u32 {
        if !(1..=12).contains(&month) {
            return 0;
        }
        if self == Calendar::Day360 {
            return 30;
        }
        if self == Calendar::Standard && year == 1582 && month == 10 {
            return 21;
        }
        self.month_length(year, month)
    }

    /// Number of days in `year`: 360, 365 or 366, and 355 for 1582 in the
    /// standard calendar.
    pub fn days_in_year(self, year: i32) -> u32 {
        match self {
            Calendar::Day360 => 360,
            Calendar::Standard if year == 1582 => 355,
            _ if self.is_leap_year(year) => 366,
            _ => 365,
        }
    }

    /// 1-based position of the date's day within its year (time of day is
    /// ignored). For an invalid date the result is meaningless but finite.
    ///
    /// 1582-10-15 in the standard calendar is day 278 (cftime says 288).
    pub fn day_of_year(self, date: &CfDateTime) -> u32 {
        let index = month_index(date.month);
        let before = match self {
            Calendar::Day360 => 30 * index as u32,
            _ if self.is_leap_year(date.year) => CUM_DAYS_LEAP[index],
            _ => CUM_DAYS[index],
        };
        let doy = before.saturating_add(date.day);
        if self == Calendar::Standard && date.year == 1582 && (date.month, date.day) > (10, 4) {
            doy.saturating_sub(10)
        } else {
            doy
        }
    }

    /// Consecutive day number of a calendar date (cftime's `toordinal()`, see
    /// the module docs for the epoch); errors on dates that do not exist in
    /// this calendar or lie outside years 1..=9999.
    pub fn day_number(self, year: i32, month: u32, day: u32) -> Result<i64, CalendarError> {
        self.validate_ymd(year, month, day)?;
        Ok(self.day_number_unchecked(i64::from(year), month, day))
    }

    /// Inverse of [`Calendar::day_number`].
    ///
    /// It cannot fail, so day numbers outside the supported years give the
    /// calendar's arithmetic continued with astronomical year numbering (the
    /// year saturates at the `i32` bounds for absurd inputs); callers that
    /// need the range enforced use [`Calendar::add_microseconds`].
    pub fn date_from_day_number(self, day_number: i64) -> (i32, u32, u32) {
        let (year, month, day) = self.ymd_unchecked(day_number);
        let year = i32::try_from(year).unwrap_or(if year < 0 { i32::MIN } else { i32::MAX });
        (year, month, day)
    }

    /// Checks that `date` exists in this calendar, including its time of day.
    pub fn validate(self, date: &CfDateTime) -> Result<(), CalendarError> {
        self.validate_ymd(date.year, date.month, date.day)?;
        if date.hour > 23 || date.minute > 59 || date.second > 59 || date.microsecond > 999_999 {
            return Err(CalendarError::InvalidTime {
                hour: date.hour,
                minute: date.minute,
                second: date.second,
                microsecond: date.microsecond,
            });
        }
        Ok(())
    }

    /// Decodes a stored time value as cftime's `num2date` does.
    ///
    /// The value is first scaled to a whole number of microseconds exactly as
    /// cftime rounds float input (x86-64 extended precision product, round
    /// half to even, then cftime's nudge of results one microsecond off a
    /// whole second for units of seconds and longer); that is why `0.1` days
    /// is exactly 02:24:00. Integer-valued inputs are exact, like cftime's
    /// integer path. Non-finite values (unmasked fill values) are an error.
    pub fn decode(self, units: &TimeUnits, value: f64) -> Result<CfDateTime, CalendarError> {
        let micros = float_to_micros(value, units.unit)?;
        self.add_microseconds(&units.reference, micros)
    }

    /// Decodes an integer time value (int16/int32/int64 variables).
    ///
    /// Separate from [`Calendar::decode`] because an `i64` beyond 2^53 (e.g.
    /// microseconds since 1970) would lose precision on its way to `f64`.
    pub fn decode_i64(self, units: &TimeUnits, value: i64) -> Result<CfDateTime, CalendarError> {
        let micros = value
            .checked_mul(units.unit.microseconds())
            .ok_or_else(|| CalendarError::OutOfRange(format!("time value {value} {}", units.unit.cf_name())))?;
        self.add_microseconds(&units.reference, micros)
    }

    /// Encodes `date` as a number of `units`, as cftime's `date2num` does: the
    /// exact integer when the offset is a whole number of units, otherwise the
    /// correctly rounded quotient of the two microsecond counts.
    pub fn encode(self, units: &TimeUnits, date: &CfDateTime) -> Result<f64, CalendarError> {
        self.validate(date)?;
        self.validate(&units.reference)?;
        let offset = i128::from(self.absolute_micros(date)) - i128::from(self.absolute_micros(&units.reference));
        let unit = i128::from(units.unit.microseconds());
        if offset % unit == 0 { Ok((offset / unit) as f64) } else { Ok(div_to_f64(offset, unit)) }
    }

    /// Date plus a signed number of microseconds (the basis of decode and
    /// encode). Errors if `date` is invalid or the result leaves years
    /// 1..=9999.
    pub fn add_microseconds(self, date: &CfDateTime, micros: i64) -> Result<CfDateTime, CalendarError> {
        self.validate(date)?;
        let total = i128::from(self.absolute_micros(date)) + i128::from(micros);
        let day = total.div_euclid(i128::from(MICROS_PER_DAY));
        let (first, last) = self.supported_day_numbers();
        if day < i128::from(first) || day > i128::from(last) {
            return Err(CalendarError::OutOfRange(format!("{date} plus {micros} microseconds in the {self} calendar")));
        }
        // In range, so both conversions are lossless.
        let day = day as i64;
        let time_of_day = total.rem_euclid(i128::from(MICROS_PER_DAY)) as i64;
        let (year, month, day) = self.ymd_unchecked(day);
        Ok(CfDateTime::ymd(year as i32, month, day).with_time_micros(time_of_day))
    }

    /// Day numbers of 0001-01-01 and 9999-12-31 (-30 for 360_day).
    fn supported_day_numbers(self) -> (i64, i64) {
        (
            self.day_number_unchecked(i64::from(MIN_YEAR), 1, 1),
            self.day_number_unchecked(i64::from(MAX_YEAR), 12, self.days_in_month(MAX_YEAR, 12)),
        )
    }

    /// Microseconds since the start of day number 0; fits `i64` for the
    /// supported years (about 3.2e17 at most).
    fn absolute_micros(self, date: &CfDateTime) -> i64 {
        self.day_number_unchecked(i64::from(date.year), date.month, date.day) * MICROS_PER_DAY
            + date.time_of_day_micros()
    }

    /// Month length from the leap rule alone (no 1582 gap, not for 360_day).
    fn month_length(self, year: i32, month: u32) -> u32 {
        let index = month_index(month);
        let table = if self.is_leap_year(year) { &CUM_DAYS_LEAP } else { &CUM_DAYS };
        table[index + 1] - table[index]
    }

    fn validate_ymd(self, year: i32, month: u32, day: u32) -> Result<(), CalendarError> {
        let invalid = |reason: String| CalendarError::InvalidDate { calendar: self, year, month, day, reason };
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(CalendarError::OutOfRange(format!("year {year}")));
        }
        if !(1..=12).contains(&month) {
            return Err(invalid("expected a month in 1..=12".to_string()));
        }
        let last = if self == Calendar::Day360 { 30 } else { self.month_length(year, month) };
        if !(1..=last).contains(&day) {
            return Err(invalid(format!("expected a day in 1..={last} for this month")));
        }
        if self == Calendar::Standard && year == 1582 && month == 10 && (5..=14).contains(&day) {
            return Err(invalid(
                "expected a day outside 1582-10-05..=14, which the standard calendar skips (Julian \
                 1582-10-04 is followed by Gregorian 1582-10-15)"
                    .to_string(),
            ));
        }
        Ok(())
    }

    /// Day number without validation; `month` must be in 1..=12 (it is
    /// clamped, so a bad month gives a wrong number rather than a panic).
    fn day_number_unchecked(self, year: i64, month: u32, day: u32) -> i64 {
        let index = month_index(month);
        let day = i64::from(day);
        match self {
            Calendar::Day360 => year * 360 + 30 * index as i64 + day - 1,
            Calendar::NoLeap => year * 365 + i64::from(CUM_DAYS[index]) + day - 1,
            Calendar::AllLeap => year * 366 + i64::from(CUM_DAYS_LEAP[index]) + day - 1,
            Calendar::Julian => julian_jdn(year, index as i64 + 1, day),
            Calendar::ProlepticGregorian => gregorian_jdn(year, index as i64 + 1, day),
            Calendar::Standard => {
                if (year, index + 1, day) < (1582, 10, 15) {
                    julian_jdn(year, index as i64 + 1, day)
                } else {
                    gregorian_jdn(year, index as i64 + 1, day)
                }
            }
        }
    }

    fn ymd_unchecked(self, n: i64) -> (i64, u32, u32) {
        match self {
            Calendar::Day360 => {
                let rest = n.rem_euclid(360);
                (n.div_euclid(360), (rest / 30 + 1) as u32, (rest % 30 + 1) as u32)
            }
            Calendar::NoLeap => {
                let (month, day) = month_day_from_day_of_year(&CUM_DAYS, n.rem_euclid(365) as u32);
                (n.div_euclid(365), month, day)
            }
            Calendar::AllLeap => {
                let (month, day) = month_day_from_day_of_year(&CUM_DAYS_LEAP, n.rem_euclid(366) as u32);
                (n.div_euclid(366), month, day)
            }
            Calendar::Julian => julian_from_jdn(n),
            Calendar::ProlepticGregorian => gregorian_from_jdn(n),
            Calendar::Standard if n < GREGORIAN_START_JDN => julian_from_jdn(n),
            Calendar::Standard => gregorian_from_jdn(n),
        }
    }
}

impl fmt::Display for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.cf_name())
    }
}

impl FromStr for Calendar {
    type Err = CalendarError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Calendar::parse(s)
    }
}

fn gregorian_leap(year: i32) -> bool {
    year.rem_euclid(4) == 0 && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0)
}

/// Zero-based month index, clamped so table lookups cannot panic.
fn month_index(month: u32) -> usize {
    (month.clamp(1, 12) - 1) as usize
}

/// Days since 1 March of the (March-based) year for a month 1..=12 and day:
/// counting from March puts the leap day last, so every cycle below is a
/// plain multiple of 365 plus the leap days already passed.
fn days_since_march(month: i64, day: i64) -> i64 {
    let march_based_month = (month + 9) % 12;
    (153 * march_based_month + 2) / 5 + day - 1
}

/// Month and day from days since 1 March (inverse of [`days_since_march`]).
fn month_day_from_days_since_march(days: i64) -> (u32, u32) {
    let march_based_month = (5 * days + 2) / 153;
    let day = days - (153 * march_based_month + 2) / 5 + 1;
    let month = if march_based_month < 10 { march_based_month + 3 } else { march_based_month - 9 };
    (month as u32, day as u32)
}

fn gregorian_jdn(year: i64, month: i64, day: i64) -> i64 {
    let march_year = if month <= 2 { year - 1 } else { year };
    let era = march_year.div_euclid(400);
    let year_of_era = march_year - era * 400;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + days_since_march(month, day);
    era * DAYS_PER_400_GREGORIAN_YEARS + day_of_era + GREGORIAN_MARCH_EPOCH_JDN
}

fn gregorian_from_jdn(n: i64) -> (i64, u32, u32) {
    let z = n.saturating_sub(GREGORIAN_MARCH_EPOCH_JDN);
    let era = z.div_euclid(DAYS_PER_400_GREGORIAN_YEARS);
    let day_of_era = z.rem_euclid(DAYS_PER_400_GREGORIAN_YEARS);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let (month, day) = month_day_from_days_since_march(day_of_year);
    let year = era.saturating_mul(400).saturating_add(year_of_era).saturating_add(i64::from(month <= 2));
    (year, month, day)
}

fn julian_jdn(year: i64, month: i64, day: i64) -> i64 {
    let march_year = if month <= 2 { year - 1 } else { year };
    let era = march_year.div_euclid(4);
    let year_of_era = march_year - era * 4;
    era * DAYS_PER_4_JULIAN_YEARS + year_of_era * 365 + days_since_march(month, day) + JULIAN_MARCH_EPOCH_JDN
}

fn julian_from_jdn(n: i64) -> (i64, u32, u32) {
    let z = n.saturating_sub(JULIAN_MARCH_EPOCH_JDN);
    let era = z.div_euclid(DAYS_PER_4_JULIAN_YEARS);
    let day_of_era = z.rem_euclid(DAYS_PER_4_JULIAN_YEARS);
    // The leap day closes the fourth March-based year (day of era 1460).
    let year_of_era = (day_of_era - day_of_era / 1460) / 365;
    let day_of_year = day_of_era - 365 * year_of_era;
    let (month, day) = month_day_from_days_since_march(day_of_year);
    let year = era.saturating_mul(4).saturating_add(year_of_era).saturating_add(i64::from(month <= 2));
    (year, month, day)
}

/// Month and day from a zero-based day of year and a cumulative-days table.
fn month_day_from_day_of_year(cumulative: &[u32; 13], day_of_year: u32) -> (u32, u32) {
    let month = cumulative[1..].iter().take_while(|&&end| end <= day_of_year).count().min(11);
    (month as u32 + 1, day_of_year - cumulative[month] + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn julian_day_numbers_of_known_dates() {
        assert_eq!(Calendar::Standard.day_number(2000, 1, 1), Ok(2_451_545));
        assert_eq!(Calendar::Standard.day_number(1582, 10, 15), Ok(GREGORIAN_START_JDN));
        assert_eq!(Calendar::Standard.day_number(1582, 10, 4), Ok(GREGORIAN_START_JDN - 1));
        assert_eq!(Calendar::Julian.day_number(1582, 10, 5), Ok(GREGORIAN_START_JDN));
        assert_eq!(Calendar::Day360.day_number(1, 1, 1), Ok(360));
    }
}
