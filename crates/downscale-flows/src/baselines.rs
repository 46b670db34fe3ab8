//! The baselines an evaluation scores a downscaled product against, made from a run's raw inputs with the flows'
//! own steps: the raw model bias-corrected at its own scale by quantile delta mapping (BCSD's default coarse
//! correction: per calendar month, 50 quantiles, additive for temperature, multiplicative for precipitation with
//! trace amounts jittered) against the training observations coarsened bilinearly onto its grid, as BCSD coarsens
//! them. Interpolated onto the observations' grid (`downscale_evaluate::bilinear_baseline`), it is what a method
//! must beat once bias correction alone is granted: the added value of the spatial step.

use downscale_data::DataArray;
use downscale_engine::TaskError;
use downscale_regrid::{Grid, bilinear_weights, regrid_array};

use crate::bcsd::BcsdVariant;
use crate::tasks::correct::correct_points;

/// Quantiles of QDM's monthly distributions: BCSD's default (`nquantiles`).
const NQUANTILES: usize = 50;

/// `model` (the predicted period, on its own grid) corrected by QDM trained on `observed_train` (the training
/// years, on the fine grid) and `model_train` (the model's training years); on the model's grid.
pub fn coarse_qdm(
    observed_train: &DataArray,
    model_train: &DataArray,
    model: &DataArray,
    variable: &str,
) -> Result<DataArray, TaskError> {
    let temperature = variable != "pr";
    let model_grid = Grid::from_array(model).map_err(TaskError::new)?;
    let obs_grid = Grid::from_array(observed_train).map_err(TaskError::new)?;
    let weights = bilinear_weights(&obs_grid, &model_grid, true).map_err(TaskError::new)?;
    let coarse_observed = regrid_array(observed_train, &model_grid, &weights).map_err(TaskError::new)?;
    let method = BcsdVariant::QuantileDeltaMapping { nquantiles: NQUANTILES }.coarse_correction(temperature);
    correct_points(&method, &coarse_observed, model_train, model, None)
}
