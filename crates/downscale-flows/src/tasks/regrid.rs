//! Bilinear regridding with nearest-source extrapolation (xESMF `bilinear` + `nearest_s2d`, the original's choice
//! everywhere) of one input onto the grid of another.

use downscale_data::DataArray;
use downscale_engine::{TaskContext, TaskError};
use downscale_regrid::{Grid, bilinear_weights, regrid_array};

/// Regrids input `source` onto the grid of input `grid_of`.
pub fn regrid_onto(ctx: &TaskContext, source: &str, grid_of: &str) -> Result<DataArray, TaskError> {
    // Only the target's grid is needed, not its values.
    let target_grid = Grid::from_array(&ctx.read_template(grid_of)?).map_err(TaskError::new)?;
    let array = ctx.read_array(source)?;
    let source_grid = Grid::from_array(&array).map_err(TaskError::new)?;
    let weights = bilinear_weights(&source_grid, &target_grid, true).map_err(TaskError::new)?;
    regrid_array(&array, &target_grid, &weights).map_err(TaskError::new)
}
