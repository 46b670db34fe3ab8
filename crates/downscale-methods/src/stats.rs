//! The small statistical building blocks the quantile-mapping families share: linear interpolation with numpy's
//! exact tie and clamping semantics, a total order for sorting, and least-squares lines.
//!
//! They are written out here rather than taken from a crate because reproducing the reference packages to 1e-12
//! depends on details no general-purpose crate promises: which element of a block of equal abscissae `np.interp`
//! uses and the arithmetic form of its interpolation. (Plotting positions live with the Cunnane CDF in `qm_rank`;
//! xsdba's quantiles, ranks and means, which must match its own kernels, in `xsdba::statistics`.)

use std::cmp::Ordering;

/// Orders floats totally with NaN last, for sorting samples that were already cleaned of NaN.
pub fn total_order(a: &f64, b: &f64) -> Ordering {
    a.total_cmp(b)
}

/// `np.interp(x, xp, fp)` for ascending `xp` (ties allowed): outside the range the end values are returned, and at
/// or inside a block of equal abscissae the **last** element of the block is used, exactly as numpy does. That rule
/// is what gives scikit-downscale's tied values the largest plotting position of their block.
pub fn interp(x: f64, xp: &[f64], fp: &[f64]) -> f64 {
    interp_with(x, xp, fp, fp[0], fp[fp.len() - 1])
}

/// `np.interp(x, xp, fp, left, right)`: like [`interp`] with explicit values below and above the range.
fn interp_with(x: f64, xp: &[f64], fp: &[f64], left: f64, right: f64) -> f64 {
    debug_assert_eq!(xp.len(), fp.len());
    if x.is_nan() {
        return x;
    }
    let n = xp.len();
    if x < xp[0] {
        return left;
    }
    if x > xp[n - 1] {
        return right;
    }
    // The last index j with xp[j] <= x (numpy's binary_search_with_guess).
    let j = xp.partition_point(|&v| v <= x) - 1;
    if j == n - 1 || xp[j] == x {
        return fp[j];
    }
    let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
    let value = slope * (x - xp[j]) + fp[j];
    if !value.is_nan() {
        return value;
    }
    // numpy retries from the right end of the segment, then falls back to a flat segment's value.
    let from_right = slope * (x - xp[j + 1]) + fp[j + 1];
    if from_right.is_nan() && fp[j] == fp[j + 1] { fp[j] } else { from_right }
}

/// A least-squares straight line `intercept + slope · x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    /// The value at `x = 0`.
    pub intercept: f64,
    /// Change of the value per unit of `x`.
    pub slope: f64,
}

impl Line {
    /// Ordinary least squares through the points `(x_i, y_i)` (`np.polyfit(x, y, 1)`), computed about the means so
    /// that large abscissae (day numbers, 1e20 sentinels avoided) keep full precision.
    pub fn fit(x: &[f64], y: &[f64]) -> Line {
        debug_assert_eq!(x.len(), y.len());
        let n = x.len() as f64;
        let mean_x = x.iter().sum::<f64>() / n;
        let mean_y = y.iter().sum::<f64>() / n;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (&xi, &yi) in x.iter().zip(y) {
            let dx = xi - mean_x;
            sxy += dx * (yi - mean_y);
            sxx += dx * dx;
        }
        let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        Line { intercept: mean_y - slope * mean_x, slope }
    }

    /// The line's value at `x`.
    pub fn at(&self, x: f64) -> f64 {
        self.intercept + self.slope * x
    }
}

/// `n` evenly spaced values from `offset` in steps of `scale`: the samples of the unit tests.
#[cfg(test)]
pub(crate) fn ramp(n: usize, offset: f64, scale: f64) -> Vec<f64> {
    (0..n).map(|i| offset + scale * i as f64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interp_uses_last_element_of_a_tie_block_and_clamps() {
        let xp = [0.0, 1.0, 1.0, 1.0, 2.0];
        let fp = [10.0, 11.0, 12.0, 13.0, 14.0];
        assert_eq!(interp(1.0, &xp, &fp), 13.0);
        assert_eq!(interp(0.5, &xp, &fp), 10.5);
        assert_eq!(interp(1.5, &xp, &fp), 13.5);
        assert_eq!(interp(-3.0, &xp, &fp), 10.0);
        assert_eq!(interp(9.0, &xp, &fp), 14.0);
        assert_eq!(interp_with(9.0, &xp, &fp, f64::NEG_INFINITY, f64::INFINITY), f64::INFINITY);
    }

    #[test]
    fn least_squares_line_recovers_an_exact_line() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let y: Vec<f64> = x.iter().map(|v| 2.5 - 0.5 * v).collect();
        let line = Line::fit(&x, &y);
        assert!((line.slope + 0.5).abs() < 1e-15 && (line.intercept - 2.5).abs() < 1e-15);
    }
}
