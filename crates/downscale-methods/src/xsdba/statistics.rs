//! xsdba's statistics to the bit: its quantile nodes, its numba type-7 quantiles, numba's `nanquantile` (used for
//! the frequency-adaptation threshold), average and percentage ranks, and numpy's pairwise-summed means.
//!
//! xsdba does not call numpy for most of these, and the last bits differ from numpy's in three places that this
//! module reproduces: the nodes come from `np.linspace`, not `(k + 0.5) / n`; xsdba's quantile kernel is compiled by
//! numba with `fastmath`, which fuses numpy's two-sided lerp into fused multiply-adds (on CPUs with FMA, where the
//! oracle fixtures are generated); and numba's own `nanquantile` interpolates as `lower (1 - m) + upper m` from a
//! rank `1 + (n - 1) (100 q) / 100`. Means go through xarray to numpy's `nanmean`, whose pairwise summation is
//! reproduced here too.

use super::ordering::{OrderScratch, average_ranks, order_statistics};

/// xsdba's `equally_spaced_nodes(n)`: `n` nodes `(k - 0.5) / n`, computed as numpy's
/// `linspace(1 / (2n), 1 - 1 / (2n), n)` does (start + k · step, last node set to the stop value), which differs from
/// `(k + 0.5) / n` in the last bit for some nodes. xsdba uses these values both for the quantiles and as QDM's
/// interpolation abscissae.
pub fn equally_spaced_nodes(n: usize) -> Vec<f64> {
    let start = 1.0 / n as f64 / 2.0;
    let stop = 1.0 - start;
    match n {
        0 => Vec::new(),
        1 => vec![start],
        _ => {
            let step = (stop - start) / (n - 1) as f64;
            let mut nodes: Vec<f64> = (0..n).map(|k| k as f64 * step + start).collect();
            nodes[n - 1] = stop;
            nodes
        }
    }
}

/// Scratch space for the functions below, reused across groups.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    order: OrderScratch,
    positions: Vec<usize>,
    picked: Vec<f64>,
}

/// Where the type-7 quantile `q` of `n` sorted values lies: the 0-based index below and the weight of the next one.
/// Indices at or past the end clamp to the last value, as xsdba's kernel does.
fn virtual_position(n: usize, q: f64) -> (usize, f64) {
    let virtual_index = (n - 1) as f64 * q;
    if virtual_index >= (n - 1) as f64 {
        (n - 1, 0.0)
    } else if virtual_index < 0.0 {
        (0, 0.0)
    } else {
        let below = virtual_index.floor();
        (below as usize, virtual_index - below)
    }
}

/// Type-7 quantiles of the NaN-free `sample` at `nodes`, written to `out`, as xsdba's `nbutils.quantile` computes
/// them. Only the order statistics the quantiles need are selected. An empty sample gives NaN quantiles.
pub(crate) fn quantiles_into(sample: &[f64], nodes: &[f64], scratch: &mut Scratch, out: &mut Vec<f64>) {
    out.clear();
    let n = sample.len();
    if n == 0 {
        out.extend(nodes.iter().map(|_| f64::NAN));
        return;
    }
    let positions = &mut scratch.positions;
    positions.clear();
    for &q in nodes {
        let (below, weight) = virtual_position(n, q);
        positions.push(below);
        if weight != 0.0 {
            positions.push(below + 1);
        }
    }
    positions.sort_unstable();
    positions.dedup();
    order_statistics(sample, positions, &mut scratch.order, &mut scratch.picked);
    let at = |position: usize| scratch.picked[scratch.positions.partition_point(|&p| p < position)];
    for &q in nodes {
        let (below, weight) = virtual_position(n, q);
        let value = if weight == 0.0 { at(below) } else { fused_lerp(at(below), at(below + 1), weight) };
        // Only infinite neighbours give NaN; xsdba's kernel then takes the sample's largest value.
        out.push(if value.is_nan() { sample.iter().copied().fold(f64::NEG_INFINITY, f64::max) } else { value });
    }
}

/// numpy's two-sided lerp as numba's `fastmath` compiles it: each branch's multiply-add is fused.
fn fused_lerp(a: f64, b: f64, weight: f64) -> f64 {
    let difference = b - a;
    if weight >= 0.5 { (-difference).mul_add(1.0 - weight, b) } else { difference.mul_add(weight, a) }
}

/// numba's `np.nanquantile(sample, q)` for a NaN-free `sample`: xsdba computes the frequency adaptation threshold
/// `pth` with it. NaN for an empty sample or a NaN `q`.
pub(crate) fn numba_quantile(sample: &[f64], q: f64, scratch: &mut Scratch) -> f64 {
    let n = sample.len();
    if n == 0 || q.is_nan() {
        return f64::NAN;
    }
    if n == 1 {
        return sample[0];
    }
    let percentile = q * 100.0;
    if percentile == 100.0 {
        return sample.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    }
    if percentile == 0.0 {
        return sample.iter().copied().fold(f64::INFINITY, f64::min);
    }
    let rank = 1.0 + (n - 1) as f64 * (percentile / 100.0);
    let floor = rank.floor();
    let fraction = rank - floor;
    let lower_index = (floor as usize).saturating_sub(1).min(n - 2);
    order_statistics(sample, &[lower_index, lower_index + 1], &mut scratch.order, &mut scratch.picked);
    scratch.picked[0] * (1.0 - fraction) + scratch.picked[1] * fraction
}

/// Average ranks (1-based, ties share the mean of their ranks; pandas/bottleneck `rankdata` "average") of `values`
/// into `ranks`, NaN for NaN values. Returns the number of valid values.
pub(crate) fn average_ranks_into(values: &[f64], scratch: &mut Scratch, ranks: &mut Vec<f64>) -> usize {
    average_ranks(values, &mut scratch.order, ranks)
}

/// xsdba's percentage ranks (`utils.rank(pct=True)`): `r = rank / n` rescaled as `mx (r - mn) / (mx - mn)` with `mn`
/// and `mx` the smallest and largest `r`, so the result spans [0, mx]. This is not `(rank - 1) / (n - 1)` when the
/// smallest value is tied (dry days); a single valid value gives NaN (0/0), as in xsdba. Works in place on `ranks`.
pub(crate) fn rescale_percentage_ranks(ranks: &mut [f64], valid: usize) {
    let count = valid as f64;
    let (mut smallest, mut largest) = (f64::INFINITY, f64::NEG_INFINITY);
    for rank in ranks.iter_mut().filter(|r| !r.is_nan()) {
        *rank /= count;
        smallest = smallest.min(*rank);
        largest = largest.max(*rank);
    }
    for rank in ranks.iter_mut() {
        *rank = largest * (*rank - smallest) / (largest - smallest);
    }
}

/// numpy's `nanmean` of `values`: the pairwise sum with NaN replaced by 0, in array order, over the number of valid
/// values (NaN when there is none).
pub(crate) fn nan_mean(values: &[f64]) -> f64 {
    let valid = values.iter().filter(|v| !v.is_nan()).count();
    pairwise_sum(values) / valid as f64
}

/// numpy's pairwise summation (`pairwise_sum_DOUBLE`) with NaN counted as 0: under 8 values a plain loop, up to 128
/// eight interleaved partial sums combined as a tree, above that the two halves (split at a multiple of 8) summed
/// separately.
fn pairwise_sum(values: &[f64]) -> f64 {
    let term = |v: f64| if v.is_nan() { 0.0 } else { v };
    let n = values.len();
    if n < 8 {
        values.iter().fold(0.0, |sum, &v| sum + term(v))
    } else if n <= 128 {
        let mut partial = [0.0; 8];
        for (sum, &v) in partial.iter_mut().zip(values) {
            *sum = term(v);
        }
        let unrolled = n - n % 8;
        for block in values[8..unrolled].chunks_exact(8) {
            for (sum, &v) in partial.iter_mut().zip(block) {
                *sum += term(v);
            }
        }
        let mut sum = ((partial[0] + partial[1]) + (partial[2] + partial[3]))
            + ((partial[4] + partial[5]) + (partial[6] + partial[7]));
        for &v in &values[unrolled..] {
            sum += term(v);
        }
        sum
    } else {
        let half = n / 2 - (n / 2) % 8;
        pairwise_sum(&values[..half]) + pairwise_sum(&values[half..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_follows_numpy_blocks() {
        let values: Vec<f64> = (0..300).map(|k| 0.1 * k as f64).collect();
        // The same blocks summed by hand: [0, 144) and [144, 300) -> [144, 216) and [216, 300).
        let block = |range: std::ops::Range<usize>| pairwise_sum(&values[range]);
        assert_eq!(pairwise_sum(&values), block(0..144) + (block(144..216) + block(216..300)));
        assert_eq!(nan_mean(&[1.0, f64::NAN, 2.0]), 1.5);
        assert!(nan_mean(&[f64::NAN]).is_nan());
    }

    #[test]
    fn nodes_follow_linspace() {
        assert_eq!(equally_spaced_nodes(1), vec![0.5]);
        assert_eq!(equally_spaced_nodes(4), vec![0.125, 0.375, 0.625, 0.875]);
        // np.linspace(0.025, 0.975, 20)[4] is 0.22499999999999998, not 0.225.
        assert_eq!(equally_spaced_nodes(20)[4], 0.22499999999999998);
        assert!(equally_spaced_nodes(0).is_empty());
    }

    #[test]
    fn quantiles_match_type7() {
        // np.quantile([1, 2, 4, 8], [0.125, 0.375, 0.625, 0.875]) = [1.375, 2.25, 3.75, 6.5]
        let (mut scratch, mut out) = (Scratch::default(), Vec::new());
        quantiles_into(&[8.0, 1.0, 4.0, 2.0], &equally_spaced_nodes(4), &mut scratch, &mut out);
        assert_eq!(out, vec![1.375, 2.25, 3.75, 6.5]);
        quantiles_into(&[], &[0.5], &mut scratch, &mut out);
        assert!(out[0].is_nan());
        quantiles_into(&[3.0], &[0.1, 0.9], &mut scratch, &mut out);
        assert_eq!(out, vec![3.0, 3.0]);
    }

    #[test]
    fn numba_quantile_interpolates_between_ranks() {
        // rank = 1 + 3 * 0.5 = 2.5: halfway between the 2nd and 3rd smallest.
        let scratch = &mut Scratch::default();
        assert_eq!(numba_quantile(&[4.0, 1.0, 8.0, 2.0], 0.5, scratch), 3.0);
        assert_eq!(numba_quantile(&[4.0, 1.0, 8.0, 2.0], 1.0, scratch), 8.0);
        assert!(numba_quantile(&[], 0.5, scratch).is_nan());
    }

    #[test]
    fn percentage_ranks_rescale_from_the_smallest() {
        let (mut scratch, mut ranks) = (Scratch::default(), Vec::new());
        // Two tied minima: ranks 1.5, 1.5, 3, 4 -> r = 0.375, 0.375, 0.75, 1 -> (r - 0.375) / 0.625.
        let valid = average_ranks_into(&[0.0, 0.0, 2.0, 5.0, f64::NAN], &mut scratch, &mut ranks);
        assert_eq!(valid, 4);
        rescale_percentage_ranks(&mut ranks, valid);
        assert_eq!(&ranks[..4], &[0.0, 0.0, 0.6, 1.0]);
        assert!(ranks[4].is_nan());
        let valid = average_ranks_into(&[7.0], &mut scratch, &mut ranks);
        rescale_percentage_ranks(&mut ranks, valid);
        assert!(ranks[0].is_nan());
    }
}
