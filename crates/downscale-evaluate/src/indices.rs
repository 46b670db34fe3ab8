//! Day-to-day and annual statistics of a daily series that depend on which days follow each other: lag-1
//! autocorrelation, wet and dry spells, and the ETCCDI indices (Zhang et al. 2011) as xclim computes them, each
//! per complete index year (see [`crate::days`]).
//!
//! A missing value (NaN) or a missing day ends a spell and a 5-day window; annual maxima and minima skip NaNs.

use crate::days::{Days, IndexYear};
use crate::stats::mean;

/// ETCCDI's wet-day threshold for precipitation, mm day-1 (a day is wet when its amount is at least this).
pub const WET_DAY_MM: f64 = 1.0;

/// ETCCDI's threshold of R10mm, mm day-1.
const HEAVY_PRECIPITATION_MM: f64 = 10.0;

/// Length of Rx5day's window, days.
const RX5DAY_WINDOW: usize = 5;

/// Pearson correlation of each day with the next calendar day, over the pairs where both are present.
pub(crate) fn lag1_autocorrelation(series: &[f32], days: &Days) -> f64 {
    // Two passes over the pairs (means, then centred sums), without collecting them: this runs for every cell.
    let pairs = || {
        (1..series.len()).filter_map(move |k| {
            let (a, b) = (series[k - 1], series[k]);
            (days.follows_previous(k) && a.is_finite() && b.is_finite()).then(|| (f64::from(a), f64::from(b)))
        })
    };
    let (count, sum_a, sum_b) = pairs().fold((0usize, 0.0, 0.0), |(n, sa, sb), (a, b)| (n + 1, sa + a, sb + b));
    if count < 2 {
        return f64::NAN;
    }
    let (mean_a, mean_b) = (sum_a / count as f64, sum_b / count as f64);
    let (cross, var_a, var_b) = pairs().fold((0.0, 0.0, 0.0), |(c, va, vb), (a, b)| {
        let (a, b) = (a - mean_a, b - mean_b);
        (c + a * b, va + a * a, vb + b * b)
    });
    if var_a == 0.0 || var_b == 0.0 {
        return f64::NAN;
    }
    cross / (var_a * var_b).sqrt()
}

/// Share of the present days that are wet (amount ≥ [`WET_DAY_MM`]).
pub(crate) fn wet_day_frequency(series: &[f32]) -> f64 {
    let present: Vec<f32> = series.iter().copied().filter(|v| v.is_finite()).collect();
    if present.is_empty() {
        return f64::NAN;
    }
    present.iter().filter(|&&v| f64::from(v) >= WET_DAY_MM).count() as f64 / present.len() as f64
}

/// Mean amount of the wet days (ETCCDI's simple daily intensity index, SDII, over the whole period); NaN when no
/// day is wet.
pub(crate) fn wet_day_intensity(series: &[f32]) -> f64 {
    let wet: Vec<f64> = series.iter().map(|&v| f64::from(v)).filter(|&v| v >= WET_DAY_MM).collect();
    mean(&wet)
}

/// Mean length of the maximal runs of consecutive wet (`wet = true`) or dry days; a run ends at a missing value or
/// a missing day, and runs cut by the record's ends count as they are. NaN when there is no such run.
pub(crate) fn mean_spell_length(series: &[f32], days: &Days, wet: bool) -> f64 {
    let lengths = spells(series, days, 0..series.len(), |v| (f64::from(v) >= WET_DAY_MM) == wet);
    if lengths.is_empty() {
        return f64::NAN;
    }
    lengths.iter().sum::<usize>() as f64 / lengths.len() as f64
}

/// Lengths of the maximal runs of present, consecutive days in `range` for which `inside` holds.
fn spells(series: &[f32], days: &Days, range: std::ops::Range<usize>, inside: impl Fn(f32) -> bool) -> Vec<usize> {
    let mut lengths = Vec::new();
    let mut current = 0;
    for k in range {
        let value = series[k];
        let continues = current > 0 && days.follows_previous(k);
        if value.is_finite() && inside(value) {
            if !continues && current > 0 {
                lengths.push(current);
                current = 0;
            }
            current += 1;
        } else if current > 0 {
            lengths.push(current);
            current = 0;
        }
    }
    if current > 0 {
        lengths.push(current);
    }
    lengths
}

/// An annual index: one value per complete index year, then averaged over the years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnualIndex {
    /// The year's highest daily value (TXx for tasmax, TNx for tasmin, TGx for tas).
    Maximum,
    /// The year's lowest daily value (TXn, TNn, TGn).
    Minimum,
    /// Rx1day: the year's highest daily amount.
    Rx1day,
    /// Rx5day: the year's highest amount over 5 consecutive days.
    Rx5day,
    /// R10mm: the year's count of days with at least 10 mm.
    R10mm,
    /// CDD: the year's longest run of dry days (< 1 mm).
    Cdd,
}

impl AnnualIndex {
    /// The index's value for each year, NaN for a year without a present day (or without a full window).
    pub(crate) fn per_year(self, series: &[f32], days: &Days, years: &[IndexYear]) -> Vec<f64> {
        years.iter().map(|year| self.of_year(series, days, year)).collect()
    }

    fn of_year(self, series: &[f32], days: &Days, year: &IndexYear) -> f64 {
        let values = || series[year.days.clone()].iter().copied().filter(|v| v.is_finite()).map(f64::from);
        match self {
            AnnualIndex::Maximum | AnnualIndex::Rx1day => values().reduce(f64::max).unwrap_or(f64::NAN),
            AnnualIndex::Minimum => values().reduce(f64::min).unwrap_or(f64::NAN),
            AnnualIndex::R10mm => {
                if values().next().is_none() {
                    f64::NAN
                } else {
                    values().filter(|&v| v >= HEAVY_PRECIPITATION_MM).count() as f64
                }
            }
            AnnualIndex::Cdd => {
                if values().next().is_none() {
                    return f64::NAN;
                }
                let dry = spells(series, days, year.days.clone(), |v| f64::from(v) < WET_DAY_MM);
                dry.into_iter().max().unwrap_or(0) as f64
            }
            AnnualIndex::Rx5day => {
                let mut best = f64::NAN;
                let mut run = 0; // present, consecutive days ending at k
                for k in year.days.clone() {
                    run = if series[k].is_finite() {
                        if run > 0 && days.follows_previous(k) { run + 1 } else { 1 }
                    } else {
                        0
                    };
                    if run >= RX5DAY_WINDOW {
                        let total: f64 = series[k + 1 - RX5DAY_WINDOW..=k].iter().map(|&v| f64::from(v)).sum();
                        best = if best.is_nan() { total } else { best.max(total) };
                    }
                }
                best
            }
        }
    }

    /// The index's name for a variable (ETCCDI's where it has one, xclim's `tg_max`/`tg_min` naming otherwise).
    pub fn name(self, variable: &str) -> &'static str {
        match (self, variable) {
            (AnnualIndex::Maximum, "tasmax") => "TXx",
            (AnnualIndex::Minimum, "tasmax") => "TXn",
            (AnnualIndex::Maximum, "tasmin") => "TNx",
            (AnnualIndex::Minimum, "tasmin") => "TNn",
            (AnnualIndex::Maximum, _) => "TGx",
            (AnnualIndex::Minimum, _) => "TGn",
            (AnnualIndex::Rx1day, _) => "Rx1day",
            (AnnualIndex::Rx5day, _) => "Rx5day",
            (AnnualIndex::R10mm, _) => "R10mm",
            (AnnualIndex::Cdd, _) => "CDD",
        }
    }

    /// Whether the index is a count of days (its unit is days, not the variable's).
    pub fn counts_days(self) -> bool {
        matches!(self, AnnualIndex::R10mm | AnnualIndex::Cdd)
    }
}

#[cfg(test)]
mod tests {
    use downscale_data::calendar::{Calendar, CfDateTime};

    use super::*;
    use crate::stats::correlation;

    fn january(days_present: &[u32]) -> Days {
        let dates = days_present.iter().map(|&d| CfDateTime::ymd(2001, 1, d)).collect();
        Days::new("test", Calendar::Standard, dates).unwrap()
    }

    #[test]
    fn spells_end_at_missing_values_and_missing_days() {
        let days = january(&[1, 2, 3, 4, 6, 7, 8]);
        //                      wet  wet  dry  NaN | wet  wet  dry   (day 5 is missing)
        let series = [5.0, 2.0, 0.0, f32::NAN, 3.0, 1.0, 0.5];
        assert_eq!(mean_spell_length(&series, &days, true), 2.0);
        assert_eq!(mean_spell_length(&series, &days, false), 1.0);
        assert!((wet_day_frequency(&series) - 4.0 / 6.0).abs() < 1e-12);
        assert!((wet_day_intensity(&series) - 11.0 / 4.0).abs() < 1e-12);
    }

    #[test]
    fn rx5day_takes_only_windows_of_five_consecutive_present_days() {
        let days = january(&[1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12]);
        let series = [1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 50.0, 50.0, 0.0, 0.0, 0.0];
        let year = IndexYear { label: 2001, days: 0..series.len() };
        // The 50s fall in windows that reach back across the missing 7 January: only days 8-12 (100) and the first
        // six days' windows (5, 6) are full.
        assert_eq!(AnnualIndex::Rx5day.of_year(&series, &days, &year), 100.0);
        assert_eq!(AnnualIndex::Rx1day.of_year(&series, &days, &year), 50.0);
        assert_eq!(AnnualIndex::R10mm.of_year(&series, &days, &year), 2.0);
        assert_eq!(AnnualIndex::Cdd.of_year(&series, &days, &year), 3.0);
    }

    #[test]
    fn lag1_pairs_only_consecutive_days() {
        let days = january(&[1, 2, 3, 10, 11]);
        let series = [1.0, 2.0, 3.0, 100.0, -50.0];
        // Pairs (1,2), (2,3), (100,-50): the jump from 3 to 100 is across a gap and not paired.
        let expected = correlation(&[1.0, 2.0, 100.0], &[2.0, 3.0, -50.0]);
        assert!((lag1_autocorrelation(&series, &days) - expected).abs() < 1e-12);
    }
}
