//! Time units: the `<unit> since <reference>` attribute and the scaling of stored values to microseconds.

use std::fmt;
use std::str::FromStr;

use super::{
    CalendarError, CfDateTime, MAX_YEAR, MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_MINUTE, MICROS_PER_SECOND,
    MIN_YEAR,
};

/// The unit of a CF time coordinate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// 86,400 seconds in every CF calendar (none has leap seconds).
    Days,
    /// 3,600 seconds.
    Hours,
    /// 60 seconds.
    Minutes,
    /// The SI second.
    Seconds,
    /// A thousandth of a second.
    Milliseconds,
    /// A millionth of a second: cftime's resolution, and the finest a date here holds.
    Microseconds,
}

impl TimeUnit {
    /// Length of one unit in microseconds, cftime's resolution.
    pub fn microseconds(self) -> i64 {
        match self {
            TimeUnit::Days => MICROS_PER_DAY,
            TimeUnit::Hours => MICROS_PER_HOUR,
            TimeUnit::Minutes => MICROS_PER_MINUTE,
            TimeUnit::Seconds => MICROS_PER_SECOND,
            TimeUnit::Milliseconds => 1_000,
            TimeUnit::Microseconds => 1,
        }
    }

    /// Canonical plural name, used when writing units.
    pub fn cf_name(self) -> &'static str {
        match self {
            TimeUnit::Days => "days",
            TimeUnit::Hours => "hours",
            TimeUnit::Minutes => "minutes",
            TimeUnit::Seconds => "seconds",
            TimeUnit::Milliseconds => "milliseconds",
            TimeUnit::Microseconds => "microseconds",
        }
    }

    /// A unit word as cftime accepts it (case-insensitive): the spellings
    /// are exactly cftime's, so a file it reads we read too.
    pub fn parse(word: &str) -> Result<TimeUnit, CalendarError> {
        match word.to_lowercase().as_str() {
            "day" | "days" | "d" => Ok(TimeUnit::Days),
            "hour" | "hours" | "hr" | "hrs" | "h" => Ok(TimeUnit::Hours),
            "minute" | "minutes" | "min" | "mins" => Ok(TimeUnit::Minutes),
            "second" | "seconds" | "sec" | "secs" | "s" => Ok(TimeUnit::Seconds),
            "millisecond" | "milliseconds" | "millisec" | "millisecs" | "msec" | "msecs" | "ms" => {
                Ok(TimeUnit::Milliseconds)
            }
            "microsecond" | "microseconds" | "microsec" | "microsecs" => Ok(TimeUnit::Microseconds),
            "month" | "months" | "common_year" | "common_years" => Err(CalendarError::BadUnits(format!(
                "unit {word:?} is not supported: expected days, hours, minutes, seconds, milliseconds or \
                 microseconds (calendar-specific months and common_years are not)"
            ))),
            _ => Err(CalendarError::BadUnits(format!(
                "unknown time unit {word:?}: expected days, hours, minutes, seconds, milliseconds or \
                 microseconds, or an abbreviation such as d, hr, h, min, s, sec, ms"
            ))),
        }
    }
}

impl fmt::Display for TimeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.cf_name())
    }
}

/// A parsed CF `units` attribute of a time variable, e.g.
/// `days since 1950-01-01`. The reference is UTC and is validated against a
/// calendar only when used, because the attribute alone does not say which
/// calendar applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeUnits {
    /// What one stored unit is.
    pub unit: TimeUnit,
    /// The date stored as 0.
    pub reference: CfDateTime,
}

impl TimeUnits {
    /// Parses `<unit> since <reference>` as cftime does: `days since
    /// 1950-01-01`, `hours since 1900-01-01 00:00:00`, `days since 1950-1-1`,
    /// `days since 1850-01-01 00:00:00.0`, `seconds since
    /// 1970-01-01T00:00:00Z`, `hours since 1950-01-01 00:00:00 UTC`, unit
    /// aliases (see [`TimeUnit::parse`]) and `since` in any case.
    ///
    /// The time of day is `h:m[:s[.fraction]]` with one or two digits per
    /// field, after one space or `T`; fractions are truncated to the
    /// microsecond exactly as cftime does. A trailing `Z`, `UTC`, `GMT` or a
    /// zero offset such as `+00:00` is accepted; anything else after the
    /// date is an error (see the module docs).
    pub fn parse(s: &str) -> Result<TimeUnits, CalendarError> {
        let expected = || {
            CalendarError::BadUnits(format!(
                "expected \"<unit> since <reference date>\" such as \"days since 1950-01-01\", got {s:?}"
            ))
        };
        let (unit_word, rest) = split_first_word(s.trim()).ok_or_else(expected)?;
        let (since, rest) = split_first_word(rest).ok_or_else(expected)?;
        let reference_text = rest.trim();
        if !since.eq_ignore_ascii_case("since") {
            return Err(CalendarError::BadUnits(format!("expected \"since\" after the unit in {s:?}, got {since:?}")));
        }
        if reference_text.is_empty() {
            return Err(expected());
        }
        let unit = TimeUnit::parse(unit_word)?;
        let reference = parse_reference(reference_text).map_err(|e| match e {
            CalendarError::BadUnits(why) => {
                CalendarError::BadUnits(format!("reference date {reference_text:?} in {s:?}: {why}"))
            }
            other => other,
        })?;
        Ok(TimeUnits { unit, reference })
    }
}

impl fmt::Display for TimeUnits {
    /// Always with the time of day (`days since 1950-01-01 00:00:00`), the
    /// form CF examples and most tools write.
    ///
    /// A reference with microseconds is written as `.ffffff`, which cftime
    /// (and [`TimeUnits::parse`]) read back one microsecond lower for some
    /// values (`.000249` is read as 248): write whole-second references.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.reference;
        write!(
            f,
            "{} since {:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.unit, r.year, r.month, r.day, r.hour, r.minute, r.second
        )?;
        if r.microsecond != 0 {
            write!(f, ".{:06}", r.microsecond)?;
        }
        Ok(())
    }
}

impl FromStr for TimeUnits {
    type Err = CalendarError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TimeUnits::parse(s)
    }
}

/// Splits off the first whitespace-delimited word (like Python's
/// `str.split(None, 2)`, which cftime uses).
fn split_first_word(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    Some((&s[..end], &s[end..]))
}

/// A cursor over the ASCII reference-date text.
struct Cursor<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.text.get(self.pos + offset).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Reads 1..=`max` digits; more digits than `max` is an error because
    /// cftime would stop reading there and misinterpret the rest.
    fn digits(&mut self, max: usize, what: &str) -> Result<&str, CalendarError> {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits = std::str::from_utf8(&self.text[start..self.pos]).unwrap_or("");
        if digits.is_empty() || digits.len() > max {
            let got = if digits.is_empty() { "nothing".to_string() } else { format!("{digits:?}") };
            return Err(CalendarError::BadUnits(format!("expected {what} (1 to {max} digits), got {got}")));
        }
        Ok(digits)
    }

    /// Reads 1..=`max` (at most 9) digits as a number.
    fn number(&mut self, max: usize, what: &str) -> Result<u64, CalendarError> {
        let digits = self.digits(max.min(9), what)?;
        Ok(digits.bytes().fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0')))
    }

    fn rest(&self) -> &str {
        std::str::from_utf8(&self.text[self.pos..]).unwrap_or("")
    }
}

/// Parses the reference part of a units string (already trimmed).
fn parse_reference(text: &str) -> Result<CfDateTime, CalendarError> {
    let bad = |why: String| CalendarError::BadUnits(why);
    let mut c = Cursor { text: text.as_bytes(), pos: 0 };
    let negative = if c.eat(b'-') {
        true
    } else {
        c.eat(b'+');
        false
    };
    let year = c.number(9, "a year")?;
    if negative || year < MIN_YEAR as u64 || year > MAX_YEAR as u64 {
        let sign = if negative { "-" } else { "" };
        return Err(CalendarError::OutOfRange(format!("reference year {sign}{year}")));
    }
    if !c.eat(b'-') {
        return Err(bad("expected '-' and a month after the year (YYYY-MM-DD)".to_string()));
    }
    let month = c.number(2, "a month")?;
    if !c.eat(b'-') {
        return Err(bad("expected '-' and a day after the month (YYYY-MM-DD)".to_string()));
    }
    let day = c.number(2, "a day")?;
    if !(1..=12).contains(&month) {
        return Err(bad(format!("expected a month in 1..=12, got {month}")));
    }
    if !(1..=31).contains(&day) {
        return Err(bad(format!("expected a day in 1..=31, got {day}")));
    }
    let mut date = CfDateTime::ymd(year as i32, month as u32, day as u32);

    let separator = c.peek();
    if matches!(separator, Some(b' ' | b'T' | b't')) && c.peek_at(1).is_some_and(|b| b.is_ascii_digit()) {
        c.pos += 1;
        let hour = c.number(2, "an hour")?;
        if !c.eat(b':') {
            return Err(bad("expected hh:mm after the date".to_string()));
        }
        let minute = c.number(2, "minutes")?;
        let (mut second, mut microsecond) = (0, 0);
        if c.eat(b':') {
            second = c.number(2, "seconds")?;
            if c.eat(b'.') {
                microsecond = fraction_to_micros(c.digits(usize::MAX, "a fraction of a second")?);
            }
        }
        if hour > 23 || minute > 59 || second > 59 || microsecond > 999_999 {
            return Err(bad(format!(
                "expected a time of day from 00:00:00 to 23:59:59.999999, got {hour:02}:{minute:02}:{second:02}{}",
                if microsecond > 999_999 { " plus a fraction that rounds to a whole second" } else { "" }
            )));
        }
        date = date.with_time(hour as u32, minute as u32, second as u32, microsecond as u32);
    }
    check_time_zone(c.rest().trim())?;
    Ok(date)
}

/// cftime's `int(float("0." + digits) * 1e6)`: round the decimal fraction to
/// the nearest double, scale it in double precision and truncate. This is not
/// always the truncation of the digits (`.000249` gives 248 microseconds),
/// so it is mirrored operation by operation.
fn fraction_to_micros(digits: &str) -> u64 {
    let fraction: f64 = format!("0.{digits}").parse().unwrap_or(0.0);
    (fraction * 1e6) as u64
}

/// Accepts only the UTC designators cftime would apply as UTC; see the module
/// docs for why other text and non-zero offsets are refused.
fn check_time_zone(rest: &str) -> Result<(), CalendarError> {
    let designator = rest.to_ascii_uppercase();
    let offset = designator
        .strip_prefix("UTC")
        .or_else(|| designator.strip_prefix("GMT"))
        .or_else(|| designator.strip_prefix('Z'))
        .unwrap_or(&designator)
        .trim();
    if offset.is_empty() {
        return Ok(());
    }
    if let Some(minutes) = parse_offset_minutes(offset) {
        if minutes == 0 {
            return Ok(());
        }
        return Err(CalendarError::BadUnits(format!(
            "UTC offset {rest:?} is not supported: expected a UTC reference time (Z, UTC or +00:00)"
        )));
    }
    Err(CalendarError::BadUnits(format!(
        "unexpected text {rest:?} after the reference date: expected an optional time of day \
         ([T| ]hh:mm[:ss[.ffffff]]) and an optional Z or UTC"
    )))
}

/// `+h`, `+hh`, `+hh:mm`, `+hhmm` (or `-`) as signed minutes.
fn parse_offset_minutes(text: &str) -> Option<i64> {
    let (sign, body) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let all_digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    let (hours, minutes) = match body.split_once(':') {
        Some((h, m)) if all_digits(h) && all_digits(m) => (h, m),
        None if body.len() == 4 && body.bytes().all(|b| b.is_ascii_digit()) => body.split_at(2),
        None if all_digits(body) => (body, "0"),
        _ => return None,
    };
    let hours: i64 = hours.parse().ok()?;
    let minutes: i64 = minutes.parse().ok()?;
    Some(sign * (hours * 60 + minutes))
}

/// Scales a float time value to whole microseconds the way cftime 1.6 does
/// on x86-64 (where its reference values come from):
///
/// 1. `value * factor` in numpy `longdouble`, i.e. the exact product rounded
///    to a 64-bit significand (round half to even);
/// 2. `rint` of that (round half to even);
/// 3. for units of seconds and longer, a result ending in ...000001 is
///    replaced by the floor of the product and one ending in ...999999 by
///    its ceiling (cftime's guard against float noise just off a second).
///
/// Emulated with integer arithmetic so that every platform gives cftime's
/// x86-64 answer.
pub(super) fn float_to_micros(value: f64, unit: TimeUnit) -> Result<i64, CalendarError> {
    if !value.is_finite() {
        return Err(CalendarError::NonFinite);
    }
    let out_of_range = || CalendarError::OutOfRange(format!("time value {value} {unit}"));
    if value == 0.0 {
        return Ok(0);
    }
    let bits = value.to_bits();
    let negative = bits >> 63 == 1;
    let exponent_field = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (significand, exponent) =
        if exponent_field == 0 { (fraction, -1074) } else { (fraction | (1 << 52), exponent_field - 1075) };
    // Exact product: below 2^53 * 2^37 = 2^90.
    let product = u128::from(significand) * unit.microseconds() as u128;
    let width = 128 - product.leading_zeros();
    let (mantissa, exponent) = if width > 64 {
        let shift = width - 64;
        let kept = product >> shift;
        let dropped = product & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        let round_up = dropped > half || (dropped == half && kept & 1 == 1);
        (kept + u128::from(round_up), exponent + shift as i32)
    } else {
        (product, exponent)
    };
    // The scaled value is mantissa * 2^exponent, mantissa < 2^65.
    let (nearest, floor, ceil) = if exponent >= 0 {
        let width = 128 - mantissa.leading_zeros();
        if width + exponent as u32 > 64 {
            return Err(out_of_range());
        }
        let whole = mantissa << exponent;
        (whole, whole, whole)
    } else if exponent <= -100 {
        // Below 2^-35: rounds to zero.
        (0, 0, 1)
    } else {
        let shift = (-exponent) as u32;
        let whole = mantissa >> shift;
        let dropped = mantissa & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        let round_up = dropped > half || (dropped == half && whole & 1 == 1);
        (whole + u128::from(round_up), whole, whole + u128::from(dropped != 0))
    };
    let signed = |magnitude: u128| -> Result<i64, CalendarError> {
        let magnitude = i128::try_from(magnitude).map_err(|_| out_of_range())?;
        i64::try_from(if negative { -magnitude } else { magnitude }).map_err(|_| out_of_range())
    };
    let (mut micros, floor, ceil) = if negative {
        (signed(nearest)?, signed(ceil)?, signed(floor)?)
    } else {
        (signed(nearest)?, signed(floor)?, signed(ceil)?)
    };
    if unit.microseconds() >= MICROS_PER_SECOND {
        if micros.rem_euclid(MICROS_PER_SECOND) == 1 {
            micros = floor;
        }
        if micros.rem_euclid(MICROS_PER_SECOND) == MICROS_PER_SECOND - 1 {
            micros = ceil;
        }
    }
    Ok(micros)
}

/// `num / den` correctly rounded to the nearest `f64` (ties to even), like
/// Python's integer true division that cftime's `date2num` relies on.
/// Converting both to `f64` first would round twice once `num` exceeds 2^53.
pub(super) fn div_to_f64(num: i128, den: i128) -> f64 {
    let negative = (num < 0) != (den < 0);
    let (a, b) = (num.unsigned_abs(), den.unsigned_abs());
    if a == 0 || b == 0 {
        return 0.0;
    }
    // Shift so the quotient has at least 55 significant bits; the lowest
    // bit of (2q + sticky) then stands for the remainder, which makes the
    // single rounding of the integer-to-float conversion correct.
    let bits = |x: u128| 128 - x.leading_zeros();
    let room = 127u32.saturating_sub(bits(a));
    let shift = (56 + bits(b)).saturating_sub(bits(a)).min(room);
    let scaled = a << shift;
    let (q, r) = (scaled / b, scaled % b);
    let odd = (q << 1) | u128::from(r != 0);
    // Exact power of two 2^-(shift + 1); shift + 1 <= 128 stays normal.
    let scale = f64::from_bits(u64::from(1023 - (shift + 1)) << 52);
    let magnitude = odd as f64 * scale;
    if negative { -magnitude } else { magnitude }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_scaling_matches_cftime_quirks() {
        let us = |v: f64, u: TimeUnit| float_to_micros(v, u);
        assert_eq!(us(0.1, TimeUnit::Days), Ok(8_640_000_000));
        assert_eq!(us(1.0000006, TimeUnit::Seconds), Ok(1_000_000));
        assert_eq!(us(0.9999994, TimeUnit::Seconds), Ok(1_000_000));
        assert_eq!(us(-1.0000006, TimeUnit::Seconds), Ok(-1_000_000));
        assert_eq!(us(0.5, TimeUnit::Microseconds), Ok(0));
        assert_eq!(us(1.5, TimeUnit::Microseconds), Ok(2));
        assert_eq!(us(f64::MIN_POSITIVE / 4.0, TimeUnit::Days), Ok(0));
        assert!(us(1e300, TimeUnit::Days).is_err());
    }

    #[test]
    fn correctly_rounded_division() {
        assert_eq!(div_to_f64(1, 3), 1.0 / 3.0);
        assert_eq!(div_to_f64(-7, 2), -3.5);
        // 2^60 + 1 is not an f64; a two-step conversion would round twice.
        let n = (1i128 << 60) + 3;
        assert_eq!(div_to_f64(n * 10 + 5, 10), ((1u64 << 60) + 3) as f64);
    }
}
