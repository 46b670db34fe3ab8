//! The three GARD models with scikit-downscale's semantics (see the module docs of [`crate::gard`]).

use std::num::NonZero;

use ndarray::{Array2, ArrayView1, ArrayView2};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::analogs::{Analog, AnalogDistance, AnalogIndex};
use super::linear::LinearFit;
use super::logistic::{Logistic, LogisticFit};
use super::{Compat, GardPrediction};
use crate::error::{MethodError, Result};

/// The training rows with every feature and the target present.
fn complete_rows(x: ArrayView2<'_, f64>, y: &[f64], method: &'static str) -> Result<Vec<usize>> {
    if x.nrows() != y.len() {
        return Err(MethodError::InvalidOption {
            method,
            message: format!("the features have {} training days but the target has {}", x.nrows(), y.len()),
        });
    }
    let rows: Vec<usize> = (0..y.len()).filter(|&r| !y[r].is_nan() && x.row(r).iter().all(|v| v.is_finite())).collect();
    if rows.is_empty() {
        return Err(MethodError::TooFewValues { sample: "training", got: 0, needed: 1, method });
    }
    Ok(rows)
}

fn check_features(x: ArrayView2<'_, f64>, trained: usize, method: &'static str) -> Result<()> {
    if x.ncols() == trained {
        Ok(())
    } else {
        Err(MethodError::InvalidOption {
            method,
            message: format!("trained on {trained} features but asked to predict from {}", x.ncols()),
        })
    }
}

/// Whether each target value exceeds `thresh` (all true without a threshold).
fn exceeds(y: &[f64], thresh: Option<f64>) -> Vec<bool> {
    y.iter().map(|&v| thresh.is_none_or(|t| v > t)).collect()
}

/// One regression over the whole training sample (scikit-downscale's `PureRegression`).
///
/// With a threshold, the logistic model is fitted on every training day and the amount regression on the days
/// above the threshold. When the training days are all above it, or all at or below it, there is nothing to
/// separate: the model falls back to a plain regression on every day with an exceedance probability of 1, as the
/// reference does (an all-dry sample then predicts its small values with their small error).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PureRegression {
    /// The threshold of the occurrence model (`None`: no occurrence model).
    pub thresh: Option<f64>,
    /// The logistic model of occurrence.
    pub logistic: Logistic,
}

/// A fitted [`PureRegression`].
#[derive(Debug, Clone, PartialEq)]
pub struct FittedPureRegression {
    features: usize,
    amount: LinearFit,
    occurrence: Option<LogisticFit>,
    error: f64,
}

impl PureRegression {
    const NAME: &'static str = "PureRegression";

    /// Fits on `x` (`(day, feature)`) against the target `y`.
    pub fn fit(&self, x: ArrayView2<'_, f64>, y: &[f64]) -> Result<FittedPureRegression> {
        let rows = complete_rows(x, y, Self::NAME)?;
        let wet = exceeds(y, self.thresh);
        let wet_rows: Vec<usize> = rows.iter().copied().filter(|&r| wet[r]).collect();
        let both_classes = !wet_rows.is_empty() && wet_rows.len() < rows.len();
        let (occurrence, amount_rows) = if self.thresh.is_some() && both_classes {
            (Some(LogisticFit::fit(self.logistic, x, &wet, &rows)), wet_rows)
        } else {
            (None, rows)
        };
        let amount = LinearFit::fit(x, y, &amount_rows);
        let error = amount.rmse(x, y, &amount_rows);
        Ok(FittedPureRegression { features: x.ncols(), amount, occurrence, error })
    }
}

impl FittedPureRegression {
    /// Predicts for each row of `x` (`(day, feature)`).
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<GardPrediction> {
        check_features(x, self.features, PureRegression::NAME)?;
        let mut out = GardPrediction::with_capacity(x.nrows());
        for row in x.rows() {
            if row.iter().any(|v| !v.is_finite()) {
                out.push_missing();
                continue;
            }
            let probability = self.occurrence.as_ref().map_or(1.0, |o| o.probability(row.iter().copied()));
            out.push(self.amount.predict(row.iter().copied()), probability, self.error);
        }
        Ok(out)
    }
}

/// For each prediction day, a regression over its nearest training days (scikit-downscale's `AnalogRegression`).
///
/// With a threshold, the amount regression uses the analogues above it and the logistic model all of them. When
/// every analogue is above it the probability is 1; when none is (scikit-downscale raises an error there), the
/// probability, amount and error are 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalogRegression {
    /// How many analogues each prediction uses (all training days when there are fewer, as in the reference).
    pub n_analogs: usize,
    /// The threshold of the occurrence model.
    pub thresh: Option<f64>,
    /// The logistic model of occurrence.
    pub logistic: Logistic,
    /// How features are compared.
    pub distance: AnalogDistance,
    /// [`Compat::ScikitDownscale`] reports the probability of *not* exceeding the threshold, as the reference does.
    pub compat: Compat,
}

impl Default for AnalogRegression {
    /// scikit-downscale's defaults: 200 analogues, raw distances, no threshold.
    fn default() -> Self {
        AnalogRegression {
            n_analogs: 200,
            thresh: None,
            logistic: Logistic::default(),
            distance: AnalogDistance::Raw,
            compat: Compat::Corrected,
        }
    }
}

/// The training sample of an analogue model.
struct AnalogTraining {
    features: usize,
    index: AnalogIndex,
    k: NonZero<usize>,
    x: Array2<f64>,
    y: Vec<f64>,
}

impl AnalogTraining {
    fn new(
        x: ArrayView2<'_, f64>,
        y: &[f64],
        n_analogs: usize,
        distance: AnalogDistance,
        method: &'static str,
    ) -> Result<AnalogTraining> {
        let Some(n_analogs) = NonZero::new(n_analogs) else {
            return Err(MethodError::InvalidOption { method, message: "n_analogs must be at least 1".into() });
        };
        let rows = complete_rows(x, y, method)?;
        let k = n_analogs.min(NonZero::new(rows.len()).expect("complete_rows is never empty"));
        let index = AnalogIndex::new(x, rows, distance)?;
        Ok(AnalogTraining { features: x.ncols(), index, k, x: x.to_owned(), y: y.to_vec() })
    }

    /// The analogues of one prediction row, `None` when a feature is missing.
    fn analogs(&self, row: ArrayView1<'_, f64>) -> Option<Vec<Analog>> {
        let features: Vec<f64> = row.to_vec();
        features.iter().all(|v| v.is_finite()).then(|| self.index.analogs(&features, self.k))
    }
}

/// A fitted [`AnalogRegression`]: its training sample, indexed.
pub struct FittedAnalogRegression {
    model: AnalogRegression,
    training: AnalogTraining,
}

impl AnalogRegression {
    const NAME: &'static str = "AnalogRegression";

    /// Indexes the training sample `x` (`(day, feature)`) with its target `y`.
    pub fn fit(&self, x: ArrayView2<'_, f64>, y: &[f64]) -> Result<FittedAnalogRegression> {
        let training = AnalogTraining::new(x, y, self.n_analogs, self.distance, Self::NAME)?;
        Ok(FittedAnalogRegression { model: *self, training })
    }
}

impl FittedAnalogRegression {
    /// Predicts for each row of `x` (`(day, feature)`).
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<GardPrediction> {
        let training = &self.training;
        check_features(x, training.features, AnalogRegression::NAME)?;
        let wet = exceeds(&training.y, self.model.thresh);
        let mut out = GardPrediction::with_capacity(x.nrows());
        for row in x.rows() {
            let Some(analogs) = training.analogs(row) else {
                out.push_missing();
                continue;
            };
            let rows: Vec<usize> = analogs.iter().map(|a| a.row).collect();
            let wet_rows: Vec<usize> = rows.iter().copied().filter(|&r| wet[r]).collect();
            if wet_rows.is_empty() {
                out.push(0.0, 0.0, 0.0);
                continue;
            }
            let probability = if wet_rows.len() == rows.len() {
                1.0
            } else {
                let p = LogisticFit::fit(self.model.logistic, training.x.view(), &wet, &rows)
                    .probability(row.iter().copied());
                match self.model.compat {
                    Compat::Corrected => p,
                    Compat::ScikitDownscale => 1.0 - p,
                }
            };
            let amount = LinearFit::fit(training.x.view(), &training.y, &wet_rows);
            let error = amount.rmse(training.x.view(), &training.y, &wet_rows);
            out.push(amount.predict(row.iter().copied()), probability, error);
        }
        Ok(out)
    }
}

/// What a [`PureAnalog`] makes of its analogues.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AnalogKind {
    /// The nearest analogue's value (one analogue is searched).
    #[default]
    BestAnalog,
    /// The mean of the analogues.
    MeanAnalogs,
    /// The mean weighted by inverse distance (a zero distance weighs 1e20).
    WeightAnalogs,
    /// One analogue drawn at random.
    SampleAnalogs,
}

impl AnalogKind {
    /// scikit-downscale's name of each kind, as parameter files spell it.
    pub const NAMES: [(&'static str, AnalogKind); 4] = [
        ("best_analog", AnalogKind::BestAnalog),
        ("mean_analogs", AnalogKind::MeanAnalogs),
        ("weight_analogs", AnalogKind::WeightAnalogs),
        ("sample_analogs", AnalogKind::SampleAnalogs),
    ];
}

/// For each prediction day, a value made of its nearest training days' values (scikit-downscale's `PureAnalog`).
///
/// The error is the analogues' population standard deviation. With a threshold the probability is the fraction of
/// analogues above it, and the mean, weighted mean and error are taken over those analogues (0 when there are
/// none); the best and sampled analogues are taken from all of them, as in the reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PureAnalog {
    /// How many analogues are searched (one for [`AnalogKind::BestAnalog`]).
    pub n_analogs: usize,
    /// What is made of them.
    pub kind: AnalogKind,
    /// The threshold of exceedance.
    pub thresh: Option<f64>,
    /// How features are compared.
    pub distance: AnalogDistance,
    /// [`Compat::ScikitDownscale`] averages with dry analogues as NaN, as the reference does.
    pub compat: Compat,
    /// Seed of the draws of [`AnalogKind::SampleAnalogs`]: the same seed draws the same analogues.
    pub seed: u64,
}

impl Default for PureAnalog {
    /// scikit-downscale's defaults: the best of 200 analogues, raw distances, no threshold.
    fn default() -> Self {
        PureAnalog {
            n_analogs: 200,
            kind: AnalogKind::BestAnalog,
            thresh: None,
            distance: AnalogDistance::Raw,
            compat: Compat::Corrected,
            seed: 0,
        }
    }
}

/// A fitted [`PureAnalog`]: its training sample, indexed.
pub struct FittedPureAnalog {
    model: PureAnalog,
    training: AnalogTraining,
}

impl PureAnalog {
    const NAME: &'static str = "PureAnalog";

    /// Indexes the training sample `x` (`(day, feature)`) with its target `y`.
    pub fn fit(&self, x: ArrayView2<'_, f64>, y: &[f64]) -> Result<FittedPureAnalog> {
        let n_analogs = if self.kind == AnalogKind::BestAnalog { 1 } else { self.n_analogs };
        let training = AnalogTraining::new(x, y, n_analogs, self.distance, Self::NAME)?;
        Ok(FittedPureAnalog { model: *self, training })
    }
}

impl FittedPureAnalog {
    /// Predicts for each row of `x` (`(day, feature)`).
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<GardPrediction> {
        let training = &self.training;
        check_features(x, training.features, PureAnalog::NAME)?;
        // The reference takes the best analogue whenever a single one is searched.
        let kind = if training.k.get() == 1 { AnalogKind::BestAnalog } else { self.model.kind };
        let mut rng = StdRng::seed_from_u64(self.model.seed);
        let mut out = GardPrediction::with_capacity(x.nrows());
        for row in x.rows() {
            let Some(analogs) = training.analogs(row) else {
                out.push_missing();
                continue;
            };
            let values: Vec<f64> = analogs.iter().map(|a| training.y[a.row]).collect();
            let weights: Vec<f64> =
                analogs.iter().map(|a| 1.0 / if a.distance == 0.0 { 1e-20 } else { a.distance }).collect();
            let wet: Vec<bool> = exceeds(&values, self.model.thresh);
            // The analogues that count for the mean and the error: all without a threshold, the wet ones with it.
            let counted: Vec<usize> = (0..values.len()).filter(|&i| wet[i]).collect();
            let poisoned = self.model.compat == Compat::ScikitDownscale && counted.len() < values.len();
            let mean_of = |weights: &dyn Fn(usize) -> f64| -> f64 {
                if counted.is_empty() || poisoned {
                    return 0.0;
                }
                let total: f64 = counted.iter().map(|&i| weights(i)).sum();
                counted.iter().map(|&i| weights(i) * values[i]).sum::<f64>() / total
            };
            let pred = match kind {
                AnalogKind::BestAnalog => values[0],
                AnalogKind::SampleAnalogs => values[rng.random_range(0..values.len())],
                AnalogKind::MeanAnalogs => mean_of(&|_| 1.0),
                AnalogKind::WeightAnalogs => mean_of(&|i| weights[i]),
            };
            let error = if poisoned {
                f64::NAN
            } else if counted.is_empty() {
                0.0
            } else {
                let mean = counted.iter().map(|&i| values[i]).sum::<f64>() / counted.len() as f64;
                (counted.iter().map(|&i| (values[i] - mean).powi(2)).sum::<f64>() / counted.len() as f64).sqrt()
            };
            let probability = counted.len() as f64 / values.len() as f64;
            out.push(pred, probability, error);
        }
        Ok(out)
    }
}
