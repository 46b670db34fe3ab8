//! The small statistical building blocks every quantile-mapping family shares: linear interpolation with numpy's
//! exact tie and clamping semantics, plotting positions, type-7 quantiles, least-squares lines and ranks.
//!
//! They are written out here rather than taken from a crate because reproducing the reference packages to 1e-12
//! depends on details no general-purpose crate promises: which element of a block of equal abscissae `np.interp`
//! uses, the arithmetic form of its interpolation, and numpy's lerp for quantiles.

use std::cmp::Ordering;

/// Orders floats totally with NaN last, for sorting samples that were already cleaned of NaN.
pub fn total_order(a: &f64, b: &f64) -> Ordering {
    a.total_cmp(b)
}

/// The values of `values` that are not NaN, sorted ascending.
pub fn sorted_valid(values: &[f64]) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    sorted.sort_unstable_by(total_order);
    sorted
}

/// `np.interp(x, xp, fp)` for ascending `xp` (ties allowed): outside the range the end values are returned, and at
/// or inside a block of equal abscissae the **last** element of the block is used, exactly as numpy does. That rule
/// is what gives scikit-downscale's tied values the largest plotting position of their block.
pub fn interp(x: f64, xp: &[f64], fp: &[f64]) -> f64 {
    interp_with(x, xp, fp, fp[0], fp[fp.len() - 1])
}

/// `np.interp(x, xp, fp, left, right)`: like [`interp`] with explicit values below and above the range.
pub fn interp_with(x: f64, xp: &[f64], fp: &[f64], left: f64, right: f64) -> f64 {
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

/// Plotting positions `(k - α) / (n + 1 - 2α)`, k = 1..n (scikit-downscale's Cunnane positions use α = 0.4).
pub fn plotting_positions(n: usize, alpha: f64) -> Vec<f64> {
    let denominator = n as f64 + 1.0 - 2.0 * alpha;
    (1..=n).map(|k| (k as f64 - alpha) / denominator).collect()
}

/// Cunnane plotting positions `(k - 0.4) / (n + 0.2)`.
pub fn cunnane(n: usize) -> Vec<f64> {
    plotting_positions(n, 0.4)
}

/// xsdba's `equally_spaced_nodes(n)`: `(k - 0.5) / n`, k = 1..n, without end points.
pub fn equally_spaced_nodes(n: usize) -> Vec<f64> {
    (0..n).map(|k| (k as f64 + 0.5) / n as f64).collect()
}

/// Hyndman–Fan type-7 quantile (numpy's default `linear` method) of an ascending, NaN-free, non-empty sample,
/// using numpy's two-sided lerp so results agree with it to the last bit in most cases.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let virtual_index = (n - 1) as f64 * q;
    let below = (virtual_index.floor() as usize).min(n - 1);
    let above = (below + 1).min(n - 1);
    let t = virtual_index - below as f64;
    lerp(sorted[below], sorted[above], t)
}

/// numpy's `_lerp`: `a + t (b - a)`, computed from the nearer end so that t = 1 gives exactly b.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let difference = b - a;
    if t >= 0.5 { b - difference * (1.0 - t) } else { a + difference * t }
}

/// A least-squares straight line `intercept + slope · x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    pub intercept: f64,
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

    /// The line fitted against the sample index 0..n-1 (scikit-downscale's and xsdba's index-based trends).
    pub fn fit_index(y: &[f64]) -> Line {
        let index: Vec<f64> = (0..y.len()).map(|i| i as f64).collect();
        Line::fit(&index, y)
    }

    pub fn at(&self, x: f64) -> f64 {
        self.intercept + self.slope * x
    }
}

/// Ranks 1..n of `values` with ties given their average rank (pandas `rank(method="average")`). NaN-free input.
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let order = argsort(values);
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end (0-based) share the average of ranks start+1..=end.
        let average = (start + 1 + end) as f64 / 2.0;
        for &index in &order[start..end] {
            ranks[index] = average;
        }
        start = end;
    }
    ranks
}

/// Indices that sort `values` ascending (stable). NaN-free input.
pub fn argsort(values: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| total_order(&values[a], &values[b]));
    order
}

/// Mean of a non-empty slice, accumulated in f64.
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
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
    fn quantile_matches_numpy_linear_method() {
        // np.quantile([1, 2, 4, 8], [0, 0.1, 0.5, 0.9, 1]) = [1, 1.3, 3, 6.8, 8]
        let sample = [1.0, 2.0, 4.0, 8.0];
        let expected = [1.0, 1.3, 3.0, 6.8, 8.0];
        for (q, e) in [0.0, 0.1, 0.5, 0.9, 1.0].into_iter().zip(expected) {
            assert!((quantile_sorted(&sample, q) - e).abs() < 1e-15, "q={q}");
        }
    }

    #[test]
    fn least_squares_line_recovers_an_exact_line() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let y: Vec<f64> = x.iter().map(|v| 2.5 - 0.5 * v).collect();
        let line = Line::fit(&x, &y);
        assert!((line.slope + 0.5).abs() < 1e-15 && (line.intercept - 2.5).abs() < 1e-15);
    }

    #[test]
    fn average_ranks_share_ties() {
        assert_eq!(average_ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
    }

    #[test]
    fn positions_and_nodes() {
        assert_eq!(cunnane(2), vec![0.6 / 2.2, 1.6 / 2.2]);
        assert_eq!(equally_spaced_nodes(4), vec![0.125, 0.375, 0.625, 0.875]);
    }
}
