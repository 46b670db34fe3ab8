//! scikit-downscale's `EquidistantCdfMatcher` (EDCDFm), MACA's bias correction: each value keeps
//! its difference (or ratio) to the model-historical quantile at its probability, applied to the reference (obs)
//! quantile at that probability. Probabilities come from ranks within the predicted sample, as in the reference,
//! and the CDFs are not extrapolated (`extrapolate=None`, what MACA uses).

use crate::error::{MethodError, Result};
use crate::qm_rank::{CunnaneCdf, N_ENDPOINTS, cunnane_position};
use crate::stats::total_order;

/// Additive or multiplicative EDCDFm (`kind='difference'` / `'ratio'`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EdcdfmKind {
    /// `y = F_ref⁻¹(p) + (x - F_hist⁻¹(p))`: temperature-like variables.
    #[default]
    Difference,
    /// `y = F_ref⁻¹(p) · x / F_hist⁻¹(p)`: precipitation, humidity, wind components in MACA.
    Ratio,
}

/// The cap on `x / F_hist⁻¹(p)` of the default [`DryPolicy`]: MACA's maximum precipitation ratio, the value the
/// reference's own (non-functional) `max_ratio` argument refers to.
pub const DEFAULT_MAX_RATIO: f64 = 5.0;

/// What the ratio kind does with dry values and with model-historical quantiles at or near zero. Ignored by the
/// difference kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DryPolicy {
    /// Exactly the reference: `y = yo · (x / xh)` with no guard, so a dry input at a dry model-historical quantile
    /// gives 0/0 = NaN (about half the output on zero-inflated precipitation), and `x > 0` at `xh = 0` gives an
    /// infinity (NaN when `yo = 0` too). Negative values are accepted. Use only to reproduce published outputs.
    Reference,
    /// `x = 0` gives 0; otherwise `y = yo · min(x / xh, max_ratio)`, where `xh = 0` counts as an infinite ratio.
    ///
    /// Why: a dry model value is dry after a multiplicative correction whatever the quantile ratio (the limit of
    /// `yo·x/xh` as `x → 0` with `xh > 0` is 0, and the reference gives exactly that wherever `xh > 0`), so the
    /// NaN the reference produces at `xh = 0` is replaced by the value it takes everywhere else. Where `x > 0`
    /// meets a zero or tiny `xh` — the predicted period is wetter at that probability than the historical one,
    /// typically at the dry/wet boundary — the ratio is infinite or explosive and says nothing about the change in
    /// amounts, so it is capped. [`DEFAULT_MAX_RATIO`] = 5 is MACA's cap; wherever `x / xh ≤ max_ratio` the
    /// output equals the reference's. Negative values are rejected (a ratio of signed values is meaningless).
    ZeroStaysZero {
        /// Largest factor applied to the reference quantile; finite and positive.
        max_ratio: f64,
    },
}

impl Default for DryPolicy {
    fn default() -> Self {
        DryPolicy::ZeroStaysZero { max_ratio: DEFAULT_MAX_RATIO }
    }
}

/// `EquidistantCdfMatcher(kind)`: `fit(model_hist, obs)`, then `predict(model)`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EquidistantCdfMatcher {
    /// Difference (temperature) or ratio (precipitation).
    pub kind: EdcdfmKind,
    /// What the ratio kind does with dry values and zero quantiles; ignored by the difference kind.
    pub dry_policy: DryPolicy,
}

const METHOD: &str = "EquidistantCdfMatcher";

impl EquidistantCdfMatcher {
    /// Stores the Cunnane CDFs of the valid values of `hist` (model, training period) and `reference` (obs), which
    /// need at least 21 valid values each (as in the reference).
    pub fn fit(&self, hist: &[f64], reference: &[f64]) -> Result<FittedEquidistantCdfMatcher> {
        let checks_sign = self.checks_sign()?;
        if checks_sign {
            check_non_negative(hist, "the model-historical sample")?;
            check_non_negative(reference, "the reference sample")?;
        }
        let needed = 2 * N_ENDPOINTS + 1;
        Ok(FittedEquidistantCdfMatcher {
            hist: CunnaneCdf::new(hist, needed, "the model-historical sample", METHOD)?,
            reference: CunnaneCdf::new(reference, needed, "the reference sample", METHOD)?,
            kind: self.kind,
            dry_policy: self.dry_policy,
            checks_sign,
        })
    }

    /// Validates the policy; true when values must be non-negative (ratio kind with the guarded policy).
    fn checks_sign(&self) -> Result<bool> {
        match (self.kind, self.dry_policy) {
            (EdcdfmKind::Ratio, DryPolicy::ZeroStaysZero { max_ratio }) => {
                if !(max_ratio.is_finite() && max_ratio > 0.0) {
                    return Err(MethodError::InvalidOption {
                        method: METHOD,
                        message: format!("max_ratio must be finite and positive, got {max_ratio}"),
                    });
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

fn check_non_negative(values: &[f64], sample: &'static str) -> Result<()> {
    let smallest = values.iter().copied().filter(|v| !v.is_nan()).fold(f64::INFINITY, f64::min);
    if smallest < 0.0 { Err(MethodError::NegativeValues { sample, smallest, method: METHOD }) } else { Ok(()) }
}

/// A fitted [`EquidistantCdfMatcher`].
#[derive(Debug, Clone, PartialEq)]
pub struct FittedEquidistantCdfMatcher {
    hist: CunnaneCdf,
    reference: CunnaneCdf,
    kind: EdcdfmKind,
    dry_policy: DryPolicy,
    checks_sign: bool,
}

impl FittedEquidistantCdfMatcher {
    /// Corrects `x`: the valid value of rank k among the n valid values gets `p = (k - 0.4)/(n + 0.2)`, then
    /// `xh = F_hist⁻¹(p)` and `yo = F_ref⁻¹(p)` (linear interpolation, clamped to the training ranges) and the
    /// difference or ratio rule of [`EdcdfmKind`] / [`DryPolicy`]. NaN stays NaN and is not ranked.
    ///
    /// Tied values are ranked in time order (earlier steps first), so equal inputs get consecutive positions
    /// and, in general, different outputs. The reference sorts with numpy's unstable quicksort and assigns those
    /// positions among the tied steps arbitrarily; the set of outputs of a tie block is the same in both, only
    /// which tied step gets which differs.
    pub fn predict(&self, x: &[f64]) -> Result<Vec<f64>> {
        if self.checks_sign {
            check_non_negative(x, "the series to correct")?;
        }
        let mut order: Vec<usize> = (0..x.len()).filter(|&i| !x[i].is_nan()).collect();
        order.sort_by(|&a, &b| total_order(&x[a], &x[b]));
        let n = order.len();
        let mut out = vec![f64::NAN; x.len()];
        for (rank, &index) in (1..=n).zip(&order) {
            let p = cunnane_position(rank, n);
            let value = x[index];
            let hist_quantile = self.hist.quantile(p);
            let reference_quantile = self.reference.quantile(p);
            out[index] = match (self.kind, self.dry_policy) {
                (EdcdfmKind::Difference, _) => reference_quantile + (value - hist_quantile),
                (EdcdfmKind::Ratio, DryPolicy::Reference) => reference_quantile * (value / hist_quantile),
                (EdcdfmKind::Ratio, DryPolicy::ZeroStaysZero { max_ratio }) => {
                    if value == 0.0 {
                        0.0
                    } else {
                        // x / 0 = inf for x > 0, so a zero model-historical quantile takes the cap.
                        reference_quantile * (value / hist_quantile).min(max_ratio)
                    }
                }
            };
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::ramp;

    #[test]
    fn difference_shifts_by_the_quantile_bias() {
        let hist = ramp(30, 0.0, 1.0);
        let reference = ramp(30, 10.0, 1.0);
        let fitted = EquidistantCdfMatcher::default().fit(&hist, &reference).unwrap();
        // Same size as the training samples: positions coincide, so xh is the rank's order statistic.
        let x: Vec<f64> = ramp(30, 5.0, 1.0).into_iter().rev().collect();
        let out = fitted.predict(&x).unwrap();
        for (value, input) in out.iter().zip(&x) {
            assert!((value - (input + 10.0)).abs() < 1e-12);
        }
    }

    #[test]
    fn reference_policy_gives_nan_on_dry_quantiles() {
        let mut hist = ramp(30, 1.0, 1.0);
        hist[..10].fill(0.0);
        let reference = ramp(30, 1.0, 1.0);
        let matcher = EquidistantCdfMatcher { kind: EdcdfmKind::Ratio, dry_policy: DryPolicy::Reference };
        let out = matcher.fit(&hist, &reference).unwrap().predict(&hist).unwrap();
        assert!(out[..10].iter().all(|v| v.is_nan()), "{out:?}");
        let guarded = EquidistantCdfMatcher { kind: EdcdfmKind::Ratio, ..Default::default() };
        let out = guarded.fit(&hist, &reference).unwrap().predict(&hist).unwrap();
        assert!(out[..10].iter().all(|&v| v == 0.0), "{out:?}");
    }

    #[test]
    fn default_policy_caps_the_ratio_and_rejects_negatives() {
        let mut hist = ramp(30, 1.0, 1.0);
        hist[..10].fill(0.0);
        let reference = ramp(30, 1.0, 1.0);
        let matcher = EquidistantCdfMatcher { kind: EdcdfmKind::Ratio, ..Default::default() };
        let fitted = matcher.fit(&hist, &reference).unwrap();
        // All wet: the lowest ranks meet xh = 0 and take the cap of 5.
        let out = fitted.predict(&ramp(30, 2.0, 1.0)).unwrap();
        assert_eq!(out[0], reference[0] * DEFAULT_MAX_RATIO);
        assert!(out.iter().all(|v| v.is_finite()));
        assert!(matches!(fitted.predict(&[1.0, -0.5]), Err(MethodError::NegativeValues { .. })));
        let bad = EquidistantCdfMatcher {
            kind: EdcdfmKind::Ratio,
            dry_policy: DryPolicy::ZeroStaysZero { max_ratio: f64::INFINITY },
        };
        assert!(matches!(bad.fit(&hist, &reference), Err(MethodError::InvalidOption { .. })));
    }

    #[test]
    fn ties_are_ranked_in_time_order_and_nan_is_skipped() {
        let hist = ramp(30, 0.0, 1.0);
        let reference = ramp(30, 0.0, 2.0);
        let fitted = EquidistantCdfMatcher::default().fit(&hist, &reference).unwrap();
        let out = fitted.predict(&[1.0, f64::NAN, 1.0, 0.5]).unwrap();
        assert!(out[1].is_nan());
        // Ranks: 0.5 -> 1, first 1.0 -> 2, second 1.0 -> 3; higher positions give larger (ref - hist) quantiles.
        assert!(out[3] < out[0] && out[0] < out[2], "{out:?}");
    }
}
