//! Which statistics a variable is judged by, and how a product's value is compared with the observed one.
//!
//! Marginal statistics of each series (mean, spread, quantiles), its day-to-day persistence, precipitation
//! occurrence and spells, and annual extremes are computed for the observations and for each product on the same
//! days; the comparison (bias, relative bias, ratio) is then per cell. Statistics that need both series at once
//! (Wasserstein distance; RMSE and correlation when the product is in phase with the observations) are
//! [`PairedStatistic`]s. The choice follows the VALUE framework's marginal, temporal and extreme aspects
//! (Maraun et al. 2015).

use serde::{Deserialize, Serialize};

use crate::days::{Days, IndexYear};
use crate::indices::{AnnualIndex, lag1_autocorrelation, mean_spell_length, wet_day_frequency, wet_day_intensity};
use crate::stats::{
    correlation, mean, quantile_of_sorted, rmse, sorted_finite, standard_deviation, wasserstein_of_sorted,
};

/// The kind of quantity a variable is, which decides its statistics and physical bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// A near-surface air temperature (`tas`, `tasmax`, `tasmin`), in K.
    Temperature,
    /// Precipitation, in mm day-1.
    Precipitation,
    /// Anything else: marginal and temporal statistics only.
    Other,
}

impl Quantity {
    /// The quantity of a CMIP variable name.
    pub fn of_variable(variable: &str) -> Quantity {
        match variable {
            "tas" | "tasmax" | "tasmin" => Quantity::Temperature,
            "pr" => Quantity::Precipitation,
            _ => Quantity::Other,
        }
    }
}

/// The percentiles whose biases are reported.
pub const PERCENTILES: [u8; 5] = [1, 5, 50, 95, 99];

/// A statistic of one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "of")]
pub enum Statistic {
    /// Mean over the days.
    Mean,
    /// Population standard deviation of the daily values.
    StandardDeviation,
    /// A percentile (1..=99) of the daily values.
    Percentile(u8),
    /// Correlation of each day with the next.
    Lag1Autocorrelation,
    /// Share of days with at least 1 mm.
    WetDayFrequency,
    /// Mean amount of the wet days (SDII).
    WetDayIntensity,
    /// Mean length of wet spells, days.
    WetSpellLength,
    /// Mean length of dry spells, days.
    DrySpellLength,
    /// An annual index, averaged over the complete index years.
    Annual(AnnualIndex),
}

/// How a product's statistic is set against the observed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// product − observed, in the statistic's unit.
    Difference,
    /// (product − observed) / observed: the bias of precipitation's mean, as a fraction.
    Relative,
    /// product / observed: the ratio of standard deviations.
    Ratio,
}

impl Comparison {
    /// The comparison of `product` with `observed`; NaN where either is missing (or the observed is 0 for a
    /// relative bias or ratio).
    pub fn apply(self, product: f64, observed: f64) -> f64 {
        match self {
            Comparison::Difference => product - observed,
            Comparison::Relative if observed != 0.0 => (product - observed) / observed,
            Comparison::Ratio if observed != 0.0 => product / observed,
            Comparison::Relative | Comparison::Ratio => f64::NAN,
        }
    }

    /// The value of a perfect product.
    pub fn ideal(self) -> f64 {
        match self {
            Comparison::Difference | Comparison::Relative => 0.0,
            Comparison::Ratio => 1.0,
        }
    }
}

impl Statistic {
    /// The statistics a variable is judged by, in report order.
    pub fn for_quantity(quantity: Quantity) -> Vec<Statistic> {
        let mut list = vec![Statistic::Mean, Statistic::StandardDeviation];
        list.extend(PERCENTILES.iter().map(|&p| Statistic::Percentile(p)));
        list.push(Statistic::Lag1Autocorrelation);
        match quantity {
            Quantity::Temperature => {
                list.extend([Statistic::Annual(AnnualIndex::Maximum), Statistic::Annual(AnnualIndex::Minimum)]);
            }
            Quantity::Precipitation => list.extend([
                Statistic::WetDayFrequency,
                Statistic::WetDayIntensity,
                Statistic::WetSpellLength,
                Statistic::DrySpellLength,
                Statistic::Annual(AnnualIndex::Rx1day),
                Statistic::Annual(AnnualIndex::Rx5day),
                Statistic::Annual(AnnualIndex::R10mm),
                Statistic::Annual(AnnualIndex::Cdd),
            ]),
            Quantity::Other => {}
        }
        list
    }

    /// A short, stable name (the JSON key and the report's row).
    pub fn name(self, variable: &str) -> String {
        match self {
            Statistic::Mean => "mean".into(),
            Statistic::StandardDeviation => "sd".into(),
            Statistic::Percentile(p) => format!("q{p:02}"),
            Statistic::Lag1Autocorrelation => "lag1".into(),
            Statistic::WetDayFrequency => "wet_day_frequency".into(),
            Statistic::WetDayIntensity => "wet_day_intensity".into(),
            Statistic::WetSpellLength => "wet_spell_length".into(),
            Statistic::DrySpellLength => "dry_spell_length".into(),
            Statistic::Annual(index) => index.name(variable).into(),
        }
    }

    /// The statistic's unit, given the variable's.
    pub fn units(self, variable_units: &str) -> String {
        match self {
            Statistic::Mean | Statistic::StandardDeviation | Statistic::Percentile(_) | Statistic::WetDayIntensity => {
                variable_units.into()
            }
            Statistic::Annual(index) if !index.counts_days() => variable_units.into(),
            Statistic::Lag1Autocorrelation | Statistic::WetDayFrequency => "1".into(),
            Statistic::WetSpellLength | Statistic::DrySpellLength | Statistic::Annual(_) => "days".into(),
        }
    }

    /// How a product's value is compared with the observed one.
    pub fn comparison(self, quantity: Quantity) -> Comparison {
        match self {
            Statistic::Mean if quantity == Quantity::Precipitation => Comparison::Relative,
            Statistic::StandardDeviation => Comparison::Ratio,
            _ => Comparison::Difference,
        }
    }
}

/// A statistic of a product's series and the observed series together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairedStatistic {
    /// First Wasserstein distance between the distributions of daily values (in the variable's unit).
    Wasserstein,
    /// Root-mean-square error of the daily values (only for products in phase with the observations).
    Rmse,
    /// Correlation of the daily values (only for products in phase with the observations).
    Correlation,
}

impl PairedStatistic {
    /// The paired statistics that mean something for a product: RMSE and correlation only when its days are in
    /// phase with the observed days (perfect prognosis or perfect model).
    pub fn applicable(in_phase: bool) -> Vec<PairedStatistic> {
        let mut list = vec![PairedStatistic::Wasserstein];
        if in_phase {
            list.extend([PairedStatistic::Rmse, PairedStatistic::Correlation]);
        }
        list
    }

    /// The JSON key and the report's row.
    pub fn name(self) -> &'static str {
        match self {
            PairedStatistic::Wasserstein => "wasserstein",
            PairedStatistic::Rmse => "rmse",
            PairedStatistic::Correlation => "correlation",
        }
    }

    /// The statistic's unit, given the variable's.
    pub fn units(self, variable_units: &str) -> String {
        match self {
            PairedStatistic::Wasserstein | PairedStatistic::Rmse => variable_units.into(),
            PairedStatistic::Correlation => "1".into(),
        }
    }

    /// The value of a perfect product.
    pub fn ideal(self) -> f64 {
        match self {
            PairedStatistic::Wasserstein | PairedStatistic::Rmse => 0.0,
            PairedStatistic::Correlation => 1.0,
        }
    }
}

/// One cell's series, ready for its statistics: the values and their finite values sorted.
pub(crate) struct Series<'a> {
    values: &'a [f32],
    sorted: Vec<f32>,
}

impl<'a> Series<'a> {
    pub(crate) fn new(values: &'a [f32]) -> Series<'a> {
        Series { values, sorted: sorted_finite(values) }
    }

    /// Adds the series' values to `counts` (one per bin of `edges`), walking its sorted values once.
    pub(crate) fn count_into(&self, counts: &mut [u64], edges: &[f64]) {
        crate::distribution::count_sorted_into(counts, edges, &self.sorted);
    }

    /// Whether the cell has no present day (sea, or outside the observations' coverage).
    pub(crate) fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// The value of `statistic`; `years` are the complete index years of `days`.
    pub(crate) fn statistic(&self, statistic: Statistic, days: &Days, years: &[IndexYear]) -> f64 {
        if self.is_empty() {
            return f64::NAN;
        }
        match statistic {
            Statistic::Mean => mean(&self.sorted),
            Statistic::StandardDeviation => standard_deviation(&self.sorted),
            Statistic::Percentile(p) => quantile_of_sorted(&self.sorted, f64::from(p) / 100.0),
            Statistic::Lag1Autocorrelation => lag1_autocorrelation(self.values, days),
            Statistic::WetDayFrequency => wet_day_frequency(self.values),
            Statistic::WetDayIntensity => wet_day_intensity(self.values),
            Statistic::WetSpellLength => mean_spell_length(self.values, days, true),
            Statistic::DrySpellLength => mean_spell_length(self.values, days, false),
            Statistic::Annual(index) => {
                let per_year: Vec<f64> =
                    index.per_year(self.values, days, years).into_iter().filter(|v| v.is_finite()).collect();
                mean(&per_year)
            }
        }
    }

    /// The value of `statistic` between this product series and the `observed` one.
    pub(crate) fn paired(&self, statistic: PairedStatistic, observed: &Series<'_>) -> f64 {
        match statistic {
            PairedStatistic::Wasserstein => wasserstein_of_sorted(&self.sorted, &observed.sorted),
            PairedStatistic::Rmse | PairedStatistic::Correlation => {
                let (mut product, mut truth) = (Vec::new(), Vec::new());
                for (&p, &o) in self.values.iter().zip(observed.values) {
                    if p.is_finite() && o.is_finite() {
                        product.push(f64::from(p));
                        truth.push(f64::from(o));
                    }
                }
                if statistic == PairedStatistic::Rmse { rmse(&product, &truth) } else { correlation(&product, &truth) }
            }
        }
    }
}
