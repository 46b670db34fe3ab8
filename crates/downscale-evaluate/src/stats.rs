//! Statistics of one series, in f64 over the finite values (the stores hold f32; sums of a few thousand days in
//! f32 would lose the 1e-5 agreement the checks against numpy and scipy ask for).
//!
//! Each follows the definition the scientific Python stack uses, so a number here can be reproduced there:
//! standard deviations are population ones (numpy's default `ddof=0`), quantiles interpolate linearly between
//! order statistics (numpy's default, Hyndman and Fan's type 7), and the Wasserstein distance is scipy's
//! `wasserstein_distance` of the two samples.

/// Arithmetic mean (summed in f64); NaN for an empty sample.
pub(crate) fn mean<T: Copy + Into<f64>>(values: &[T]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.iter().map(|&v| v.into()).sum::<f64>() / values.len() as f64
}

/// Population standard deviation (divisor n); NaN for an empty sample.
pub(crate) fn standard_deviation<T: Copy + Into<f64>>(values: &[T]) -> f64 {
    let centre = mean(values);
    (values.iter().map(|&v| (v.into() - centre).powi(2)).sum::<f64>() / values.len() as f64).sqrt()
}

/// The `q` quantile (0..=1) of an ascending sample, linear between order statistics; NaN for an empty sample.
pub(crate) fn quantile_of_sorted<T: Copy + Into<f64>>(sorted: &[T], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0].into(),
        n => {
            let position = q * (n - 1) as f64;
            let below = (position.floor() as usize).min(n - 1);
            let above = (below + 1).min(n - 1);
            let fraction = position - below as f64;
            let (low, high): (f64, f64) = (sorted[below].into(), sorted[above].into());
            low + fraction * (high - low)
        }
    }
}

/// The first Wasserstein distance between two ascending samples: the area between their empirical distribution
/// functions, ∫|F(x) − G(x)| dx, summed over the intervals between consecutive values of the merged samples.
pub(crate) fn wasserstein_of_sorted<T: Copy + Into<f64> + PartialEq>(first: &[T], second: &[T]) -> f64 {
    if first.is_empty() || second.is_empty() {
        return f64::NAN;
    }
    if first.len() == second.len() {
        // Samples of one size (a product and the observations on the same days): the area between the two step
        // functions is the mean distance between their order statistics.
        let total: f64 = first.iter().zip(second).map(|(&a, &b)| (a.into() - b.into()).abs()).sum();
        return total / first.len() as f64;
    }
    let (n, m) = (first.len() as f64, second.len() as f64);
    let (mut i, mut j) = (0, 0);
    let mut distance = 0.0;
    let mut previous = first[0].into().min(second[0].into());
    while i < first.len() || j < second.len() {
        let next: f64 = match (first.get(i), second.get(j)) {
            (Some(&a), Some(&b)) => a.into().min(b.into()),
            (Some(&a), None) => a.into(),
            (None, Some(&b)) => b.into(),
            (None, None) => unreachable!("the loop runs while a sample has values left"),
        };
        distance += (i as f64 / n - j as f64 / m).abs() * (next - previous);
        while first.get(i).is_some_and(|&a| a.into() == next) {
            i += 1;
        }
        while second.get(j).is_some_and(|&b| b.into() == next) {
            j += 1;
        }
        previous = next;
    }
    distance
}

/// Pearson correlation of paired values; NaN with fewer than two pairs or a constant member.
pub(crate) fn correlation(first: &[f64], second: &[f64]) -> f64 {
    weighted_correlation(first, second, None)
}

/// Pearson correlation of paired values with optional weights (an area-weighted pattern correlation uses the
/// cosine of latitude); NaN with fewer than two pairs or a constant member.
pub(crate) fn weighted_correlation(first: &[f64], second: &[f64], weights: Option<&[f64]>) -> f64 {
    if first.len() < 2 {
        return f64::NAN;
    }
    let weight = |k: usize| weights.map_or(1.0, |w| w[k]);
    let total: f64 = (0..first.len()).map(weight).sum();
    let mean_of = |values: &[f64]| (0..values.len()).map(|k| weight(k) * values[k]).sum::<f64>() / total;
    let (centre_a, centre_b) = (mean_of(first), mean_of(second));
    let (mut cross, mut var_a, mut var_b) = (0.0, 0.0, 0.0);
    for k in 0..first.len() {
        let (a, b) = (first[k] - centre_a, second[k] - centre_b);
        cross += weight(k) * a * b;
        var_a += weight(k) * a * a;
        var_b += weight(k) * b * b;
    }
    if var_a == 0.0 || var_b == 0.0 {
        return f64::NAN;
    }
    cross / (var_a * var_b).sqrt()
}

/// Root-mean-square difference of paired values; NaN for no pairs.
pub(crate) fn rmse(first: &[f64], second: &[f64]) -> f64 {
    if first.is_empty() {
        return f64::NAN;
    }
    let sum: f64 = first.iter().zip(second).map(|(a, b)| (a - b).powi(2)).sum();
    (sum / first.len() as f64).sqrt()
}

/// The finite values of `values`, ascending. Sorting every cell's series is the evaluation's costliest step, so
/// the f32 values themselves are radix-sorted (`radsort`: three passes over a series, where a comparison sort
/// makes a dozen).
pub(crate) fn sorted_finite(values: &[f32]) -> Vec<f32> {
    let mut sorted: Vec<f32> = values.iter().copied().filter(|v| v.is_finite()).collect();
    radsort::sort(&mut sorted);
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_order_statistics_as_numpy_does() {
        let sample = [1.0, 2.0, 4.0, 8.0];
        // numpy.quantile([1, 2, 4, 8], [0, 0.5, 0.9, 1]) = [1, 3, 6.8, 8]
        assert_eq!(quantile_of_sorted(&sample, 0.0), 1.0);
        assert_eq!(quantile_of_sorted(&sample, 0.5), 3.0);
        assert!((quantile_of_sorted(&sample, 0.9) - 6.8).abs() < 1e-12);
        assert_eq!(quantile_of_sorted(&sample, 1.0), 8.0);
    }

    #[test]
    fn wasserstein_is_the_area_between_distribution_functions() {
        // scipy.stats.wasserstein_distance([0, 1, 3], [5, 6, 8]) = 5; ([0, 1], [0, 0, 3]) = 1/6 + 2·1/3 = 5/6
        assert!((wasserstein_of_sorted(&[0.0, 1.0, 3.0], &[5.0, 6.0, 8.0]) - 5.0).abs() < 1e-12);
        assert!((wasserstein_of_sorted(&[0.0, 1.0], &[0.0, 0.0, 3.0]) - 5.0 / 6.0).abs() < 1e-12);
        assert_eq!(wasserstein_of_sorted(&[2.0, 2.0], &[2.0]), 0.0);
        // Equal sizes take the order statistics' mean distance: scipy gives 5/3 for [0, 1, 3] and [1, 2, 6].
        assert!((wasserstein_of_sorted(&[0.0, 1.0, 3.0], &[1.0, 2.0, 6.0]) - 5.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn correlation_and_rmse_of_known_pairs() {
        assert!((correlation(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]) - 1.0).abs() < 1e-12);
        assert!((correlation(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        assert!(correlation(&[1.0, 1.0], &[1.0, 2.0]).is_nan());
        assert!((rmse(&[0.0, 0.0], &[3.0, 4.0]) - (12.5f64).sqrt()).abs() < 1e-12);
    }
}
