//! The days of a record: which follow each other, which months the record covers, and the years its annual
//! indices are taken over.
//!
//! The sample data and many downscaling studies hold one season only (the winters DJF), so an "annual" index is
//! taken over index years that start with the season: the first month after the longest run of months the record
//! never holds (December for DJF, January for a record of whole years). A winter is then one index year, as
//! xclim's `YS-DEC` frequency makes it, instead of two halves of two calendar years. Only complete index years
//! (every day of the covered months present) enter annual indices, so a season cut by the record's start or end
//! does not count as a year with a lower maximum. Spells, windows and lag-1 pairs never run across a missing day.

use std::ops::Range;

use downscale_data::calendar::{Calendar, CfDateTime};

use crate::error::EvaluateError;

/// One index year of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexYear {
    /// The calendar year in which it starts (xclim's label for a `YS-<month>` period).
    pub(crate) label: i32,
    /// Its days, as indices into the record.
    pub(crate) days: Range<usize>,
}

/// Dates of a daily record, strictly increasing, in one calendar.
#[derive(Debug, Clone)]
pub(crate) struct Days {
    calendar: Calendar,
    dates: Vec<CfDateTime>,
    /// Day numbers since the calendar's origin, to tell consecutive days apart from gaps.
    numbers: Vec<i64>,
}

impl Days {
    /// The record's days; `source` names the store for errors.
    pub(crate) fn new(source: &str, calendar: Calendar, dates: Vec<CfDateTime>) -> Result<Days, EvaluateError> {
        let numbers = dates
            .iter()
            .map(|d| calendar.day_number(d.year, d.month, d.day))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| EvaluateError::data(source, format!("a date is not in its calendar: {e}")))?;
        if numbers.windows(2).any(|w| w[1] <= w[0]) {
            return Err(EvaluateError::data(
                source,
                "the time axis holds two steps on one day: a daily record is needed",
            ));
        }
        Ok(Days { calendar, dates, numbers })
    }

    /// The number of days.
    pub(crate) fn len(&self) -> usize {
        self.dates.len()
    }

    /// The dates.
    pub(crate) fn dates(&self) -> &[CfDateTime] {
        &self.dates
    }

    /// The calendar.
    pub(crate) fn calendar(&self) -> Calendar {
        self.calendar
    }

    /// Whether day `index` is the calendar day after day `index - 1` (false for the first day).
    pub(crate) fn follows_previous(&self, index: usize) -> bool {
        index > 0 && self.numbers[index] - self.numbers[index - 1] == 1
    }

    /// Months (1..=12) the record holds at least one day of.
    pub(crate) fn covered_months(&self) -> [bool; 12] {
        let mut covered = [false; 12];
        for date in &self.dates {
            covered[date.month as usize - 1] = true;
        }
        covered
    }

    /// The month index years start with: the first after the longest cyclic run of months never held (January
    /// when every month is held or none is missing before January's run).
    pub(crate) fn season_start(&self) -> u32 {
        let covered = self.covered_months();
        if covered.iter().all(|&c| c) || !covered.iter().any(|&c| c) {
            return 1;
        }
        let (mut best_start, mut best_length) = (0, 0);
        for start in 0..12 {
            if covered[start] || !covered[(start + 11) % 12] {
                continue; // a run of absent months starts after a held month
            }
            let length = (0..12).take_while(|k| !covered[(start + k) % 12]).count();
            if length > best_length {
                (best_start, best_length) = (start, length);
            }
        }
        ((best_start + best_length) % 12) as u32 + 1
    }

    /// The complete index years (every day of the covered months present), in order.
    pub(crate) fn complete_years(&self) -> Vec<IndexYear> {
        let start_month = self.season_start();
        let covered = self.covered_months();
        let label_of = |d: &CfDateTime| if d.month >= start_month { d.year } else { d.year - 1 };
        let mut years = Vec::new();
        let mut first = 0;
        while first < self.dates.len() {
            let label = label_of(&self.dates[first]);
            let end = first + self.dates[first..].iter().take_while(|d| label_of(d) == label).count();
            let expected: u32 = (0..12)
                .map(|k| {
                    let month = (start_month - 1 + k) % 12 + 1;
                    let year = if month >= start_month { label } else { label + 1 };
                    if covered[month as usize - 1] { self.calendar.days_in_month(year, month) } else { 0 }
                })
                .sum();
            if (end - first) as u32 == expected {
                years.push(IndexYear { label, days: first..end });
            }
            first = end;
        }
        years
    }

    /// Days missing between `first` and `last` (inclusive) in the months the record covers: a step a
    /// downscaled record lost or never wrote. `expected_months` overrides the record's own months.
    pub(crate) fn missing_between(
        &self,
        first: CfDateTime,
        last: CfDateTime,
        expected_months: [bool; 12],
    ) -> Result<Vec<CfDateTime>, EvaluateError> {
        let number = |d: &CfDateTime| {
            self.calendar
                .day_number(d.year, d.month, d.day)
                .map_err(|e| EvaluateError::data("the expected period", format!("{e}")))
        };
        let (start, end) = (number(&first)?, number(&last)?);
        let mut held = self.numbers.iter().peekable();
        let mut missing = Vec::new();
        for day in start..=end {
            while held.next_if(|&&n| n < day).is_some() {}
            if held.peek() == Some(&&day) {
                continue;
            }
            let (year, month, day_of_month) = self.calendar.date_from_day_number(day);
            if expected_months[month as usize - 1] {
                missing.push(CfDateTime::ymd(year, month, day_of_month));
            }
        }
        Ok(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(calendar: Calendar, dates: impl IntoIterator<Item = (i32, u32, u32)>) -> Days {
        let dates = dates.into_iter().map(|(y, m, d)| CfDateTime::ymd(y, m, d)).collect();
        Days::new("test", calendar, dates).unwrap()
    }

    /// Every day of the winters DJF from December `first` to February `last`, in the standard calendar.
    fn winters(first: i32, last: i32) -> Days {
        let calendar = Calendar::Standard;
        let mut dates = Vec::new();
        for year in first..=last {
            for (y, m) in [(year, 12), (year + 1, 1), (year + 1, 2)] {
                if y > last {
                    continue;
                }
                dates.extend((1..=calendar.days_in_month(y, m)).map(|d| (y, m, d)));
            }
        }
        days(calendar, dates)
    }

    #[test]
    fn winters_make_index_years_starting_in_december() {
        let record = winters(1983, 1986);
        assert_eq!(record.season_start(), 12);
        let labels: Vec<i32> = record.complete_years().iter().map(|y| y.label).collect();
        // December 1986 has no January and February after it in the record: not a complete winter.
        assert_eq!(labels, [1983, 1984, 1985]);
        assert_eq!(record.complete_years()[0].days.len(), 31 + 31 + 29);
    }

    #[test]
    fn whole_years_start_in_january() {
        let calendar = Calendar::NoLeap;
        let dates = (0..730).map(|n| calendar.date_from_day_number(calendar.day_number(2000, 1, 1).unwrap() + n));
        let record = days(calendar, dates);
        assert_eq!(record.season_start(), 1);
        assert_eq!(record.complete_years().len(), 2);
    }

    #[test]
    fn a_missing_day_breaks_contiguity_and_is_found() {
        let record = days(Calendar::Standard, [(2000, 1, 1), (2000, 1, 2), (2000, 1, 4)]);
        assert!(record.follows_previous(1));
        assert!(!record.follows_previous(2));
        let missing = record
            .missing_between(CfDateTime::ymd(2000, 1, 1), CfDateTime::ymd(2000, 1, 5), record.covered_months())
            .unwrap();
        assert_eq!(missing, [CfDateTime::ymd(2000, 1, 3), CfDateTime::ymd(2000, 1, 5)]);
        assert!(record.complete_years().is_empty());
    }
}
