//! GARD's model at every cell of a tile: each predictor corrected towards its training distribution, cube roots
//! for precipitation, the run's point model fitted on the training days and applied to the prediction days. The
//! numerics are `downscale_methods::gard` and `qm_rank`; this module only lays the tile's series out for them.

use downscale_methods::MethodError;
use downscale_methods::gard::{
    AnalogDistance, AnalogKind, AnalogRegression, Compat, GardPrediction, Logistic, PureAnalog, PureRegression,
};
use downscale_methods::qm_rank::QuantileMapper;
use downscale_params::{AnalogKindName, GardModel, GardModelType, OccurrenceModel, PredictorCorrection};
use ndarray::{Array2, Array3, ArrayView3, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// One predictor as the model uses it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predictor {
    /// The variable (`pr`, `psl`, `ta850`, ...).
    pub variable: String,
    /// Its correction of the prediction period towards the training period.
    pub correction: PredictorCorrection,
    /// Whether the model sees its cube root (precipitation, whose distribution is skewed): applied after the
    /// correction, to training and prediction values alike.
    pub cube_root: bool,
}

/// How a cell's model is set up, beyond its data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellModel {
    /// The run's model.
    pub model: GardModel,
    /// Whether the target is modelled in cube roots (precipitation); its prediction is cubed back.
    pub cube_root_target: bool,
    /// Reproduce scikit-downscale's slips in the analogue models (`run_options.carbonplan_compat`).
    pub compat: Compat,
    /// The seed of `sample_analogs`' draws (each cell draws from `seed + cell`).
    pub seed: u64,
}

/// The three outputs of a tile, `(day, row, column)` each: the prediction (in the target's units), its error (in
/// cube roots for a cube-rooted target) and the exceedance probability.
pub struct TileOutputs {
    /// `pred`.
    pub pred: Array3<f32>,
    /// `prediction_error`.
    pub prediction_error: Array3<f32>,
    /// `exceedance_prob`.
    pub exceedance_prob: Array3<f32>,
}

/// The series of one tile: the target on the training days, and each predictor on the training and the prediction
/// days, all `(day, row, column)` over the same cells and aligned by day.
pub struct TileSeries<'a> {
    /// The observed target on the training days.
    pub target: ArrayView3<'a, f32>,
    /// Each predictor on the training days.
    pub train: Vec<ArrayView3<'a, f32>>,
    /// Each predictor on the prediction days.
    pub predict: Vec<ArrayView3<'a, f32>>,
}

/// Fits and applies the model at every cell of the tile, in parallel on the current pool. `first_cell` is the index
/// of the tile's first cell in the whole grid (row-major), so `sample_analogs` draws the same at a cell whatever the
/// tiling. A cell whose target or a predictor has fewer valid training values than the correction needs, as sea
/// cells have none, gets missing outputs.
pub fn model_tile(
    series: &TileSeries<'_>,
    predictors: &[Predictor],
    setup: CellModel,
    cell_index: impl Fn(usize, usize) -> u64 + Sync,
) -> Result<TileOutputs, MethodError> {
    let (_, rows, columns) = series.target.dim();
    let predict_days = series.predict.first().map_or(0, |p| p.dim().0);
    let cells: Vec<(usize, usize)> = (0..rows).flat_map(|r| (0..columns).map(move |c| (r, c))).collect();
    let predictions: Vec<Option<GardPrediction>> = cells
        .par_iter()
        .map(|&(r, c)| model_cell(series, predictors, setup, r, c, cell_index(r, c)))
        .collect::<Result<_, _>>()?;
    let mut out = TileOutputs {
        pred: Array3::from_elem((predict_days, rows, columns), f32::NAN),
        prediction_error: Array3::from_elem((predict_days, rows, columns), f32::NAN),
        exceedance_prob: Array3::from_elem((predict_days, rows, columns), f32::NAN),
    };
    for (&(r, c), prediction) in cells.iter().zip(predictions) {
        let Some(prediction) = prediction else { continue };
        for (day, ((pred, error), probability)) in
            prediction.pred.iter().zip(&prediction.prediction_error).zip(&prediction.exceedance_prob).enumerate()
        {
            let pred = if setup.cube_root_target { pred.powi(3) } else { *pred };
            out.pred[[day, r, c]] = pred as f32;
            out.prediction_error[[day, r, c]] = *error as f32;
            out.exceedance_prob[[day, r, c]] = *probability as f32;
        }
    }
    Ok(out)
}

fn series_at(values: &ArrayView3<'_, f32>, r: usize, c: usize) -> Vec<f64> {
    values.index_axis(Axis(2), c).index_axis(Axis(1), r).iter().map(|&v| f64::from(v)).collect()
}

/// One cell: `None` when it cannot be modelled (too few valid training values).
fn model_cell(
    series: &TileSeries<'_>,
    predictors: &[Predictor],
    setup: CellModel,
    r: usize,
    c: usize,
    cell: u64,
) -> Result<Option<GardPrediction>, MethodError> {
    let root = |v: f64| v.cbrt();
    let mut target = series_at(&series.target, r, c);
    if target.iter().all(|v| v.is_nan()) {
        return Ok(None);
    }
    if setup.cube_root_target {
        target.iter_mut().for_each(|v| *v = root(*v));
    }
    let (train_days, predict_days) = (target.len(), series.predict.first().map_or(0, |p| p.dim().0));
    let mut train = Array2::<f64>::zeros((train_days, predictors.len()));
    let mut predict = Array2::<f64>::zeros((predict_days, predictors.len()));
    for (j, predictor) in predictors.iter().enumerate() {
        let training = series_at(&series.train[j], r, c);
        let future = series_at(&series.predict[j], r, c);
        let corrected = match predictor.correction {
            PredictorCorrection::QuantileMapper { detrend } => {
                let mapper = QuantileMapper { detrend };
                match mapper.fit(&training).and_then(|fitted| fitted.transform(&future)) {
                    Ok(corrected) => corrected,
                    Err(MethodError::TooFewValues { .. }) => return Ok(None),
                    Err(other) => return Err(other),
                }
            }
            PredictorCorrection::None => future,
        };
        let transform = |v: f64| if predictor.cube_root { root(v.max(0.0)) } else { v };
        train.column_mut(j).iter_mut().zip(&training).for_each(|(out, &v)| *out = transform(v));
        predict.column_mut(j).iter_mut().zip(&corrected).for_each(|(out, &v)| *out = transform(v));
    }
    let (train, predict) = (train.view(), predict.view());
    let model = setup.model;
    let logistic = match model.occurrence {
        OccurrenceModel::Penalised { c } => Logistic::Penalised { c },
        OccurrenceModel::Unregularised => Logistic::Irls,
    };
    let distance = if model.normalised_distance { AnalogDistance::Normalised } else { AnalogDistance::Raw };
    let prediction = (|| match model.model_type {
        GardModelType::PureRegression => {
            PureRegression { thresh: model.thresh, logistic }.fit(train, &target)?.predict(predict)
        }
        GardModelType::AnalogRegression => AnalogRegression {
            n_analogs: model.n_analogs,
            thresh: model.thresh,
            logistic,
            distance,
            compat: setup.compat,
        }
        .fit(train, &target)?
        .predict(predict),
        GardModelType::PureAnalog => PureAnalog {
            n_analogs: model.n_analogs,
            kind: match model.kind {
                AnalogKindName::BestAnalog => AnalogKind::BestAnalog,
                AnalogKindName::MeanAnalogs => AnalogKind::MeanAnalogs,
                AnalogKindName::WeightAnalogs => AnalogKind::WeightAnalogs,
                AnalogKindName::SampleAnalogs => AnalogKind::SampleAnalogs,
            },
            thresh: model.thresh,
            distance,
            compat: setup.compat,
            seed: setup.seed.wrapping_add(cell),
        }
        .fit(train, &target)?
        .predict(predict),
    })();
    match prediction {
        Ok(prediction) => Ok(Some(prediction)),
        Err(MethodError::TooFewValues { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}
