//! GARD's random effects: a day's value drawn from the model's prediction, its error and exceedance probability,
//! and a standard-normal value `z` of a correlated random field (`crate::scrf`), so that neighbouring cells and
//! consecutive days draw alike.
//!
//! - Temperature: `pred + z·err`.
//! - Precipitation, modelled in cube-root space: with `u = Φ(z)`, the day is wet when `u > 1 - p`; a wet day's
//!   amount is `(∛pred + err·Φ⁻¹((u - (1 - p))/p))³`, where `err` is the regression's error in cube-root space, and
//!   a dry day is 0. A wet day's `(u - (1-p))/p` is again uniform, so the amount keeps the full spread of the
//!   residuals whatever `p`; the cube of a negative root is clipped to 0.

use statrs::distribution::{ContinuousCDF, Normal};

fn standard_normal() -> Normal {
    Normal::standard()
}

/// The day's temperature: the prediction plus the field's value times the prediction's error.
pub fn temperature(pred: f64, prediction_error: f64, z: f64) -> f64 {
    pred + z * prediction_error
}

/// The day's precipitation amount (≥ 0, 0 on a dry day), from the predicted wet-day amount `pred` (in the
/// variable's units), the error of its cube root, the probability of a wet day and the field's value.
pub fn precipitation(pred: f64, cube_root_error: f64, exceedance_prob: f64, z: f64) -> f64 {
    if [pred, cube_root_error, exceedance_prob, z].iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let normal = standard_normal();
    let u = normal.cdf(z);
    let dry_fraction = 1.0 - exceedance_prob.clamp(0.0, 1.0);
    if u <= dry_fraction {
        return 0.0;
    }
    // The wet part of [0, 1] stretched back to [0, 1]; open at both ends so the quantile stays finite.
    let wet_u = ((u - dry_fraction) / (1.0 - dry_fraction)).clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON);
    let root = pred.cbrt() + cube_root_error * normal.inverse_cdf(wet_u);
    root.max(0.0).powi(3)
}
