//! Adjustment factors as a function of a value (EQM, DQM) or of a quantile (QDM): xsdba's 1-D
//! `interp_on_quantiles`, which drops NaN nodes and then calls scipy's `interp1d(kind=..., bounds_error=False,
//! fill_value=...)`.

use super::guide::{GuideView, SEARCH_PADDING, SortedGuide, count_prefix, padded_for_search};
use super::{Extrapolation, Interp};
use crate::stats;

/// The nodes `(x_k, factor_k)` of one group, prepared once at training so that looking a value up costs a few
/// operations.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FactorCurve {
    /// Abscissae without the NaN nodes, ascending (scipy sorts them with a stable sort).
    x: Vec<f64>,
    /// Factors at `x`.
    factors: Vec<f64>,
    /// Midpoints `x_k / 2 + x_{k+1} / 2` between neighbours, where 'nearest' switches from one node to the next,
    /// padded for [`count_prefix`].
    midpoints: Vec<f64>,
    /// The factor of each piece of the 'nearest' step function (see [`FactorCurve::nearest_piece`]) with constant
    /// extrapolation: the first non-NaN factor, in node order, below the range, the last above it. Empty when no
    /// node is left.
    constant_pieces: Vec<f64>,
    /// The same with NaN outside the range.
    nan_pieces: Vec<f64>,
    /// Where 'nearest' lookups start.
    guide: SortedGuide,
}

impl FactorCurve {
    /// Keeps the nodes where neither the abscissa nor the factor is NaN. With kind '*', nodes where both quantiles
    /// are 0 give 0/0 factors and disappear here, exactly as in xsdba; infinite factors (a zero hist quantile under a
    /// positive reference quantile) are kept.
    pub(crate) fn new(x: &[f64], factors: &[f64]) -> FactorCurve {
        let non_nan_factors = || factors.iter().copied().filter(|f| !f.is_nan());
        let first = non_nan_factors().next().unwrap_or(f64::NAN);
        let last = non_nan_factors().next_back().unwrap_or(f64::NAN);
        let mut nodes: Vec<(f64, f64)> =
            x.iter().zip(factors).filter(|(x, f)| !x.is_nan() && !f.is_nan()).map(|(&x, &f)| (x, f)).collect();
        // Quantiles are ascending already (up to a last-bit wobble of the fused lerp); a stable sort keeps scipy's
        // order in every case.
        nodes.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (x, factors): (Vec<f64>, Vec<f64>) = nodes.into_iter().unzip();
        let mut midpoints = Vec::with_capacity(x.len() + SEARCH_PADDING);
        padded_for_search(x.windows(2).map(|pair| pair[1] / 2.0 + pair[0] / 2.0), &mut midpoints);
        let mut guide = SortedGuide::default();
        if let (Some(&first), Some(&last)) = (x.first(), x.last()) {
            guide.rebuild(first, last, &midpoints[..midpoints.len() - SEARCH_PADDING]);
        }
        let pieces_with = |below: f64, above: f64| match x.is_empty() {
            true => Vec::new(),
            false => std::iter::once(below).chain(factors.iter().copied()).chain([above]).collect(),
        };
        let (constant_pieces, nan_pieces) = (pieces_with(first, last), pieces_with(f64::NAN, f64::NAN));
        FactorCurve { x, factors, midpoints, constant_pieces, nan_pieces, guide }
    }

    /// The curve's factors for one interpolation and extrapolation choice, ready to look many values up.
    pub(crate) fn lookup(&self, interp: Interp, extrapolation: Extrapolation) -> FactorLookup<'_> {
        let pieces = match extrapolation {
            Extrapolation::Constant => &self.constant_pieces,
            Extrapolation::Nan => &self.nan_pieces,
        };
        FactorLookup {
            interp,
            x: &self.x,
            factors: &self.factors,
            midpoints: &self.midpoints,
            guide: self.guide.view(),
            pieces,
        }
    }

    /// The number of pieces of the 'nearest' step function: below the range, one per node, above the range.
    pub(crate) fn piece_count(&self) -> usize {
        self.x.len() + 2
    }

    /// Which piece of the 'nearest' step function a non-NaN `value` of a non-empty curve falls in: 0 below
    /// `x_first`, `1 + k` for node `k`, `piece_count() - 1` above `x_last`. Monotone in `value`, which QDM's
    /// threshold lookup relies on.
    pub(crate) fn nearest_piece(&self, value: f64) -> usize {
        nearest_piece(&self.x, &self.midpoints, self.guide.view(), value)
    }

    /// Whether the curve has no node left (every factor is then NaN).
    pub(crate) fn is_empty(&self) -> bool {
        self.x.is_empty()
    }
}

/// [`FactorCurve::nearest_piece`] over the curve's abscissae `x` (non-empty), their midpoints and its guide.
#[inline(always)]
fn nearest_piece(x: &[f64], midpoints: &[f64], guide: GuideView, value: f64) -> usize {
    if value < x[0] {
        0
    } else if value > x[x.len() - 1] {
        x.len() + 1
    } else {
        1 + nodes_below(midpoints, guide, value)
    }
}

/// How many of the ascending (padded) `midpoints` lie strictly below `value` (numpy's `searchsorted(side='left')`):
/// the index of the nearest node. Starts from the guide's lower bound.
#[inline(always)]
fn nodes_below(midpoints: &[f64], guide: GuideView, value: f64) -> usize {
    count_prefix(midpoints, guide.start(value), |midpoint| midpoint < value)
}

/// A [`FactorCurve`] with the factor of every 'nearest' piece resolved for one extrapolation choice, so that a
/// lookup is a range check, a guided search and one load: this runs once per adjusted value. A plain copyable view,
/// so that a loop moving it into its closure keeps every field in registers (through a reference, the compiler
/// reloaded the fields after each store of a result).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FactorLookup<'a> {
    interp: Interp,
    x: &'a [f64],
    factors: &'a [f64],
    midpoints: &'a [f64],
    guide: GuideView<'a>,
    /// The factor of each piece (see [`FactorCurve::nearest_piece`]); empty when the curve has no node.
    pieces: &'a [f64],
}

impl<'a> FactorLookup<'a> {
    /// The factor at `value`: NaN for a NaN value or when no node is left; outside `[x_first, x_last]` the first or
    /// last factor (constant) or NaN; inside, scipy's 'nearest' (a value exactly at a midpoint takes the lower node,
    /// from `searchsorted(side='left')`) or 'linear' (`np.interp`, which scipy delegates to for float64). The same
    /// search as [`FactorCurve::nearest_piece`], over borrowed slices that a loop keeps in registers.
    #[inline(always)]
    pub(crate) fn factor(&self, value: f64) -> f64 {
        if self.interp == Interp::Nearest {
            return self.nearest(value);
        }
        if self.x.is_empty() || value.is_nan() {
            return f64::NAN;
        }
        match nearest_piece(self.x, self.midpoints, self.guide, value) {
            piece if piece == 0 || piece == self.x.len() + 1 => self.pieces[piece],
            _ => stats::interp(value, self.x, self.factors),
        }
    }

    /// [`Self::factor`] with 'nearest' interpolation when `NEAREST` (whatever the lookup's), else the lookup's: a
    /// loop that chose the interpolation outside tests nothing else per value.
    #[inline(always)]
    pub(crate) fn factor_as<const NEAREST: bool>(&self, value: f64) -> f64 {
        if NEAREST { self.nearest(value) } else { self.factor(value) }
    }

    /// [`Self::factor`] with 'nearest' interpolation whatever the lookup's.
    #[inline(always)]
    pub(crate) fn nearest(&self, value: f64) -> f64 {
        if self.x.is_empty() || value.is_nan() {
            return f64::NAN;
        }
        self.pieces[nearest_piece(self.x, self.midpoints, self.guide, value)]
    }

    /// The factor of each 'nearest' piece.
    pub(crate) fn piece_factors(&self) -> &'a [f64] {
        self.pieces
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_takes_the_lower_node_at_a_midpoint_and_extrapolates() {
        let curve = FactorCurve::new(&[0.0, 1.0, 3.0], &[10.0, 11.0, 13.0]);
        let nearest = |v| curve.lookup(Interp::Nearest, Extrapolation::Constant).factor(v);
        assert_eq!(nearest(0.5), 10.0);
        assert_eq!(nearest(0.5000001), 11.0);
        assert_eq!(nearest(2.0), 11.0);
        assert_eq!(nearest(2.5), 13.0);
        assert_eq!(nearest(-1.0), 10.0);
        assert_eq!(nearest(4.0), 13.0);
        assert!(curve.lookup(Interp::Nearest, Extrapolation::Nan).factor(4.0).is_nan());
        assert_eq!(curve.lookup(Interp::Linear, Extrapolation::Nan).factor(3.0), 13.0);
        assert_eq!(curve.lookup(Interp::Linear, Extrapolation::Constant).factor(2.0), 12.0);
        assert!(nearest(f64::NAN).is_nan());
    }

    #[test]
    fn guided_lookup_equals_a_full_search() {
        // Skewed nodes (most of them close together, one far), ties, and values at and around every midpoint.
        let x: Vec<f64> = (0..30).map(|k| if k == 29 { 1e4 } else { (k / 2) as f64 * 0.1 }).collect();
        let curve = FactorCurve::new(&x, &vec![1.0; x.len()]);
        let mut values: Vec<f64> = curve.midpoints.iter().flat_map(|&m| [m.next_down(), m, m.next_up()]).collect();
        values.extend((0..=1000).map(|k| k as f64 * 10.0));
        for value in values.into_iter().filter(|v| (x[0]..=x[29]).contains(v)) {
            assert_eq!(
                nodes_below(&curve.midpoints, curve.guide.view(), value),
                curve.midpoints.partition_point(|&m| m < value),
                "{value}"
            );
        }
    }

    #[test]
    fn nan_nodes_are_dropped_and_extrapolation_uses_the_remaining_ends() {
        // kind '*' with dry quantiles: 0/0 = NaN at the first two nodes, an infinite factor at the third.
        let curve = FactorCurve::new(&[0.0, 0.0, 0.0, 2.0, 4.0], &[f64::NAN, f64::NAN, f64::INFINITY, 3.0, 2.0]);
        assert_eq!(curve.lookup(Interp::Nearest, Extrapolation::Constant).factor(-1.0), f64::INFINITY);
        assert_eq!(curve.lookup(Interp::Nearest, Extrapolation::Constant).factor(0.0), f64::INFINITY);
        assert_eq!(curve.lookup(Interp::Nearest, Extrapolation::Constant).factor(1.5), 3.0);
        assert_eq!(curve.lookup(Interp::Linear, Extrapolation::Constant).factor(3.0), 2.5);
        let empty = FactorCurve::new(&[1.0, 2.0], &[f64::NAN, f64::NAN]);
        assert!(empty.lookup(Interp::Linear, Extrapolation::Constant).factor(1.5).is_nan());
    }
}
