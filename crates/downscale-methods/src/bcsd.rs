//! scikit-downscale's BCSD point models `BcsdTemperature` and `BcsdPrecipitation`, grouped by
//! calendar month, as CarbonPlan's BCSD flow runs them at each coarse grid cell.
//!
//! `fit(x, y)` follows the library's convention: `x` is the model over the training period, `y` the obs. Each
//! month's quantile mapping is QM-RANK ([`crate::qm_rank`]): the predicted month's values are ranked among
//! themselves and replaced by the obs quantiles at those ranks, so the output takes on the obs distribution of
//! that month (for precipitation the projected change in the distribution is removed; temperature keeps its change
//! through the rolling-mean shift only).

use crate::error::{MethodError, Result};
use crate::qm_rank::{FittedQuantileMapper, N_ENDPOINTS, QuantileMapper};
use crate::series::TimeSeries;

/// Number of consecutive same-month samples in the centred rolling mean of `BcsdTemperature` (the "climate
/// trend"). With daily data that is about 9 days of one month, not 9 years.
pub const TREND_WINDOW: usize = 9;

const MONTHS: usize = 12;

/// Which series goes into `fit`'s `x` and which into its `y`.
///
/// scikit-downscale documents `fit(X = model historical, y = obs)`, and CarbonPlan's flow followed it until its
/// PR #172; since then it calls `fit(coarse_obs, gcm_hist)`, swapping them. With the swap the QM references are
/// the *model-historical* months and the temperature climatology is the obs', so the output is mapped onto the
/// model's historical distribution: on the synthetic test data BCSD-T gives a mean of fut - obs + hist (284.77 K)
/// instead of fut - hist + obs (288.17 K), and BCSD-pr the model-historical mean (1.425 instead of the obs'
/// 1.843 mm/day). Use [`FitOrder::CarbonPlan`] only to reproduce CarbonPlan's published data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FitOrder {
    /// `fit(model_historical, obs)`: the library's convention.
    #[default]
    Documented,
    /// `fit(obs, model_historical)`: CarbonPlan's flow since PR #172.
    CarbonPlan,
}

impl FitOrder {
    /// The `(x, y)` arguments of `fit` for this order.
    pub fn fit_arguments<'a>(
        self,
        model_historical: TimeSeries<'a>,
        obs: TimeSeries<'a>,
    ) -> (TimeSeries<'a>, TimeSeries<'a>) {
        match self {
            FitOrder::Documented => (model_historical, obs),
            FitOrder::CarbonPlan => (obs, model_historical),
        }
    }
}

/// BCSD for temperature: per-month QM-RANK of the model with its 9-sample rolling-mean shift removed, the shift
/// added back afterwards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BcsdTemperature {
    /// Subtract the obs monthly climatology from the result. scikit-downscale defaults to true; CarbonPlan (and
    /// this type's default) use false, which returns absolute values.
    pub return_anoms: bool,
}

/// BCSD for precipitation: per-month QM-RANK, with no wet-day threshold (dry days tie; see [`crate::qm_rank`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BcsdPrecipitation {
    /// Divide the result by the obs monthly climatology, which must then be positive in every month. The
    /// library defaults to true; CarbonPlan (and this type's default) use false.
    pub return_anoms: bool,
}

/// A fitted [`BcsdTemperature`].
#[derive(Debug, Clone, PartialEq)]
pub struct FittedBcsdTemperature {
    /// Mean of `x` per month (NaN for months absent from `x`).
    x_climatology: [f64; MONTHS],
    monthly: MonthlyMappers,
    return_anoms: bool,
}

/// A fitted [`BcsdPrecipitation`].
#[derive(Debug, Clone, PartialEq)]
pub struct FittedBcsdPrecipitation {
    monthly: MonthlyMappers,
    return_anoms: bool,
}

impl BcsdTemperature {
    /// Fits the per-month model climatology of `x` and the per-month QM references from `y` (see [`FitOrder`] for
    /// which series is which). Each month present in `y` needs at least 10 valid values, each month present in `x`
    /// at least one. `x` and `y` may have different time steps.
    pub fn fit(&self, x: TimeSeries, y: TimeSeries) -> Result<FittedBcsdTemperature> {
        let mut x_climatology = [f64::NAN; MONTHS];
        for (month, steps) in month_groups(&x)?.iter().enumerate() {
            if steps.is_empty() {
                continue;
            }
            x_climatology[month] =
                compensated_mean(steps.iter().map(|&i| x.values[i])).ok_or(MethodError::TooFewValues {
                    sample: "the model values of a calendar month in fit's x",
                    got: 0,
                    needed: 1,
                    method: "BcsdTemperature",
                })?;
        }
        Ok(FittedBcsdTemperature {
            x_climatology,
            monthly: MonthlyMappers::fit(y, "BcsdTemperature")?,
            return_anoms: self.return_anoms,
        })
    }
}

impl FittedBcsdTemperature {
    /// Bias-corrects `x`, month by month: `R` = centred rolling mean over [`TREND_WINDOW`] consecutive samples of
    /// the month (fewer at the ends; NaN left out), `shift = R - climatology_x`, and the output is
    /// `shift + QM-RANK(x - shift)`. NaN stays NaN; a month of `x` without valid values gives NaN.
    pub fn predict(&self, x: TimeSeries) -> Result<Vec<f64>> {
        map_by_month(&x, |month, values| {
            let mapper = self.monthly.mapper(month, "BcsdTemperature")?;
            let climatology = self.x_climatology[month];
            if climatology.is_nan() {
                return Err(MethodError::TooFewValues {
                    sample: "the model values of a predicted calendar month in fit's x",
                    got: 0,
                    needed: 1,
                    method: "BcsdTemperature",
                });
            }
            let shifts: Vec<f64> = centred_rolling_mean(values).into_iter().map(|mean| mean - climatology).collect();
            let without_shift: Vec<f64> = values.iter().zip(&shifts).map(|(value, shift)| value - shift).collect();
            let mapped = mapper.transform(&without_shift)?;
            let anomaly_base = if self.return_anoms { self.monthly.y_climatology[month] } else { 0.0 };
            Ok(shifts.iter().zip(mapped).map(|(shift, mapped)| shift + mapped - anomaly_base).collect())
        })
    }
}

impl BcsdPrecipitation {
    /// Fits the per-month QM references from `y` (`x` is not used by the algorithm: the model's own ranks give
    /// the probabilities at predict time; it is taken for the shape of the API and [`FitOrder`]). Each month
    /// present in `y` needs at least 10 valid values.
    pub fn fit(&self, _x: TimeSeries, y: TimeSeries) -> Result<FittedBcsdPrecipitation> {
        let monthly = MonthlyMappers::fit(y, "BcsdPrecipitation")?;
        if self.return_anoms {
            for (month, &climatology) in monthly.y_climatology.iter().enumerate() {
                if climatology <= 0.0 {
                    return Err(MethodError::InvalidOption {
                        method: "BcsdPrecipitation",
                        message: format!(
                            "return_anoms needs a positive obs climatology in every month; month {} has {climatology}",
                            month + 1
                        ),
                    });
                }
            }
        }
        Ok(FittedBcsdPrecipitation { monthly, return_anoms: self.return_anoms })
    }
}

impl FittedBcsdPrecipitation {
    /// Bias-corrects `x` by per-month QM-RANK. NaN stays NaN; a month of `x` without valid values gives NaN.
    pub fn predict(&self, x: TimeSeries) -> Result<Vec<f64>> {
        map_by_month(&x, |month, values| {
            let mapped = self.monthly.mapper(month, "BcsdPrecipitation")?.transform(values)?;
            let climatology = self.monthly.y_climatology[month];
            Ok(if self.return_anoms { mapped.into_iter().map(|v| v / climatology).collect() } else { mapped })
        })
    }
}

/// The per-month QM-RANK mappers fitted on `y`, and `y`'s monthly climatology (for `return_anoms`).
#[derive(Debug, Clone, PartialEq)]
struct MonthlyMappers {
    mappers: [Option<FittedQuantileMapper>; MONTHS],
    /// Mean of `y` per month (NaN for months absent from `y`).
    y_climatology: [f64; MONTHS],
}

impl MonthlyMappers {
    fn fit(y: TimeSeries, method: &'static str) -> Result<MonthlyMappers> {
        let mut mappers: [Option<FittedQuantileMapper>; MONTHS] = Default::default();
        let mut y_climatology = [f64::NAN; MONTHS];
        for (month, steps) in month_groups(&y)?.iter().enumerate() {
            if steps.is_empty() {
                continue;
            }
            let values: Vec<f64> = steps.iter().map(|&i| y.values[i]).collect();
            let mapper = QuantileMapper::default().fit(&values).map_err(|error| match error {
                MethodError::TooFewValues { got, needed, .. } => MethodError::TooFewValues {
                    sample: "the values of a calendar month in fit's y",
                    got,
                    needed,
                    method,
                },
                other => other,
            })?;
            mappers[month] = Some(mapper);
            y_climatology[month] = compensated_mean(values.iter().copied()).unwrap_or(f64::NAN);
        }
        Ok(MonthlyMappers { mappers, y_climatology })
    }

    /// The mapper of month index `month` (0-based); a month absent from `y` cannot be predicted.
    fn mapper(&self, month: usize, method: &'static str) -> Result<&FittedQuantileMapper> {
        self.mappers[month].as_ref().ok_or(MethodError::TooFewValues {
            sample: "the values of a predicted calendar month in fit's y",
            got: 0,
            needed: N_ENDPOINTS,
            method,
        })
    }
}

/// The steps of each calendar month (index 0 = January), in time order.
/// Applies `map` to the values of each calendar month of `x` (0-based month, values in time order), skipping
/// months without a valid value, and puts its results back on that month's steps; every other step is NaN.
fn map_by_month(x: &TimeSeries, mut map: impl FnMut(usize, &[f64]) -> Result<Vec<f64>>) -> Result<Vec<f64>> {
    let mut out = vec![f64::NAN; x.len()];
    for (month, steps) in month_groups(x)?.iter().enumerate() {
        let values: Vec<f64> = steps.iter().map(|&i| x.values[i]).collect();
        if values.iter().all(|v| v.is_nan()) {
            continue;
        }
        for (&step, value) in steps.iter().zip(map(month, &values)?) {
            out[step] = value;
        }
    }
    Ok(out)
}

fn month_groups(series: &TimeSeries) -> Result<[Vec<usize>; MONTHS]> {
    if series.months.len() != series.values.len() {
        return Err(MethodError::InvalidOption {
            method: "BCSD",
            message: format!("{} values but {} months", series.values.len(), series.months.len()),
        });
    }
    let mut groups: [Vec<usize>; MONTHS] = Default::default();
    for (step, &month) in series.months.iter().enumerate() {
        let Some(group) = groups.get_mut(usize::from(month).wrapping_sub(1)) else {
            return Err(MethodError::InvalidOption {
                method: "BCSD",
                message: format!("month {month} at step {step} is not in 1..=12"),
            });
        };
        group.push(step);
    }
    Ok(groups)
}

/// pandas' `rolling(TREND_WINDOW, center=True, min_periods=1).mean()`: the mean of the valid values among the
/// samples up to 4 before and 4 after each one (NaN when there are none).
fn centred_rolling_mean(values: &[f64]) -> Vec<f64> {
    let half = TREND_WINDOW / 2;
    (0..values.len())
        .map(|centre| {
            let window = &values[centre.saturating_sub(half)..(centre + half + 1).min(values.len())];
            let (sum, count) =
                window.iter().filter(|v| !v.is_nan()).fold((0.0, 0usize), |(sum, count), v| (sum + v, count + 1));
            if count == 0 { f64::NAN } else { sum / count as f64 }
        })
        .collect()
}

/// Mean of the valid values with Kahan-compensated summation, as pandas' grouped mean computes climatologies;
/// `None` without valid values.
fn compensated_mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (mut sum, mut compensation, mut count) = (0.0_f64, 0.0_f64, 0usize);
    for value in values.filter(|v| !v.is_nan()) {
        let corrected = value - compensation;
        let total = sum + corrected;
        compensation = (total - sum) - corrected;
        sum = total;
        count += 1;
    }
    (count > 0).then(|| sum / count as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::TimeFacts;

    /// `years` years of 12 monthly steps.
    fn monthly_facts(years: usize) -> TimeFacts {
        let months: Vec<u8> = (0..years * 12).map(|i| (i % 12) as u8 + 1).collect();
        let n = months.len();
        TimeFacts { months, days_of_year: vec![1; n], days: (0..n).map(|i| i as f64 * 30.0).collect() }
    }

    #[test]
    fn rolling_mean_uses_shorter_windows_at_the_ends_and_skips_nan() {
        let values: Vec<f64> = (0..12).map(f64::from).collect();
        let means = centred_rolling_mean(&values);
        assert_eq!(means[0], 2.0); // mean of 0..=4
        assert_eq!(means[5], 5.0); // mean of 1..=9
        assert_eq!(means[11], 9.0); // mean of 7..=11
        assert_eq!(centred_rolling_mean(&[1.0, f64::NAN, 3.0]), vec![2.0, 2.0, 2.0]);
    }

    #[test]
    fn fit_orders_swap_the_arguments() {
        let facts = monthly_facts(1);
        let (model, obs) = ([1.0; 12], [2.0; 12]);
        let (x, y) = FitOrder::CarbonPlan.fit_arguments(facts.series(&model), facts.series(&obs));
        assert_eq!((x.values[0], y.values[0]), (2.0, 1.0));
        let (x, y) = FitOrder::Documented.fit_arguments(facts.series(&model), facts.series(&obs));
        assert_eq!((x.values[0], y.values[0]), (1.0, 2.0));
    }

    #[test]
    fn precipitation_maps_each_month_onto_the_obs_of_that_month() {
        let facts = monthly_facts(20);
        let obs: Vec<f64> = (0..240).map(|i| 100.0 * (i % 12) as f64 + (i / 12) as f64).collect();
        let model: Vec<f64> = (0..240).map(|i| -((i / 12) as f64)).collect();
        let fitted = BcsdPrecipitation::default().fit(facts.series(&model), facts.series(&obs)).unwrap();
        let out = fitted.predict(facts.series(&model)).unwrap();
        // Each month: the model decreases over the years, so year j takes the obs value of rank 20 - j.
        for (i, value) in out.iter().enumerate() {
            assert_eq!(*value, 100.0 * (i % 12) as f64 + (19 - i / 12) as f64);
        }
    }

    #[test]
    fn temperature_adds_the_model_shift_back() {
        let facts = monthly_facts(20);
        let obs: Vec<f64> = (0..240).map(|i| 280.0 + ((i * 7) % 5) as f64).collect();
        let model = obs.clone();
        let fitted = BcsdTemperature::default().fit(facts.series(&model), facts.series(&obs)).unwrap();
        // A uniformly warmer future keeps its +3 shift: ranks are unchanged, the shift is exactly +3.
        let future: Vec<f64> = model.iter().map(|v| v + 3.0).collect();
        let out = fitted.predict(facts.series(&future)).unwrap();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!((mean(&out) - mean(&obs) - 3.0).abs() < 0.2, "{}", mean(&out) - mean(&obs));
    }

    #[test]
    fn missing_months_and_short_samples_are_errors_but_nan_months_are_not() {
        let facts = monthly_facts(20);
        let obs: Vec<f64> = (0..240).map(f64::from).collect();
        let fitted = BcsdPrecipitation::default().fit(facts.series(&obs), facts.series(&obs)).unwrap();
        assert!(fitted.predict(facts.series(&[f64::NAN; 240])).unwrap().iter().all(|v| v.is_nan()));
        let short = monthly_facts(5);
        let error = BcsdPrecipitation::default().fit(short.series(&obs[..60]), short.series(&obs[..60])).unwrap_err();
        assert!(matches!(error, MethodError::TooFewValues { got: 5, needed: 10, .. }));
        let bad = TimeFacts { months: vec![13; 240], ..facts.clone() };
        assert!(matches!(fitted.predict(bad.series(&obs)), Err(MethodError::InvalidOption { .. })));
        let january_only = TimeFacts { months: vec![1; 20], days_of_year: vec![1; 20], days: vec![0.0; 20] };
        let fitted =
            BcsdPrecipitation::default().fit(january_only.series(&obs[..20]), january_only.series(&obs[..20])).unwrap();
        assert!(matches!(fitted.predict(facts.series(&obs)), Err(MethodError::TooFewValues { got: 0, .. })));
    }

    #[test]
    fn compensated_mean_skips_nan() {
        assert_eq!(compensated_mean([1.0, f64::NAN, 2.0].into_iter()), Some(1.5));
        assert_eq!(compensated_mean([f64::NAN].into_iter()), None);
    }
}
