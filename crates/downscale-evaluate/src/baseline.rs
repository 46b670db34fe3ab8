//! Baselines a downscaled product must beat, computed from the raw model in the same run.
//!
//! The first is the model's own field interpolated bilinearly onto the observations' grid, with the nearest model
//! cell outside the hull of its cell centres (xESMF's `nearest_s2d`, the original system's regridding): a method
//! that scores no better than this has added nothing but resolution.

use downscale_data::DataArray;
use downscale_regrid::{Grid, bilinear_weights, regrid_array};

use crate::error::EvaluateError;
use crate::field::Field;

/// The model's daily field `model` interpolated bilinearly onto the grid of `onto`.
pub fn bilinear_baseline(model: &DataArray, onto: &Field) -> Result<Field, EvaluateError> {
    let target = Grid::from_array(onto.template())?;
    let source = Grid::from_array(model)?;
    let weights = bilinear_weights(&source, &target, true)?;
    let mut interpolated = regrid_array(model, &target, &weights)?;
    interpolated.source = format!("{} (bilinear onto {})", model.source, onto.source());
    Ok(Field::InMemory(interpolated))
}
