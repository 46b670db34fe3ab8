//! QDM's 'nearest' adjustment without ranking every simulated value.
//!
//! With 'nearest' interpolation a value's factor only depends on which piece of the factor step function its
//! percentage rank `τ` falls in, and `τ` is a monotone function of the value (average ranks, the rescaling and the
//! piece lookup are all monotone, in floating point too). So the piece of a value is the number of *value
//! thresholds* at or below it, where threshold `j` is the smallest sample value whose piece is at least `j`. The
//! thresholds are order statistics at a few ranks found by binary search over ranks, which costs one selection (as
//! training does) instead of ranking the whole group; each value then takes a binary search over about
//! `nquantiles` thresholds.
//!
//! Ties are exact: when the rank where piece `j` starts lies inside a tie block, the block's average rank decides
//! whether the threshold is the tied value or the next larger one. The result is bit-identical to ranking, rescaling
//! and looking up every value (tested below against that path).

use super::guide::{SEARCH_PADDING, SortedGuide, count_prefix};
use super::interpolation::FactorCurve;
use super::ordering::{OrderScratch, order_statistics, tie_block_rank};
use super::{Extrapolation, Interp, Kind};

/// Scratch space reused across groups.
#[derive(Debug, Default)]
pub(crate) struct RankStepScratch {
    order: OrderScratch,
    valid: Vec<f64>,
    /// Per piece boundary `j` (pieces `j - 1` and `j`), the smallest 1-based integer rank whose piece is `j` or
    /// more, `n + 1` when none is.
    boundary_ranks: Vec<usize>,
    positions: Vec<usize>,
    picked: Vec<f64>,
    thresholds: Vec<f64>,
    guide: SortedGuide,
}

/// The percentage rank of a 1-based (average) `rank`, exactly as `rescale_percentage_ranks` computes it.
#[derive(Debug, Clone, Copy)]
struct PercentageRank {
    count: f64,
    smallest: f64,
    largest: f64,
}

impl PercentageRank {
    fn of(&self, rank: f64) -> f64 {
        self.largest * (rank / self.count - self.smallest) / (self.largest - self.smallest)
    }
}

/// Adjusts one group's `values` (NaN allowed: they give NaN) with QDM's 'nearest' factors of `curve`, into
/// `adjusted` (same length). Returns `false`, leaving `adjusted` unspecified, for the cases the ranking path handles
/// (an empty curve, fewer than two valid values, all values equal, or an infinite value).
pub(crate) fn adjust_by_rank_thresholds(
    values: &[f64],
    curve: &FactorCurve,
    extrapolation: Extrapolation,
    kind: Kind,
    scratch: &mut RankStepScratch,
    adjusted: &mut Vec<f64>,
) -> bool {
    if curve.is_empty() {
        return false;
    }
    let valid: &[f64] = if values.iter().any(|v| v.is_nan()) {
        scratch.valid.clear();
        scratch.valid.extend(values.iter().copied().filter(|v| !v.is_nan()));
        &scratch.valid
    } else {
        values
    };
    let n = valid.len();
    let Some(percentage) = percentage_rank_of(valid) else {
        return false;
    };
    let piece_of_rank = |rank: f64| curve.nearest_piece(percentage.of(rank));

    // Where each piece starts among the integer ranks 1..=n.
    scratch.boundary_ranks.clear();
    for boundary in 1..curve.piece_count() {
        let (mut low, mut high) = (1, n + 1);
        while low < high {
            let middle = (low + high) / 2;
            if piece_of_rank(middle as f64) >= boundary {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        scratch.boundary_ranks.push(low);
    }

    // The value at each inner boundary rank and the one before it (0-based positions r - 1 and r - 2).
    scratch.positions.clear();
    for &rank in scratch.boundary_ranks.iter().filter(|&&r| (2..=n).contains(&r)) {
        scratch.positions.extend([rank - 2, rank - 1]);
    }
    scratch.positions.sort_unstable();
    scratch.positions.dedup();
    order_statistics(valid, &scratch.positions, &mut scratch.order, &mut scratch.picked);
    let at = |position: usize| scratch.picked[scratch.positions.partition_point(|&p| p < position)];

    scratch.thresholds.clear();
    let mut last_tie: Option<(f64, f64, usize)> = None;
    for (boundary, &rank) in (1..).zip(&scratch.boundary_ranks) {
        let threshold = if rank == 1 {
            f64::NEG_INFINITY
        } else if rank > n {
            f64::INFINITY
        } else {
            let value = at(rank - 1);
            if at(rank - 2) < value {
                value
            } else {
                // Rank `rank` is inside the tie block of `value`: the block's average rank decides its piece.
                let (next_larger, block_piece) = match last_tie {
                    Some((tied, next_larger, piece)) if tied == value => (next_larger, piece),
                    _ => {
                        let (below, not_above, next_larger) = tie_block(valid, value);
                        let piece = piece_of_rank(tie_block_rank(below, not_above));
                        last_tie = Some((value, next_larger, piece));
                        (next_larger, piece)
                    }
                };
                if block_piece >= boundary { value } else { next_larger }
            }
        };
        scratch.thresholds.push(threshold);
    }

    let lookup = curve.lookup(Interp::Nearest, extrapolation);
    // The piece of a value is the number of thresholds at or below it: a guided walk over the finite thresholds
    // (the infinite ones sit at the ends and fall in the end cells).
    let mut finite = scratch.thresholds.iter().copied().filter(|t| t.is_finite());
    let (first, last) = (finite.next().unwrap_or(0.0), finite.next_back().unwrap_or(0.0));
    scratch.guide.rebuild(first, last, &scratch.thresholds);
    scratch.thresholds.extend([f64::NAN; SEARCH_PADDING]);
    let (thresholds, factors, guide) = (&scratch.thresholds, lookup.piece_factors(), &scratch.guide);
    adjusted.clear();
    adjusted.extend(values.iter().map(|&value| {
        if value.is_nan() {
            return value;
        }
        let piece = count_prefix(thresholds, guide.start(value), |threshold| threshold <= value);
        kind.apply(value, factors[piece])
    }));
    true
}

/// The percentage-rank rescaling of a NaN-free sample: from the tie blocks of its smallest and largest values.
/// `None` when it has fewer than two values, all values equal, or an infinite value.
fn percentage_rank_of(valid: &[f64]) -> Option<PercentageRank> {
    let n = valid.len();
    if n < 2 {
        return None;
    }
    let (mut min, mut max) = (valid[0], valid[0]);
    let (mut at_min, mut at_max) = (0usize, 0usize);
    for &v in valid {
        if v < min {
            (min, at_min) = (v, 0);
        }
        if v > max {
            (max, at_max) = (v, 0);
        }
        at_min += usize::from(v == min);
        at_max += usize::from(v == max);
    }
    if !(min < max && min.is_finite() && max.is_finite()) {
        return None;
    }
    let count = n as f64;
    Some(PercentageRank {
        count,
        smallest: tie_block_rank(0, at_min) / count,
        largest: tie_block_rank(n - at_max, n) / count,
    })
}

/// How many values are below `value`, how many are not above it, and the smallest value above it (+∞ if none).
fn tie_block(valid: &[f64], value: f64) -> (usize, usize, f64) {
    valid.iter().fold((0, 0, f64::INFINITY), |(below, not_above, next), &v| {
        (
            below + usize::from(v < value),
            not_above + usize::from(v <= value),
            if v > value && v < next { v } else { next },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::super::equally_spaced_nodes;
    use super::super::ordering::tests::sample;
    use super::super::statistics::{Scratch, average_ranks_into, rescale_percentage_ranks};
    use super::*;

    /// The path this module replaces: rank every value, rescale, look the factor up.
    fn by_ranking(values: &[f64], curve: &FactorCurve, extrapolation: Extrapolation, kind: Kind) -> Vec<f64> {
        let (mut scratch, mut ranks) = (Scratch::default(), Vec::new());
        let valid = average_ranks_into(values, &mut scratch, &mut ranks);
        rescale_percentage_ranks(&mut ranks, valid);
        values
            .iter()
            .zip(&ranks)
            .map(|(&v, &q)| kind.apply(v, curve.lookup(Interp::Nearest, extrapolation).factor(q)))
            .collect()
    }

    #[test]
    fn thresholds_give_the_same_bits_as_ranking_every_value() {
        type Shape = fn(f64) -> f64;
        let shapes: [(&str, Shape); 5] = [
            ("distinct", |u| 270.0 + 30.0 * u),
            ("rounded to 0.1", |u| (2700.0 + 300.0 * u).round() / 10.0),
            ("dry days", |u| if u < 0.45 { 0.0 } else { ((u - 0.45) * 200.0).round() / 10.0 }),
            ("few levels", |u| (u * 4.0).floor()),
            ("gaps", |u| {
                if u < 0.05 {
                    f64::NAN
                } else if u > 0.97 {
                    500.0
                } else {
                    u
                }
            }),
        ];
        let nodes = equally_spaced_nodes(20);
        let mut scratch = RankStepScratch::default();
        let mut adjusted = Vec::new();
        for (name, shape) in shapes {
            for n in [2, 3, 19, 20, 21, 150, 3000, 10_950] {
                let values = sample(n, n as u64 + 7, shape);
                for (factors, kind) in [
                    (nodes.iter().map(|q| 3.0 * q - 1.0).collect::<Vec<_>>(), Kind::Additive),
                    (nodes.iter().map(|q| 0.5 + q).collect(), Kind::Multiplicative),
                    // A NaN node (dropped) and an infinite factor, as multiplicative dry quantiles give.
                    (
                        nodes.iter().enumerate().map(|(k, _)| [f64::NAN, f64::INFINITY, 1.5][k.min(2)]).collect(),
                        Kind::Multiplicative,
                    ),
                ] {
                    let curve = FactorCurve::new(&nodes, &factors);
                    for extrapolation in [Extrapolation::Constant, Extrapolation::Nan] {
                        let expected = by_ranking(&values, &curve, extrapolation, kind);
                        if !adjust_by_rank_thresholds(&values, &curve, extrapolation, kind, &mut scratch, &mut adjusted)
                        {
                            let mut valid = values.iter().filter(|v| !v.is_nan());
                            let first = valid.next();
                            assert!(valid.all(|v| Some(v) == first), "{name} {n}: no fast path");
                            continue;
                        }
                        let same = adjusted.iter().zip(&expected).all(|(a, b)| a.to_bits() == b.to_bits());
                        assert!(same, "{name}, n = {n}, {kind:?}, {extrapolation:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn equal_or_infinite_values_are_left_to_ranking() {
        let curve = FactorCurve::new(&equally_spaced_nodes(4), &[1.0, 2.0, 3.0, 4.0]);
        let mut adjusted = Vec::new();
        let mut scratch = RankStepScratch::default();
        for values in [vec![2.0; 10], vec![1.0, f64::INFINITY, 3.0], vec![f64::NAN, 4.0]] {
            let fast = adjust_by_rank_thresholds(
                &values,
                &curve,
                Extrapolation::Constant,
                Kind::Additive,
                &mut scratch,
                &mut adjusted,
            );
            assert!(!fast, "{values:?}");
        }
    }
}
