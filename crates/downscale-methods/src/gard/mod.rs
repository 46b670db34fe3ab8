//! GARD's point models (Generalized Analog Regression Downscaling): at one grid cell, learn the observed variable
//! from the predictors (features) of a training period, then predict it for other days. Each model returns, per
//! prediction day, the three outputs scikit-downscale's GARD models return and the random effects of a GARD flow
//! consume ([`GardPrediction`]):
//!
//! - [`PureRegression`]: one least-squares regression over the whole training sample;
//! - [`AnalogRegression`]: for each prediction day, a regression over its `n_analogs` nearest training days;
//! - [`PureAnalog`]: for each prediction day, the value of its nearest training day, or a (weighted) mean of or a
//!   random draw from its nearest days.
//!
//! With a threshold (`thresh`, for precipitation), the amount is learnt on the days above it only and a logistic
//! model ([`Logistic`]) gives the probability of exceeding it.
//!
//! Features are a `(sample, feature)` array. A training day with any missing (NaN) feature or target is left out;
//! a prediction day with a missing feature gets missing outputs.

mod analogs;
mod linear;
mod logistic;
mod models;
pub mod random_effects;

pub use analogs::{AnalogDistance, MAX_ANALOG_FEATURES};
pub use logistic::Logistic;
pub use models::{
    AnalogKind, AnalogRegression, FittedAnalogRegression, FittedPureAnalog, FittedPureRegression, PureAnalog,
    PureRegression,
};

/// What a GARD model predicts for each day.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GardPrediction {
    /// The expected value: for a thresholded variable, the expected amount on a day above the threshold.
    pub pred: Vec<f64>,
    /// The probability of exceeding the threshold (1 without a threshold).
    pub exceedance_prob: Vec<f64>,
    /// The spread around `pred` the random effects scale their noise by: the regression's root-mean-square
    /// residual, or the analogues' standard deviation.
    pub prediction_error: Vec<f64>,
}

impl GardPrediction {
    fn with_capacity(days: usize) -> GardPrediction {
        GardPrediction {
            pred: Vec::with_capacity(days),
            exceedance_prob: Vec::with_capacity(days),
            prediction_error: Vec::with_capacity(days),
        }
    }

    fn push(&mut self, pred: f64, exceedance_prob: f64, prediction_error: f64) {
        self.pred.push(pred);
        self.exceedance_prob.push(exceedance_prob);
        self.prediction_error.push(prediction_error);
    }

    fn push_missing(&mut self) {
        self.push(f64::NAN, f64::NAN, f64::NAN);
    }
}

/// Whether to reproduce scikit-downscale's slips in its analogue models, for comparison with data made by it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Compat {
    /// What the models mean to compute.
    #[default]
    Corrected,
    /// scikit-downscale 0.1.5 and its later source tree as they run:
    /// - `AnalogRegression` returns the probability of *not* exceeding the threshold (`predict_proba[0, 0]`, the
    ///   "dry" class) as `exceedance_prob`;
    /// - `PureAnalog` with a threshold averages the analogues with the dry ones set to NaN, so a single dry
    ///   analogue makes the mean NaN (then 0) and the error NaN.
    ScikitDownscale,
}
