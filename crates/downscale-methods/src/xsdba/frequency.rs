//! xsdba's treatments of values under a threshold (dry days): frequency adaptation (`adapt_freq`, Themeßl et al.
//! 2012) and `jitter_under_thresh`.
//!
//! Both replace values by uniform random numbers. xsdba draws them from numpy's global generator, one per element
//! of the whole array (C order) whether or not the element is replaced, so the draw order here is the same: feeding
//! a numpy-compatible [`UniformSource`] reproduces xsdba exactly.

use super::UniformSource;
use super::statistics::{Scratch, average_ranks_into, numba_quantile, rescale_percentage_ranks};

/// What frequency adaptation learnt for one group in training, reused to adapt the simulation in adjustment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrequencyAdaptation {
    /// Fraction of valid reference values at or under the threshold.
    pub p0_ref: f64,
    /// Fraction of valid hist values at or under the threshold, before adaptation.
    pub p0_hist: f64,
    /// Upper bound of the replacement values: the reference quantile at `p0_hist`; NaN when hist was not drier
    /// than the reference, so nothing was adapted.
    pub pth: f64,
}

impl FrequencyAdaptation {
    /// `(P0_hist - P0_ref) / P0_hist`: the fraction of under-threshold values to replace; NaN when hist has none.
    fn excess_dry_fraction(&self) -> f64 {
        if self.p0_hist == 0.0 { f64::NAN } else { (self.p0_hist - self.p0_ref) / self.p0_hist }
    }

    fn needed(&self) -> bool {
        self.excess_dry_fraction() > 0.0
    }
}

/// Scratch buffers for ranking, kept across groups.
#[derive(Debug, Default)]
pub(crate) struct RankScratch {
    statistics: Scratch,
    ranks: Vec<f64>,
    keys: Vec<f64>,
    valid: Vec<f64>,
}

/// Fraction of valid values `<= threshold` (xsdba's `ecdf`); NaN without valid values.
fn fraction_at_or_under(values: &[f64], threshold: f64) -> f64 {
    let valid = values.iter().filter(|v| !v.is_nan()).count();
    let under = values.iter().filter(|&&v| v <= threshold).count();
    under as f64 / valid as f64
}

/// Frequency adaptation of one training group (xsdba `_adapt_freq` with `ref`): when hist has more values under
/// `threshold` than the reference, the excess fraction of its under-threshold values (those ranked between
/// `P0_ref / P0_hist · P0_hist` and `P0_hist`) become uniform random values in `[threshold, pth)`. `hist` is the
/// group's pooled sample and is adapted in place. No random number is drawn when no adaptation is needed.
pub(crate) fn adapt_training_group(
    reference: &[f64],
    hist: &mut [f64],
    threshold: f64,
    scratch: &mut RankScratch,
    random: &mut impl UniformSource,
) -> FrequencyAdaptation {
    let p0_hist = fraction_at_or_under(hist, threshold);
    let p0_ref = fraction_at_or_under(reference, threshold);
    let mut adaptation = FrequencyAdaptation { p0_ref, p0_hist, pth: f64::NAN };
    if adaptation.needed() {
        scratch.valid.clear();
        scratch.valid.extend(reference.iter().copied().filter(|v| !v.is_nan()));
        adaptation.pth = numba_quantile(&scratch.valid, p0_hist, &mut scratch.statistics);
        replace_excess_dry_values(hist, &adaptation, p0_hist, threshold, scratch, random);
    }
    adaptation
}

/// Frequency adaptation of one simulation group in adjustment (xsdba `_adapt_freq` with the trained `P0_ref`,
/// `P0_hist`, `pth`): the values ranked between `P0_ref / P0_hist · P0_sim` and `P0_sim` are replaced.
pub(crate) fn adapt_simulation_group(
    sim: &mut [f64],
    trained: &FrequencyAdaptation,
    threshold: f64,
    scratch: &mut RankScratch,
    random: &mut impl UniformSource,
) {
    if trained.needed() {
        let p0_sim = fraction_at_or_under(sim, threshold);
        replace_excess_dry_values(sim, trained, p0_sim, threshold, scratch, random);
    }
}

fn replace_excess_dry_values(
    values: &mut [f64],
    adaptation: &FrequencyAdaptation,
    p0_sample: f64,
    threshold: f64,
    scratch: &mut RankScratch,
    random: &mut impl UniformSource,
) {
    random_tiebreak_percentage_ranks(values, scratch, random);
    let lowest_rank = (adaptation.p0_ref / adaptation.p0_hist) * p0_sample;
    for (value, &rank) in values.iter_mut().zip(&scratch.ranks) {
        let draw = random.next_uniform();
        let kept = rank < lowest_rank || rank > p0_sample || value.is_nan();
        if !kept {
            *value = (adaptation.pth - threshold) * draw + threshold;
        }
    }
}

/// xsdba's `rank(pct=True, use_random_tiebreak=True)` into `scratch.ranks`: average ranks plus one
/// `uniform(0.1, 0.25)` draw per element (NaN included), ranked again, then rescaled like every xsdba percentage
/// rank. Ties among equal values are thereby ordered at random without changing the order of distinct values.
fn random_tiebreak_percentage_ranks(values: &[f64], scratch: &mut RankScratch, random: &mut impl UniformSource) {
    average_ranks_into(values, &mut scratch.statistics, &mut scratch.ranks);
    scratch.keys.clear();
    scratch.keys.extend(scratch.ranks.iter().map(|&rank| rank + uniform(0.1, 0.25, random.next_uniform())));
    let valid = average_ranks_into(&scratch.keys, &mut scratch.statistics, &mut scratch.ranks);
    rescale_percentage_ranks(&mut scratch.ranks, valid);
}

/// numpy's legacy `uniform(low, high)` from one `[0, 1)` draw.
fn uniform(low: f64, high: f64, draw: f64) -> f64 {
    low + (high - low) * draw
}

/// xsdba's `jitter_under_thresh`: every valid value under `threshold` becomes a uniform random value in
/// `(0, threshold)`, so that dry days no longer tie (and kind '*' no longer divides 0 by 0). One draw is taken per
/// element, replaced or not, as xsdba does; NaN stays NaN. Callers apply it to the inputs before training and
/// adjusting.
pub fn jitter_under_threshold(values: &mut [f64], threshold: f64, random: &mut impl UniformSource) {
    // xsdba's lower limit is the next float after 0, so a jittered value is never exactly 0.
    let smallest_positive = f64::from_bits(1);
    for value in values.iter_mut() {
        let draw = uniform(smallest_positive, threshold, random.next_uniform());
        if *value < threshold {
            *value = draw;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replays fixed draws.
    struct Replay(Vec<f64>, usize);

    impl UniformSource for Replay {
        fn next_uniform(&mut self) -> f64 {
            self.1 += 1;
            self.0[(self.1 - 1) % self.0.len()]
        }
    }

    #[test]
    fn jitter_replaces_values_under_the_threshold_only() {
        let mut values = [0.0, 0.2, 1.0, f64::NAN];
        let mut random = Replay(vec![0.5, 0.25, 0.75, 0.1], 0);
        jitter_under_threshold(&mut values, 0.5, &mut random);
        assert_eq!(&values[..3], &[0.25, 0.125, 1.0]);
        assert!(values[3].is_nan());
        assert_eq!(random.1, 4, "one draw per element");
    }

    #[test]
    fn adaptation_replaces_the_excess_dry_values() {
        // Reference: 1 dry value of 4 (P0_ref = 0.25); hist: 3 of 4 (P0_hist = 0.75). pth is the reference
        // quantile at 0.75 (numba: rank 1 + 3 * 0.75 = 3.25 -> 4 + 0.25 * (6 - 4) = 4.5).
        let reference = [0.0, 2.0, 4.0, 6.0];
        let mut hist = [0.0, 0.0, 0.0, 5.0];
        let mut random = Replay(vec![0.2, 0.1, 0.15, 0.05, 0.5, 0.5, 0.5, 0.5], 0);
        let adaptation = adapt_training_group(&reference, &mut hist, 0.5, &mut RankScratch::default(), &mut random);
        assert_eq!(adaptation, FrequencyAdaptation { p0_ref: 0.25, p0_hist: 0.75, pth: 4.5 });
        // Tie-broken ranks of the three zeros follow the first draws: 0.2 > 0.15 > 0.1, so the zeros rank 3, 1, 2
        // -> rescaled 2/3, 0, 1/3. Ranks in [0.25, 0.75] are replaced by (4.5 - 0.5) * 0.5 + 0.5 = 2.5.
        assert_eq!(hist, [2.5, 0.0, 2.5, 5.0]);
        assert_eq!(random.1, 8);

        let mut sim = [0.0, 0.0, 3.0, 0.0];
        let mut random = Replay(vec![0.1, 0.2, 0.1, 0.15, 0.0, 0.0, 0.0, 0.0], 0);
        adapt_simulation_group(&mut sim, &adaptation, 0.5, &mut RankScratch::default(), &mut random);
        // P0_sim = 0.75, bounds [0.25, 0.75]; zeros rank 1, 3, 2 -> 0, 2/3, 1/3: the last two become 0.5.
        assert_eq!(sim, [0.0, 0.5, 3.0, 0.5]);
    }

    #[test]
    fn no_adaptation_and_no_draws_when_hist_is_not_drier() {
        let mut hist = [0.0, 2.0, 4.0];
        let mut random = Replay(vec![0.5], 0);
        let adaptation =
            adapt_training_group(&[0.0, 0.0, 1.0], &mut hist, 0.5, &mut RankScratch::default(), &mut random);
        assert!(adaptation.pth.is_nan());
        assert_eq!(random.1, 0);
        assert_eq!(hist, [0.0, 2.0, 4.0]);
    }
}
