//! The daily `(time, lat, lon)` fields an evaluation reads: a store read in bands of latitude rows (so a large
//! output is read once, chunk row by chunk row, never whole), or an array already in memory.

use std::ops::Range;

use downscale_data::{DataArray, VariableReader};
use ndarray::{Array3, Ix3};

use crate::days::Days;
use crate::error::EvaluateError;

/// A daily field on a latitude-longitude grid.
pub enum Field {
    /// A variable of a Zarr store or NetCDF file, read band by band.
    Stored(VariableReader),
    /// An array in memory.
    InMemory(DataArray),
}

/// A field's grid: cell-centre latitudes and longitudes, degrees, ascending.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Grid {
    pub(crate) lat: Vec<f64>,
    pub(crate) lon: Vec<f64>,
}

impl Grid {
    /// Number of cells.
    pub(crate) fn cells(&self) -> usize {
        self.lat.len() * self.lon.len()
    }
}

impl Field {
    /// Opens `variable` of the store or file at `location`.
    pub fn open(location: &str, variable: &str) -> Result<Field, EvaluateError> {
        Ok(Field::Stored(VariableReader::open(location, variable)?))
    }

    /// The array's labels (no values needed).
    pub(crate) fn template(&self) -> &DataArray {
        match self {
            Field::Stored(reader) => reader.template(),
            Field::InMemory(array) => array,
        }
    }

    /// The array, when the field is in memory.
    pub fn in_memory(&self) -> Option<&DataArray> {
        match self {
            Field::Stored(_) => None,
            Field::InMemory(array) => Some(array),
        }
    }

    /// The store or file it comes from.
    pub fn source(&self) -> &str {
        &self.template().source
    }

    /// The variable's name.
    pub fn variable(&self) -> &str {
        &self.template().name
    }

    /// The variable's `units` attribute, when it has one.
    pub fn units(&self) -> Option<&str> {
        self.template().units()
    }

    /// The global attributes of its store.
    pub fn global_attrs(&self) -> &downscale_data::Attributes {
        &self.template().global_attrs
    }

    fn shape(&self) -> &[usize] {
        match self {
            Field::Stored(reader) => reader.shape(),
            Field::InMemory(array) => array.shape(),
        }
    }

    /// Its grid; an error unless it is `(time, lat, lon)` with numeric coordinates.
    pub(crate) fn grid(&self) -> Result<Grid, EvaluateError> {
        let template = self.template();
        let not_a_grid = |detail: &str| {
            EvaluateError::data(
                self.source(),
                format!("variable '{}' {detail}: a daily (time, lat, lon) field is needed", template.name),
            )
        };
        if template.dims.len() != 3 || template.time.is_none() {
            return Err(not_a_grid(&format!("has dimensions ({})", template.dims.join(", "))));
        }
        let numbers = |dim: &str| {
            template
                .coord(dim)
                .and_then(|c| c.values.numbers())
                .map(<[f64]>::to_vec)
                .ok_or_else(|| not_a_grid(&format!("has no numeric coordinate for dimension '{dim}'")))
        };
        Ok(Grid { lat: numbers(&template.dims[1])?, lon: numbers(&template.dims[2])? })
    }

    /// Whether its record holds days of both `years` (inclusive), first and last.
    pub fn holds_years(&self, (first, last): (i32, i32)) -> Result<bool, EvaluateError> {
        let days = self.days()?;
        let held = |year: i32| days.dates().iter().any(|d| d.year == year);
        Ok(held(first) && held(last))
    }

    /// Whether each cell (row-major) has at least one value, read band by band.
    pub fn cells_with_values(&self) -> Result<Vec<bool>, EvaluateError> {
        let grid = self.grid()?;
        let band_rows = crate::qa::band_rows(self)?;
        let mut present = Vec::with_capacity(grid.cells());
        for first in (0..grid.lat.len()).step_by(band_rows) {
            let band = self.read_rows(first..(first + band_rows).min(grid.lat.len()))?;
            let (_, rows, columns) = band.dim();
            for row in 0..rows {
                for column in 0..columns {
                    present.push(band.slice(ndarray::s![.., row, column]).iter().any(|v| v.is_finite()));
                }
            }
        }
        Ok(present)
    }

    /// Its days.
    pub(crate) fn days(&self) -> Result<Days, EvaluateError> {
        let time = self
            .template()
            .time
            .as_ref()
            .ok_or_else(|| EvaluateError::data(self.source(), "the variable has no time axis"))?;
        Days::new(self.source(), time.calendar, time.dates.clone())
    }

    /// The daily series of one cell (row, column).
    pub(crate) fn read_cell(&self, (row, column): (usize, usize)) -> Result<Vec<f32>, EvaluateError> {
        let ranges = [0..self.shape()[0], row..row + 1, column..column + 1];
        let block = match self {
            Field::Stored(reader) => reader.read_block(&ranges)?,
            Field::InMemory(array) => array.block(&ranges)?,
        };
        Ok(block.data.iter().copied().collect())
    }

    /// The dates of its days, `YYYY-MM-DD`.
    pub fn iso_dates(&self) -> Result<Vec<String>, EvaluateError> {
        Ok(self.days()?.dates().iter().map(crate::skill::iso_date).collect())
    }

    /// The values of latitude rows `rows`, every day and longitude: `(time, row, lon)`.
    pub(crate) fn read_rows(&self, rows: Range<usize>) -> Result<Array3<f32>, EvaluateError> {
        let ranges = [0..self.shape()[0], rows, 0..self.shape()[2]];
        let block = match self {
            Field::Stored(reader) => reader.read_block(&ranges)?,
            Field::InMemory(array) => array.block(&ranges)?,
        };
        block
            .data
            .into_dimensionality::<Ix3>()
            .map_err(|e| EvaluateError::data(self.source(), format!("a block is not three-dimensional: {e}")))
    }
}
