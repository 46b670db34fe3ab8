//! Bilinear regridding with nearest-source extrapolation (xESMF `bilinear` + `nearest_s2d`, the original's choice
//! everywhere) of one input onto the grid of another, streamed over blocks of days.

use downscale_data::WriteOptions;
use downscale_engine::{TaskContext, TaskError};
use downscale_regrid::{Grid, bilinear_weights, regrid_array, regridded_labels, regridded_shape};

use crate::tasks::blocks::map_time_blocks;

/// Writes input `source` regridded onto the grid of input `grid_of` as the task's artifact.
pub fn regrid_onto(ctx: &TaskContext, source: &str, grid_of: &str, options: &WriteOptions) -> Result<(), TaskError> {
    // Only the target's grid is needed, not its values.
    let target_grid = Grid::from_array(&ctx.read_template(grid_of)?).map_err(TaskError::new)?;
    let reader = ctx.open_input(source)?;
    let source_grid = Grid::from_array(reader.template()).map_err(TaskError::new)?;
    let weights = bilinear_weights(&source_grid, &target_grid, true).map_err(TaskError::new)?;
    let labels = regridded_labels(reader.template(), &target_grid, &weights).map_err(TaskError::new)?;
    let shape = regridded_shape(reader.shape(), &target_grid);
    map_time_blocks(ctx, &reader, &labels, &shape, options, |block| {
        Ok(regrid_array(&block, &target_grid, &weights).map_err(TaskError::new)?.data)
    })
}
