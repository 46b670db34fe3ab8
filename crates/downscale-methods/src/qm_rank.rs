//! scikit-downscale's `QuantileMapper` (QM-RANK), the quantile-mapping step of BCSD, GARD and
//! DeepSD-BC, together with the Cunnane empirical CDF the whole scikit-downscale family is built on.
//!
//! QM-RANK does **not** map through a model-historical CDF: the probability of each value comes from its rank
//! *within the series being corrected*, and the reference (obs) quantile at that probability is the output. The
//! output therefore takes on the reference distribution whatever the series' own level or spread.

use crate::error::{MethodError, Result};
use crate::stats::{Line, interp, total_order};

/// Number of order statistics at each end through which the tails are extrapolated by least squares
/// (scikit-downscale's `n_endpoints` default).
pub const N_ENDPOINTS: usize = 10;

/// Cunnane plotting position `(rank - 0.4) / (n + 0.2)` of the 1-based `rank` among `n`, with the arithmetic of
/// scikit-downscale's `plotting_positions` (`(k - α) / (n + 1 - α - β)`, α = β = 0.4, evaluated left to right) so
/// that positions, and the values interpolated at them, agree with the reference to the last bit.
pub fn cunnane_position(rank: usize, n: usize) -> f64 {
    const ALPHA: f64 = 0.4;
    const BETA: f64 = 0.4;
    (rank as f64 - ALPHA) / (n as f64 + 1.0 - ALPHA - BETA)
}

/// An empirical CDF: the valid values of a sample sorted ascending, each with its Cunnane position.
#[derive(Debug, Clone, PartialEq)]
pub struct CunnaneCdf {
    values: Vec<f64>,
    positions: Vec<f64>,
}

impl CunnaneCdf {
    /// The CDF of the non-NaN values of `sample`, which must number at least `needed` (named `sample_name` and
    /// `method` in the error otherwise). `needed` is at least 1.
    pub fn new(sample: &[f64], needed: usize, sample_name: &'static str, method: &'static str) -> Result<CunnaneCdf> {
        let mut values: Vec<f64> = sample.iter().copied().filter(|v| !v.is_nan()).collect();
        if values.len() < needed.max(1) {
            return Err(MethodError::TooFewValues { sample: sample_name, got: values.len(), needed, method });
        }
        values.sort_unstable_by(total_order);
        let n = values.len();
        let positions = (1..=n).map(|rank| cunnane_position(rank, n)).collect();
        Ok(CunnaneCdf { values, positions })
    }

    /// The sorted values (order statistics).
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The Cunnane position of each order statistic, ascending.
    pub fn positions(&self) -> &[f64] {
        &self.positions
    }

    /// Number of order statistics (never zero).
    pub fn count(&self) -> usize {
        self.values.len()
    }

    /// The probability of `value` by linear interpolation, clamped to the first and last positions. A value equal
    /// to a block of tied order statistics gets the position of the last of them (`np.interp`).
    pub fn probability(&self, value: f64) -> f64 {
        interp(value, &self.values, &self.positions)
    }

    /// The value at probability `p` by linear interpolation, clamped to the smallest and largest values.
    pub fn quantile(&self, p: f64) -> f64 {
        interp(p, &self.positions, &self.values)
    }

    /// Least-squares line `value = a + b·position` through the first [`N_ENDPOINTS`] order statistics (all of
    /// them in a smaller sample).
    pub fn lower_tail(&self) -> Line {
        let end = N_ENDPOINTS.min(self.count());
        Line::fit(&self.positions[..end], &self.values[..end])
    }

    /// Least-squares line through the last [`N_ENDPOINTS`] order statistics.
    pub fn upper_tail(&self) -> Line {
        let start = self.count().saturating_sub(N_ENDPOINTS);
        Line::fit(&self.positions[start..], &self.values[start..])
    }

    /// Whether the first [`N_ENDPOINTS`] order statistics are all equal (e.g. dry days), so the lower tail line is
    /// flat. Tested on the values rather than the fitted slope, which rounding can leave a hair off zero.
    pub fn lower_tail_is_flat(&self) -> bool {
        let end = N_ENDPOINTS.min(self.count());
        self.values[0] == self.values[end - 1]
    }

    /// Whether the last [`N_ENDPOINTS`] order statistics are all equal.
    pub fn upper_tail_is_flat(&self) -> bool {
        let start = self.count().saturating_sub(N_ENDPOINTS);
        self.values[start] == self.values[self.count() - 1]
    }
}

/// The least-squares trend of the valid values of `values` against their index 0..n-1 (NaN steps keep their
/// index but are left out), as scikit-downscale's `LinearTrendTransformer` fits it; `None` without valid values.
pub fn index_trend(values: &[f64]) -> Option<Line> {
    let (mut count, mut sum_index, mut sum_value) = (0usize, 0.0, 0.0);
    for (index, &value) in values.iter().enumerate() {
        if !value.is_nan() {
            count += 1;
            sum_index += index as f64;
            sum_value += value;
        }
    }
    if count == 0 {
        return None;
    }
    let mean_index = sum_index / count as f64;
    let mean_value = sum_value / count as f64;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (index, &value) in values.iter().enumerate() {
        if !value.is_nan() {
            let dx = index as f64 - mean_index;
            sxy += dx * (value - mean_value);
            sxx += dx * dx;
        }
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    Some(Line { intercept: mean_value - slope * mean_index, slope })
}

/// Gives each valid value of `values` its Cunnane position among the valid values, writing it to `positions` (NaN
/// for NaN values). Every member of a block of tied values gets the position of the **largest** rank in its block:
/// scikit-downscale finds the positions with `np.interp` of the series against its own sorted copy, which returns
/// the last element of a tie block. (A stable rank would spread the block over distinct positions instead.)
/// `order` is scratch space for the sorting permutation.
pub fn tie_max_positions(values: &[f64], positions: &mut [f64], order: &mut Vec<usize>) {
    debug_assert_eq!(values.len(), positions.len());
    order.clear();
    order.extend((0..values.len()).filter(|&i| !values[i].is_nan()));
    order.sort_unstable_by(|&a, &b| total_order(&values[a], &values[b]));
    positions.fill(f64::NAN);
    let n = order.len();
    let mut start = 0;
    while start < n {
        let block_value = values[order[start]];
        let mut end = start + 1;
        // `==` rather than the total order, so -0.0 and 0.0 (adjacent after sorting) form one block, as in numpy.
        while end < n && values[order[end]] == block_value {
            end += 1;
        }
        let position = cunnane_position(end, n);
        for &index in &order[start..end] {
            positions[index] = position;
        }
        start = end;
    }
}

/// `QuantileMapper(detrend)`: fit on a reference (obs) sample, then transform any series onto the reference
/// distribution by rank. Default: no detrending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuantileMapper {
    /// Remove each series' least-squares trend in the sample index before mapping, and add the target's slope
    /// back. The level of the result is the reference trend's intercept, not the target's: the warming between
    /// the reference period and the start of the target series is lost, as in the reference.
    pub detrend: bool,
}

impl QuantileMapper {
    /// Stores the reference CDF (of the detrended reference when detrending). Needs at least [`N_ENDPOINTS`]
    /// valid values, for the tail regressions.
    pub fn fit(&self, reference: &[f64]) -> Result<FittedQuantileMapper> {
        const SAMPLE: &str = "the quantile-mapping reference";
        let reference_trend = if self.detrend { index_trend(reference) } else { None };
        let cdf = match reference_trend {
            Some(trend) => {
                let residuals: Vec<f64> =
                    reference.iter().enumerate().map(|(i, &value)| value - trend.at(i as f64)).collect();
                CunnaneCdf::new(&residuals, N_ENDPOINTS, SAMPLE, METHOD)?
            }
            None => CunnaneCdf::new(reference, N_ENDPOINTS, SAMPLE, METHOD)?,
        };
        let (lower, upper) = (cdf.lower_tail(), cdf.upper_tail());
        Ok(FittedQuantileMapper { cdf, lower, upper, reference_trend })
    }
}

const METHOD: &str = "QuantileMapper";

/// A fitted [`QuantileMapper`].
#[derive(Debug, Clone, PartialEq)]
pub struct FittedQuantileMapper {
    cdf: CunnaneCdf,
    lower: Line,
    upper: Line,
    /// The reference's trend when detrending (its intercept sets the output level).
    reference_trend: Option<Line>,
}

impl FittedQuantileMapper {
    /// Maps `x` onto the reference distribution. Each valid value's probability is its Cunnane position among the
    /// valid values of `x` (ties: the largest position of the block); the output is the reference quantile there,
    /// and beyond the reference's first/last position (possible only when `x` has more valid values than the
    /// reference) the least-squares line through the reference's 10 end points. NaN stays NaN; an all-NaN `x`
    /// gives all NaN.
    ///
    /// With detrending: `y_i = QM(x_i - trend_x(i)) + slope_x·i + intercept_reference`.
    pub fn transform(&self, x: &[f64]) -> Result<Vec<f64>> {
        let mut out = vec![f64::NAN; x.len()];
        let mut order = Vec::with_capacity(x.len());
        match self.reference_trend {
            Some(reference_trend) => {
                let Some(trend) = index_trend(x) else { return Ok(out) };
                let residuals: Vec<f64> = x.iter().enumerate().map(|(i, &value)| value - trend.at(i as f64)).collect();
                tie_max_positions(&residuals, &mut out, &mut order);
                // The reference adds the whole trend line back, then subtracts the difference of the intercepts.
                let level_shift = trend.intercept - reference_trend.intercept;
                for (i, value) in out.iter_mut().enumerate() {
                    if !value.is_nan() {
                        *value = (self.inverse(*value) + trend.at(i as f64)) - level_shift;
                    }
                }
            }
            None => {
                tie_max_positions(x, &mut out, &mut order);
                for value in out.iter_mut().filter(|value| !value.is_nan()) {
                    *value = self.inverse(*value);
                }
            }
        }
        Ok(out)
    }

    /// The reference value at probability `p`, with the least-squares end lines beyond the reference's positions.
    fn inverse(&self, p: f64) -> f64 {
        let positions = self.cdf.positions();
        if p < positions[0] {
            self.lower.at(p)
        } else if p > positions[positions.len() - 1] {
            self.upper.at(p)
        } else {
            self.cdf.quantile(p)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_follow_numpy_arithmetic() {
        assert_eq!(cunnane_position(1, 3), (1.0 - 0.4) / (3.0 + 1.0 - 0.4 - 0.4));
        assert!((cunnane_position(3, 3) - 2.6 / 3.2).abs() < 1e-16);
    }

    #[test]
    fn ties_get_the_largest_position_of_their_block() {
        let values = [0.0, 5.0, 0.0, f64::NAN, 0.0, 2.0];
        let mut positions = [0.0; 6];
        tie_max_positions(&values, &mut positions, &mut Vec::new());
        // Five valid values; the three zeros hold ranks 1..=3 and all get rank 3.
        assert_eq!(positions[0], cunnane_position(3, 5));
        assert_eq!(positions[2], cunnane_position(3, 5));
        assert_eq!(positions[4], cunnane_position(3, 5));
        assert_eq!(positions[5], cunnane_position(4, 5));
        assert_eq!(positions[1], cunnane_position(5, 5));
        assert!(positions[3].is_nan());
    }

    #[test]
    fn equal_lengths_return_the_reference_order_statistics() {
        let reference: Vec<f64> = (0..12).map(|i| 100.0 + 3.0 * i as f64).collect();
        let x: Vec<f64> = (0..12).map(|i| -(i as f64)).collect();
        let fitted = QuantileMapper::default().fit(&reference).unwrap();
        let out = fitted.transform(&x).unwrap();
        // x is descending, so its i-th value has rank 12 - i and maps onto the (12 - i)-th reference value.
        for (i, value) in out.iter().enumerate() {
            assert_eq!(*value, reference[11 - i]);
        }
    }

    #[test]
    fn longer_target_extrapolates_along_the_end_line() {
        // An exactly linear reference in position: the end lines are the same line, so the tails continue it.
        let n_reference = 20;
        let reference: Vec<f64> = (1..=n_reference).map(|k| 7.0 + 2.0 * cunnane_position(k, n_reference)).collect();
        let x: Vec<f64> = (0..40).map(|i| i as f64).collect();
        let out = QuantileMapper::default().fit(&reference).unwrap().transform(&x).unwrap();
        for (i, value) in out.iter().enumerate() {
            let expected = 7.0 + 2.0 * cunnane_position(i + 1, 40);
            assert!((value - expected).abs() < 1e-12, "{i}: {value} vs {expected}");
        }
    }

    #[test]
    fn nan_is_kept_and_excluded_from_ranks() {
        let reference: Vec<f64> = (0..10).map(f64::from).collect();
        let fitted = QuantileMapper::default().fit(&reference).unwrap();
        let with_gap = fitted.transform(&[3.0, f64::NAN, 1.0]).unwrap();
        let without = fitted.transform(&[3.0, 1.0]).unwrap();
        assert_eq!((with_gap[0], with_gap[2]), (without[0], without[1]));
        assert!(with_gap[1].is_nan());
        assert!(fitted.transform(&[f64::NAN; 4]).unwrap().iter().all(|v| v.is_nan()));
        assert!(fitted.transform(&[]).unwrap().is_empty());
    }

    #[test]
    fn too_small_reference_is_an_error() {
        let error = QuantileMapper::default().fit(&[1.0, 2.0, f64::NAN]).unwrap_err();
        assert!(matches!(error, MethodError::TooFewValues { got: 2, needed: N_ENDPOINTS, .. }));
    }

    #[test]
    fn detrending_keeps_the_target_slope_at_the_reference_level() {
        // Reference: distinct noise around 10. Target: the same noise on a steep ramp starting at 50. The residuals
        // coincide, so the mapped residuals are the target's own and only the level changes.
        let noise: Vec<f64> = (0..101).map(|i| ((i * 37) % 101) as f64 * 0.01).collect();
        let reference: Vec<f64> = noise.iter().map(|v| 10.0 + v).collect();
        let x: Vec<f64> = noise.iter().enumerate().map(|(i, v)| 50.0 + 0.5 * i as f64 + v).collect();
        let out = QuantileMapper { detrend: true }.fit(&reference).unwrap().transform(&x).unwrap();
        let (trend, x_trend) = (index_trend(&out).unwrap(), index_trend(&x).unwrap());
        assert!((trend.slope - x_trend.slope).abs() < 1e-12);
        assert!((trend.intercept - index_trend(&reference).unwrap().intercept).abs() < 1e-9);
    }

    #[test]
    fn index_trend_skips_nan_but_keeps_positions() {
        let trend = index_trend(&[1.0, f64::NAN, 5.0, 7.0]).unwrap();
        assert!((trend.slope - 2.0).abs() < 1e-15 && (trend.intercept - 1.0).abs() < 1e-15);
        assert_eq!(index_trend(&[f64::NAN]), None);
    }
}
