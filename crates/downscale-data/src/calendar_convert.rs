//! Plans for converting a daily model series to the standard calendar.
//!
//! Downscaling compares model output with observations, which use the
//! standard (Gregorian) calendar, so model series in other calendars must be
//! put on standard-calendar days first. This module only computes *where*
//! each standard day's value comes from ([`ConversionPlan`]); applying it to
//! arrays is left to the caller, which keeps the rule testable on its own.
//!
//! # The rule
//!
//! Input: one date per day in the model calendar, sorted, without gaps, all
//! at the same time of day (e.g. 12:00), no earlier than 1582-10-15 (before
//! that the standard calendar is Julian and the mapping would be
//! meaningless). Output: every standard-calendar day covered by the input
//! period, at the input's time of day, each taken from one input element
//! ([`DayOrigin::Index`]) or interpolated linearly between the nearest mapped
//! input elements on either side ([`DayOrigin::Interpolate`], weights by day
//! distance).
//!
//! 1. Each input day is mapped to a standard day or dropped:
//!    * by date (`standard`, `proleptic_gregorian`, `julian`, `noleap`,
//!      `all_leap`, and `360_day` with [`Align360::Date`]): the same
//!      year/month/day, dropped when that date does not exist in the standard
//!      calendar (Feb 29 of a non-leap year, the 360_day Feb 30). This is
//!      xarray's `convert_calendar(..., align_on="date")`.
//!    * by position in the year (`360_day` with [`Align360::Year`]): day of
//!      year `d` (1..=360) goes to day `round_half_even(N * d / 360)` of the
//!      same year, `N` = 365 or 366, exactly as xarray's
//!      `convert_calendar(..., align_on="year")`. Nothing is dropped.
//! 2. The output runs from the first input day's standard position to the
//!    day before the position of the day *after* the last input, so it
//!    covers the same span of time as the input: a whole 360-day year gives a
//!    whole standard year under both alignments.
//! 3. Standard days no input maps to are interpolated between the nearest
//!    mapped neighbours; after the last mapped input (only possible at the
//!    end of the series) the last mapped value is held ([`DayOrigin::Index`]).
//!
//! What that gives:
//!
//! * identity for `standard` and `proleptic_gregorian` (every origin is
//!   `Index(i)`);
//! * `noleap`: Feb 29 of each leap year is inserted as the mean of Feb 28
//!   and Mar 1 (weight 0.5), as the original system did; 1999-12-01 ..
//!   2001-02-28 (455 days) becomes 456 days with 2000-02-29 at position 90.
//!   A series ending on Feb 28 of a leap year holds Feb 28 for Feb 29;
//! * `all_leap`: Feb 29 of non-leap years is dropped; `julian`: Feb 29 of
//!   1700, 1800, 1900, 2100, ... is dropped;
//! * `360_day`, [`Align360::Year`]: a 360-day year becomes 365 days with 5
//!   interpolated days (weight 0.5) on Feb 6, Apr 19, Jul 2, Sep 12 and
//!   Nov 25 (days 37, 109, 183, 255, 329), or 366 days with 6 interpolated
//!   days in a leap year: Jan 31, Mar 31, Jun 1, Jul 31, Oct 1, Nov 30 (days
//!   31, 91, 153, 213, 275, 335). E.g. 2095-01-01 .. 2095-12-30 (360 dates)
//!   becomes 2095-01-01 .. 2095-12-31 (365 dates), all 360 inputs used once;
//! * `360_day`, [`Align360::Date`]: Feb 29 and 30 (Feb 30 only, in leap
//!   years) are dropped; Jan 31, Mar 31, May 31, Jul 31, Aug 31 and Oct 31
//!   are interpolated between day 30 and day 1 of the next month (weight
//!   0.5); Dec 31 holds Dec 30 when the series ends there (otherwise it is
//!   interpolated towards Jan 1). A 360-day year 2095 thus becomes 365 dates
//!   (358 mapped, 6 interpolated, 1 held) and 2096 becomes 366 (359, 6, 1).
//!
//! For `360_day` with `Year`, the first date must lie in 1583 or later
//! because day-of-year positions in 1582 would cross the ten skipped days.

use crate::calendar::{Calendar, CalendarError, CfDateTime, MAX_YEAR};

/// How 360_day dates are placed in the standard calendar; the names follow
/// xarray/xclim's `convert_calendar(align_on=...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align360 {
    /// Keep the relative position in the year (for daily data: the five or
    /// six extra days are spread over the year).
    Year,
    /// Keep month and day (the extra days are the 31sts).
    Date,
}

/// Where one standard-calendar value comes from (indices into the input).
#[derive(Debug, Clone, PartialEq)]
pub enum DayOrigin {
    /// Copy the input element.
    Index(usize),
    /// `(1 - weight_after) * input[before] + weight_after * input[after]`.
    Interpolate {
        /// The input element before the target day.
        before: usize,
        /// The input element after it.
        after: usize,
        /// The weight of `after`, in (0, 1): the target day's share of the way from `before` to `after`.
        weight_after: f64,
    },
}

/// Target standard-calendar dates and the origin of each (same length).
#[derive(Debug, Clone, PartialEq)]
pub struct ConversionPlan {
    /// The target dates, standard calendar, one per day.
    pub dates: Vec<CfDateTime>,
    /// Where each target date's value comes from.
    pub origins: Vec<DayOrigin>,
}

/// First day of the Gregorian part of the standard calendar.
const FIRST_GREGORIAN_DAY: (i32, u32, u32) = (1582, 10, 15);

/// Plans the conversion of daily `dates` in `calendar` to the standard
/// calendar (see the module docs for the rule). `align_360` only matters for
/// 360_day. Errors name the first unsorted, non-daily or missing day, or an
/// invalid or unsupported date.
pub fn plan_to_standard(
    calendar: Calendar,
    dates: &[CfDateTime],
    align_360: Align360,
) -> Result<ConversionPlan, CalendarError> {
    let Some(first) = dates.first() else {
        return Ok(ConversionPlan { dates: Vec::new(), origins: Vec::new() });
    };
    let day_numbers = check_daily(calendar, dates)?;
    if (first.year, first.month, first.day) < FIRST_GREGORIAN_DAY {
        return Err(CalendarError::UnsupportedConversion {
            calendar,
            reason: format!(
                "the series starts at {first}, expected dates from 1582-10-15 on, where the standard calendar is Gregorian"
            ),
        });
    }
    let by_year = calendar == Calendar::Day360 && align_360 == Align360::Year;
    if by_year && first.year < 1583 {
        return Err(CalendarError::UnsupportedConversion {
            calendar,
            reason: format!(
                "the series starts at {first}, expected 1583 or later for align_on=year (1582 lacks ten days)"
            ),
        });
    }
    let place = |year: i32, month: u32, day: u32| -> Result<Placement, CalendarError> {
        if by_year { place_by_year(year, month, day) } else { place_by_date(year, month, day) }
    };

    // Standard day numbers of the mapped inputs, in input order.
    let mut mapped: Vec<(i64, usize)> = Vec::with_capacity(dates.len());
    let mut start = None;
    for (index, date) in dates.iter().enumerate() {
        let placement = place(date.year, date.month, date.day)?;
        start.get_or_insert(placement.day);
        if placement.exists {
            mapped.push((placement.day, index));
        }
    }
    let last_day = day_numbers.last().copied().unwrap_or_default();
    let (y, m, d) = calendar.date_from_day_number(last_day + 1);
    let end = if y > MAX_YEAR { Calendar::Standard.day_number(MAX_YEAR, 12, 31)? + 1 } else { place(y, m, d)?.day };
    let start = start.unwrap_or(end);

    let time = (first.hour, first.minute, first.second, first.microsecond);
    let capacity = usize::try_from(end.saturating_sub(start)).unwrap_or(0);
    let mut plan = ConversionPlan { dates: Vec::with_capacity(capacity), origins: Vec::with_capacity(capacity) };
    let mut next = 0; // first entry of `mapped` at or after the current day
    for target in start..end {
        while next < mapped.len() && mapped[next].0 < target {
            next += 1;
        }
        let origin = match (next.checked_sub(1).and_then(|k| mapped.get(k)), mapped.get(next)) {
            (_, Some(&(day, index))) if day == target => DayOrigin::Index(index),
            (Some(&(before_day, before)), Some(&(after_day, after))) => DayOrigin::Interpolate {
                before,
                after,
                weight_after: (target - before_day) as f64 / (after_day - before_day) as f64,
            },
            (Some(&(_, index)), None) | (None, Some(&(_, index))) => DayOrigin::Index(index),
            (None, None) => continue,
        };
        let (year, month, day) = Calendar::Standard.date_from_day_number(target);
        plan.dates.push(CfDateTime::ymd(year, month, day).with_time(time.0, time.1, time.2, time.3));
        plan.origins.push(origin);
    }
    Ok(plan)
}

/// A standard-calendar position: `day` is the standard day number of the
/// date itself when `exists`, else of the first standard day after it.
struct Placement {
    day: i64,
    exists: bool,
}

/// Same year/month/day; a date the standard calendar lacks (Feb 29 or 30) is
/// placed at the first of the next month.
fn place_by_date(year: i32, month: u32, day: u32) -> Result<Placement, CalendarError> {
    let standard = Calendar::Standard;
    if let Ok(day) = standard.day_number(year, month, day) {
        return Ok(Placement { day, exists: true });
    }
    let month_start = standard.day_number(year, month, 1)?;
    Ok(Placement { day: month_start + i64::from(standard.days_in_month(year, month)), exists: false })
}

/// xarray's `_interpolate_day_of_year`: the 360-day day of year scaled to
/// the standard year's length, rounded half to even like `np.round`.
fn place_by_year(year: i32, month: u32, day: u32) -> Result<Placement, CalendarError> {
    let standard = Calendar::Standard;
    let day_of_year = i64::from((month - 1) * 30 + day);
    let scaled = i64::from(standard.days_in_year(year)) * day_of_year;
    let (quotient, remainder) = (scaled / 360, scaled % 360);
    let rounded = quotient + i64::from(2 * remainder > 360 || (2 * remainder == 360 && quotient % 2 == 1));
    Ok(Placement { day: standard.day_number(year, 1, 1)? + rounded - 1, exists: true })
}

/// Validates every date and the daily spacing; returns the day numbers.
fn check_daily(calendar: Calendar, dates: &[CfDateTime]) -> Result<Vec<i64>, CalendarError> {
    let mut day_numbers = Vec::with_capacity(dates.len());
    let mut previous: Option<(CfDateTime, i64)> = None;
    for (index, &next) in dates.iter().enumerate() {
        calendar.validate(&next)?;
        let day_number = calendar.day_number(next.year, next.month, next.day)?;
        if let Some((previous, previous_day)) = previous {
            if next <= previous {
                return Err(CalendarError::Unsorted { index, previous, next });
            }
            if next.time_of_day_micros() != previous.time_of_day_micros() {
                return Err(CalendarError::NotDaily { index, previous, next });
            }
            if day_number - previous_day != 1 {
                return Err(CalendarError::Gap { index, previous, next });
            }
        }
        previous = Some((next, day_number));
        day_numbers.push(day_number);
    }
    Ok(day_numbers)
}
