//! Bilinear regridding with nearest-source extrapolation (xESMF `bilinear` + `nearest_s2d`, the original's choice
//! everywhere) of one input onto the grid of another, streamed over blocks of days or over tiles of the target.

use downscale_data::select::whole;
use downscale_data::{DataArray, VariableReader, WriteOptions};
use downscale_engine::{TaskContext, TaskError};
use downscale_regrid::{Grid, Weights, bilinear_weights, regrid_array, regridded_labels, regridded_shape};

use ndarray::Ix3;

use crate::tasks::blocks::{map_tiles, map_time_blocks};

/// Writes input `source` regridded onto the grid of input `grid_of` as the task's artifact.
pub fn regrid_onto(ctx: &TaskContext, source: &str, grid_of: &str, options: &WriteOptions) -> Result<(), TaskError> {
    let Regridding { reader, target_grid, weights, labels, shape } = Regridding::open(ctx, source, grid_of)?;
    map_time_blocks(ctx, &reader, &whole(reader.shape()), &labels, &shape, options, |block| {
        Ok(regrid_array(&block, &target_grid, &weights).map_err(TaskError::new)?.data)
    })
}

/// [`regrid_onto`] for outputs of whole-series chunks: tile by tile of the target grid, each from its window of the
/// source at every step. For a coarse source the windows are small, so a fine field of whole series is made without
/// ever holding it whole or rechunking it.
pub fn regrid_onto_tiles(
    ctx: &TaskContext,
    source: &str,
    grid_of: &str,
    options: &WriteOptions,
) -> Result<(), TaskError> {
    let Regridding { reader, weights, labels, shape, .. } = Regridding::open(ctx, source, grid_of)?;
    // A cell's cost: its values at every step (the coarse window is a small share).
    map_tiles(ctx, &labels, &shape, 4 * shape[0], options, |lat, lon| {
        let (tile, [lat_window, lon_window]) = weights.tile(lat, lon);
        let mut ranges = whole(reader.shape());
        (ranges[1], ranges[2]) = (lat_window, lon_window);
        let window = reader.read_block(&ranges)?;
        let days = window.data.view().into_dimensionality::<Ix3>().map_err(TaskError::new)?;
        Ok(tile.apply(days).map_err(TaskError::new)?.into_dyn())
    })
}

/// What both ways of regridding start from: the source's reader, the target grid, the weights, and the output's
/// labels and shape.
struct Regridding {
    reader: VariableReader,
    target_grid: Grid,
    weights: Weights,
    labels: DataArray,
    shape: Vec<usize>,
}

impl Regridding {
    fn open(ctx: &TaskContext, source: &str, grid_of: &str) -> Result<Regridding, TaskError> {
        // Only the target's grid is needed, not its values.
        let target_grid = Grid::from_array(&ctx.read_template(grid_of)?).map_err(TaskError::new)?;
        let reader = ctx.open_input(source)?;
        let source_grid = Grid::from_array(reader.template()).map_err(TaskError::new)?;
        let weights = bilinear_weights(&source_grid, &target_grid, true).map_err(TaskError::new)?;
        let labels = regridded_labels(reader.template(), &target_grid, &weights).map_err(TaskError::new)?;
        let shape = regridded_shape(reader.shape(), &target_grid);
        Ok(Regridding { reader, target_grid, weights, labels, shape })
    }
}
