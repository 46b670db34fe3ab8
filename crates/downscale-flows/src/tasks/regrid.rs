//! Bilinear regridding with nearest-source extrapolation (xESMF `bilinear` + `nearest_s2d`, the original's choice
//! everywhere) of one input onto the grid of another, streamed over blocks of days or over tiles of the target.

use std::ops::Range;

use downscale_data::select::whole;
use downscale_data::{DataArray, VariableReader, WriteOptions};
use downscale_engine::{TaskContext, TaskError};
use downscale_regrid::{Grid, Weights, bilinear_weights, regrid_array, regridded_labels, regridded_shape};

use ndarray::{ArrayD, Ix3};

use crate::tasks::blocks::map_time_blocks;

/// Writes input `source` regridded onto the grid of input `grid_of` as the task's artifact.
pub fn regrid_onto(ctx: &TaskContext, source: &str, grid_of: &str, options: &WriteOptions) -> Result<(), TaskError> {
    let Regridding { reader, target_grid, weights, labels, shape } = Regridding::open(ctx, source, grid_of)?;
    map_time_blocks(ctx, &reader, &whole(reader.shape()), &labels, &shape, options, |block| {
        Ok(regrid_array(&block, &target_grid, &weights).map_err(TaskError::new)?.data)
    })
}

/// Regridding onto tiles of the target for a task that goes on with each tile (sharded tasks writing whole-series
/// chunks): a tile's values come from its window of the source at every step, so a fine field of whole series is
/// made tile by tile without ever being held whole, rechunked or stored as an intermediate.
pub struct TileRegridding {
    source: String,
    weights: Weights,
    /// The regridded field's labels: the source's time axis and attributes on the target grid.
    pub labels: DataArray,
    /// The regridded field's shape.
    pub shape: Vec<usize>,
}

impl TileRegridding {
    /// Regridding of input `source` onto the grid of input `grid_of`; reads only labels.
    pub fn new(ctx: &TaskContext, source: &str, grid_of: &str) -> Result<TileRegridding, TaskError> {
        let target_grid = Grid::from_array(&ctx.read_template(grid_of)?).map_err(TaskError::new)?;
        let (template, source_shape) = ctx.input_labels(source)?;
        let source_grid = Grid::from_array(&template).map_err(TaskError::new)?;
        let weights = bilinear_weights(&source_grid, &target_grid, true).map_err(TaskError::new)?;
        let labels = regridded_labels(&template, &target_grid, &weights).map_err(TaskError::new)?;
        let shape = regridded_shape(&source_shape, &target_grid);
        Ok(TileRegridding { source: source.to_string(), weights, labels, shape })
    }

    /// The regridded values of the target cells `lat × lon` at every step, bit for bit those of the whole field
    /// regridded at once.
    pub fn tile(&self, ctx: &TaskContext, lat: Range<usize>, lon: Range<usize>) -> Result<ArrayD<f32>, TaskError> {
        let (tile, [lat_window, lon_window]) = self.weights.tile(lat, lon);
        let window = [0..self.shape[0], lat_window, lon_window];
        let values = ctx.open_input_region(&self.source, &window)?.read_block(&window)?;
        let days = values.data.view().into_dimensionality::<Ix3>().map_err(TaskError::new)?;
        Ok(tile.apply(days).map_err(TaskError::new)?.into_dyn())
    }
}

/// Regridding by blocks of days: the source's reader, the target grid, the weights, and the output's labels and
/// shape.
pub struct Regridding {
    reader: VariableReader,
    target_grid: Grid,
    weights: Weights,
    labels: DataArray,
    shape: Vec<usize>,
}

impl Regridding {
    /// Regridding of input `source` onto the grid of input `grid_of`.
    pub fn open(ctx: &TaskContext, source: &str, grid_of: &str) -> Result<Regridding, TaskError> {
        // Only the target's grid is needed, not its values.
        let target_grid = Grid::from_array(&ctx.read_template(grid_of)?).map_err(TaskError::new)?;
        let reader = ctx.open_input(source)?;
        let source_grid = Grid::from_array(reader.template()).map_err(TaskError::new)?;
        let weights = bilinear_weights(&source_grid, &target_grid, true).map_err(TaskError::new)?;
        let labels = regridded_labels(reader.template(), &target_grid, &weights).map_err(TaskError::new)?;
        let shape = regridded_shape(reader.shape(), &target_grid);
        Ok(Regridding { reader, target_grid, weights, labels, shape })
    }

    /// The regridded field's shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The regridded field on the days `days`, for a task that goes on with it block by block instead of storing
    /// it: the same values as the whole field regridded at once, day by day.
    pub fn days(&self, days: Range<usize>) -> Result<DataArray, TaskError> {
        let mut ranges = whole(self.reader.shape());
        ranges[0] = days;
        let block = self.reader.read_block(&ranges)?;
        regrid_array(&block, &self.target_grid, &self.weights).map_err(TaskError::new)
    }
}
