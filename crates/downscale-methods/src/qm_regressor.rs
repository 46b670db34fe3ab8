//! scikit-downscale's `QuantileMappingReressor` (sic; QM-REG), classic quantile mapping from
//! the model-historical CDF onto the reference (obs) CDF, and `TrendAwareQuantileMappingRegressor`, which maps
//! detrended series and restores the prediction's trend and mean change.
//!
//! The reference builds its extrapolated tails with end nodes at plotting positions ∓1e20. Here the tails are
//! written in their analytic limit: beyond the last order statistic, the CDF continues through it with the slope
//! of the least-squares line through the 10 end points. Upper tails agree with the reference to ~1e-14. Its lower
//! tails do not: evaluating the segment that starts at position -1e20 cancels two numbers of size 1e20, so the
//! reference's output there has an absolute error of order 1e4 × slope and in practice comes out as a constant
//! (0.0 on the test data) for every value below the model-historical minimum, and for every value whose
//! probability lies below the reference sample's first position (when the model-historical sample is the longer).
//! That is a defect of the reference, not a behaviour to reproduce.

use std::cmp::Ordering;

use crate::error::{MethodError, Result};
use crate::qm_rank::{CunnaneCdf, N_ENDPOINTS, index_trend};

/// How the CDFs continue beyond the training samples (scikit-downscale's `extrapolate`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Extrapolate {
    /// Constant: outputs stay within the reference's range (`None`, the reference default).
    #[default]
    None,
    /// Beyond the model-historical range, the output moves one to one with the input from the matching end of
    /// the reference (`'1to1'`; see [`FittedQuantileMappingRegressor::predict`] for unequal training lengths).
    OneToOne,
    /// Linear continuation of the lower tails (`'min'`).
    Min,
    /// Linear continuation of the upper tails (`'max'`).
    Max,
    /// Linear continuation of both tails (`'both'`).
    Both,
}

impl Extrapolate {
    fn lower(self) -> bool {
        matches!(self, Extrapolate::Min | Extrapolate::Both)
    }

    fn upper(self) -> bool {
        matches!(self, Extrapolate::Max | Extrapolate::Both)
    }
}

/// Slopes `d value / d position` of a CDF's linear tails; `None` where the tail is not extrapolated.
#[derive(Debug, Clone, Copy, PartialEq)]
struct TailSlopes {
    lower: Option<f64>,
    upper: Option<f64>,
}

impl TailSlopes {
    /// The slopes of the end least-squares lines on the sides `extrapolate` continues. A flat end (the 10 end
    /// values equal, e.g. dry days) has slope zero.
    fn of(cdf: &CunnaneCdf, extrapolate: Extrapolate) -> TailSlopes {
        let lower = || if cdf.lower_tail_is_flat() { 0.0 } else { cdf.lower_tail().slope };
        let upper = || if cdf.upper_tail_is_flat() { 0.0 } else { cdf.upper_tail().slope };
        TailSlopes { lower: extrapolate.lower().then(lower), upper: extrapolate.upper().then(upper) }
    }
}

/// Minimum valid values of each training sample: scikit-downscale requires `2·n_endpoints + 1`.
const MIN_TRAINING_VALUES: usize = 2 * N_ENDPOINTS + 1;

/// `QuantileMappingReressor(extrapolate)`: `fit(model_hist, obs)`, then `predict(model)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuantileMappingRegressor {
    /// The tails beyond the training range.
    pub extrapolate: Extrapolate,
}

impl QuantileMappingRegressor {
    /// Stores the Cunnane CDFs of the valid values of `hist` (model, training period) and `reference` (obs), which
    /// need at least 21 valid values each.
    pub fn fit(&self, hist: &[f64], reference: &[f64]) -> Result<FittedQuantileMappingRegressor> {
        const METHOD: &str = "QuantileMappingReressor";
        let hist = CunnaneCdf::new(hist, MIN_TRAINING_VALUES, "the model-historical sample", METHOD)?;
        let reference = CunnaneCdf::new(reference, MIN_TRAINING_VALUES, "the reference sample", METHOD)?;
        Ok(FittedQuantileMappingRegressor {
            extrapolate: self.extrapolate,
            hist_slopes: TailSlopes::of(&hist, self.extrapolate),
            reference_slopes: TailSlopes::of(&reference, self.extrapolate),
            hist,
            reference,
        })
    }
}

/// A fitted [`QuantileMappingRegressor`].
#[derive(Debug, Clone, PartialEq)]
pub struct FittedQuantileMappingRegressor {
    extrapolate: Extrapolate,
    hist: CunnaneCdf,
    reference: CunnaneCdf,
    hist_slopes: TailSlopes,
    reference_slopes: TailSlopes,
}

impl FittedQuantileMappingRegressor {
    /// Maps each value through the model-historical CDF to a probability and the reference CDF back to a value.
    /// Each output depends only on its own input value (not on the other values of `x`). NaN stays NaN.
    ///
    /// Tails, for a value `v` beyond the model-historical range `[h_1, h_n]`:
    /// - `None`: the probability is clamped, so the output is the reference's first/last value;
    /// - `Min`/`Max`/`Both` on that side: `p = pp_end + (v - h_end) / slope_h`, and beyond the reference's end
    ///   position `y = r_end + slope_r · (p - pp_end)`, with the slopes of the end least-squares lines. Where the
    ///   model-historical tail is flat (its 10 end values equal) the probability is clamped instead: the
    ///   reference's arithmetic degenerates there (a value equal to `h_end` gets position ±1e20, values beyond it
    ///   come from a regression on the predicted sample fitted with its axes swapped);
    /// - `OneToOne`: as `None`, then `v` beyond `h_n` gives `r_n + (v - h_n)` when both training samples have the
    ///   same size. With unequal sizes the reference anchors at the shorter sample's end position: for more
    ///   model values than reference values, `r_n + (v - H(pp_r,n))` above and `h_1 + (v - H(pp_r,1))` below, where
    ///   `H` is the model-historical quantile function — the `h_1` (a model value, not a reference value) is
    ///   the reference's own slip, reproduced as is; for fewer, `R(pp_h,n) + (v - h_n)` above and
    ///   `R(pp_h,1) + (v - h_1)` below.
    pub fn predict(&self, x: &[f64]) -> Result<Vec<f64>> {
        Ok(x.iter().map(|&value| self.predict_value(value)).collect())
    }

    /// The prediction for one value (see [`Self::predict`]).
    pub fn predict_value(&self, value: f64) -> f64 {
        if value.is_nan() {
            return value;
        }
        let mapped = self.reference_value(self.hist_probability(value));
        if self.extrapolate == Extrapolate::OneToOne { self.one_to_one(value, mapped) } else { mapped }
    }

    /// Probability of `value` in the model-historical CDF, continued linearly beyond its ends when extrapolating.
    fn hist_probability(&self, value: f64) -> f64 {
        let (values, positions) = (self.hist.values(), self.hist.positions());
        let last = values.len() - 1;
        match (self.hist_slopes.lower, self.hist_slopes.upper) {
            (Some(slope), _) if value < values[0] && slope > 0.0 => (value - values[0]) / slope + positions[0],
            (_, Some(slope)) if value > values[last] && slope > 0.0 => (value - values[last]) / slope + positions[last],
            _ => self.hist.probability(value),
        }
    }

    /// Reference value at probability `p`, continued linearly beyond its end positions when extrapolating.
    fn reference_value(&self, p: f64) -> f64 {
        let (values, positions) = (self.reference.values(), self.reference.positions());
        let last = values.len() - 1;
        match (self.reference_slopes.lower, self.reference_slopes.upper) {
            (Some(slope), _) if p < positions[0] => slope * (p - positions[0]) + values[0],
            (_, Some(slope)) if p > positions[last] => slope * (p - positions[last]) + values[last],
            _ => self.reference.quantile(p),
        }
    }

    /// scikit-downscale's `_extrapolate_1to1` for one value.
    fn one_to_one(&self, value: f64, mapped: f64) -> f64 {
        let (hist, reference) = (&self.hist, &self.reference);
        let (hist_first, hist_last) = (hist.values()[0], hist.values()[hist.count() - 1]);
        let (reference_first, reference_last) = (reference.values()[0], reference.values()[reference.count() - 1]);
        let first_position = |cdf: &CunnaneCdf| cdf.positions()[0];
        let last_position = |cdf: &CunnaneCdf| cdf.positions()[cdf.count() - 1];
        let sizes = hist.count().cmp(&reference.count());
        if value > hist_last {
            match sizes {
                Ordering::Equal => reference_last + (value - hist_last),
                Ordering::Greater => reference_last + (value - hist.quantile(last_position(reference))),
                Ordering::Less => reference.quantile(last_position(hist)) + (value - hist_last),
            }
        } else if value < hist_first {
            match sizes {
                Ordering::Equal => reference_first + (value - hist_first),
                // The reference's rule, model value `hist_first` included (see `predict`).
                Ordering::Greater => hist_first + (value - hist.quantile(first_position(reference))),
                Ordering::Less => reference.quantile(first_position(hist)) + (value - hist_first),
            }
        } else {
            mapped
        }
    }
}

/// `TrendAwareQuantileMappingRegressor(inner)` (CarbonPlan's `detrended_quantile_map` option): quantile mapping of
/// the series with their least-squares index trends removed, after which the prediction's own trend (centred at
/// zero) and the shift `mean(x) - mean(hist) + mean(reference)` are added: the projected mean change is carried
/// onto the reference level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrendAwareQuantileMappingRegressor {
    /// The regressor that maps the detrended series.
    pub inner: QuantileMappingRegressor,
}

impl TrendAwareQuantileMappingRegressor {
    /// Fits the inner regressor on the detrended training samples (at least 21 valid values each).
    pub fn fit(&self, hist: &[f64], reference: &[f64]) -> Result<FittedTrendAwareQuantileMappingRegressor> {
        let (hist_detrended, hist_mean) = detrend(hist);
        let (reference_detrended, reference_mean) = detrend(reference);
        let inner = self.inner.fit(&hist_detrended, &reference_detrended)?;
        match (hist_mean, reference_mean) {
            (Some(hist_mean), Some(reference_mean)) => {
                Ok(FittedTrendAwareQuantileMappingRegressor { inner, hist_mean, reference_mean })
            }
            // Unreachable: the inner fit rejects samples without valid values.
            _ => Err(MethodError::TooFewValues {
                sample: "a training sample",
                got: 0,
                needed: MIN_TRAINING_VALUES,
                method: "TrendAwareQuantileMappingRegressor",
            }),
        }
    }
}

/// A fitted [`TrendAwareQuantileMappingRegressor`].
#[derive(Debug, Clone, PartialEq)]
pub struct FittedTrendAwareQuantileMappingRegressor {
    inner: FittedQuantileMappingRegressor,
    hist_mean: f64,
    reference_mean: f64,
}

impl FittedTrendAwareQuantileMappingRegressor {
    /// `y_i = QM(x_i - trend_x(i)) + (trend_x(i) - mean(trend_x) + mean(x) - mean(hist) + mean(reference))`,
    /// means over valid values. NaN stays NaN; an all-NaN `x` gives all NaN.
    pub fn predict(&self, x: &[f64]) -> Result<Vec<f64>> {
        let Some(trend) = index_trend(x) else { return Ok(vec![f64::NAN; x.len()]) };
        let (mut count, mut value_sum, mut trend_sum) = (0usize, 0.0, 0.0);
        for (i, &value) in x.iter().enumerate() {
            if !value.is_nan() {
                count += 1;
                value_sum += value;
                trend_sum += trend.at(i as f64);
            }
        }
        let trend_mean = trend_sum / count as f64;
        let delta = (value_sum / count as f64 - self.hist_mean) + self.reference_mean;
        Ok(x.iter()
            .enumerate()
            .map(|(i, &value)| {
                let trend_value = trend.at(i as f64);
                self.inner.predict_value(value - trend_value) + ((trend_value - trend_mean) + delta)
            })
            .collect())
    }
}

/// The residuals of `values` about their least-squares index trend, and the mean of the valid values.
fn detrend(values: &[f64]) -> (Vec<f64>, Option<f64>) {
    let Some(trend) = index_trend(values) else { return (values.to_vec(), None) };
    let (mut count, mut sum) = (0usize, 0.0);
    let residuals = values
        .iter()
        .enumerate()
        .map(|(i, &value)| {
            if !value.is_nan() {
                count += 1;
                sum += value;
            }
            value - trend.at(i as f64)
        })
        .collect();
    (residuals, Some(sum / count as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qm_rank::cunnane_position;
    use crate::stats::ramp;

    #[test]
    fn identical_samples_map_values_to_themselves_inside_the_range() {
        let sample = ramp(50, 3.0, 0.5);
        let fitted = QuantileMappingRegressor::default().fit(&sample, &sample).unwrap();
        let out = fitted.predict(&[3.0, 10.25, 27.5, f64::NAN]).unwrap();
        assert!((out[0] - 3.0).abs() < 1e-12 && (out[1] - 10.25).abs() < 1e-12 && (out[2] - 27.5).abs() < 1e-12);
        assert!(out[3].is_nan());
    }

    #[test]
    fn tails_are_clamped_or_continued() {
        let hist = ramp(30, 0.0, 1.0); // 0..29
        let reference = ramp(30, 100.0, 2.0); // 100..158
        let below_above = [-5.0, 35.0];
        let none = QuantileMappingRegressor::default().fit(&hist, &reference).unwrap();
        assert_eq!(none.predict(&below_above).unwrap(), vec![100.0, 158.0]);
        let one_to_one = QuantileMappingRegressor { extrapolate: Extrapolate::OneToOne };
        assert_eq!(one_to_one.fit(&hist, &reference).unwrap().predict(&below_above).unwrap(), vec![95.0, 164.0]);
        // Both samples are linear in position: slope dh/dp = 29 / Δpp, dr/dp = 58 / Δpp, so the continuation
        // doubles the excess beyond each end.
        let both = QuantileMappingRegressor { extrapolate: Extrapolate::Both }.fit(&hist, &reference).unwrap();
        let out = both.predict(&below_above).unwrap();
        assert!((out[0] - 90.0).abs() < 1e-9 && (out[1] - 170.0).abs() < 1e-9, "{out:?}");
        let max = QuantileMappingRegressor { extrapolate: Extrapolate::Max }.fit(&hist, &reference).unwrap();
        let out = max.predict(&below_above).unwrap();
        assert!(out[0] == 100.0 && (out[1] - 170.0).abs() < 1e-9, "{out:?}");
    }

    #[test]
    fn flat_model_tail_is_clamped() {
        let mut hist = ramp(30, 0.0, 1.0);
        hist[20..].fill(20.0);
        let reference = ramp(30, 0.0, 1.0);
        let fitted = QuantileMappingRegressor { extrapolate: Extrapolate::Both }.fit(&hist, &reference).unwrap();
        let last_position = cunnane_position(30, 30);
        assert_eq!(fitted.hist_probability(25.0), last_position);
        assert_eq!(fitted.predict(&[25.0]).unwrap(), vec![29.0]);
    }

    #[test]
    fn training_samples_need_21_values() {
        let error = QuantileMappingRegressor::default().fit(&ramp(20, 0.0, 1.0), &ramp(30, 0.0, 1.0)).unwrap_err();
        assert!(matches!(error, MethodError::TooFewValues { got: 20, needed: 21, .. }));
    }

    #[test]
    fn trend_aware_restores_trend_and_mean_change() {
        let noise: Vec<f64> = (0..300).map(|i| ((i * 29) % 13) as f64 * 0.2).collect();
        let hist: Vec<f64> = noise.iter().enumerate().map(|(i, v)| 10.0 + 0.01 * i as f64 + v).collect();
        let reference: Vec<f64> = noise.iter().map(|v| 20.0 + 2.0 * v).collect();
        let future: Vec<f64> = noise.iter().enumerate().map(|(i, v)| 13.0 + 0.03 * i as f64 + v).collect();
        let model = TrendAwareQuantileMappingRegressor::default();
        let out = model.fit(&hist, &reference).unwrap().predict(&future).unwrap();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let expected_mean = mean(&future) - mean(&hist) + mean(&reference);
        assert!((mean(&out) - expected_mean).abs() < 0.05, "{} vs {expected_mean}", mean(&out));
        assert!((index_trend(&out).unwrap().slope - 0.03).abs() < 0.005);
    }
}
