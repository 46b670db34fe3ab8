//! The labelled array: one decoded variable with named dimensions, coordinates, CF attributes and a calendar-aware
//! time axis — the unit every reader produces and every writer and method consumes.

use ndarray::{ArrayD, Axis};

use crate::attrs::Attributes;
use crate::calendar::{Calendar, CfDateTime, TimeUnits};

/// Values of a coordinate. Station files label points with strings; everything else is numeric.
#[derive(Debug, Clone, PartialEq)]
pub enum CoordValues {
    /// Numeric values, in the coordinate's units (degrees for latitude and longitude).
    Numbers(Vec<f64>),
    /// Text labels, e.g. station names.
    Labels(Vec<String>),
}

impl CoordValues {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            CoordValues::Numbers(v) => v.len(),
            CoordValues::Labels(v) => v.len(),
        }
    }

    /// Whether there is no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values when numeric; `None` for labels.
    pub fn numbers(&self) -> Option<&[f64]> {
        match self {
            CoordValues::Numbers(v) => Some(v),
            CoordValues::Labels(_) => None,
        }
    }

    /// The values at `order` (used to reorder a coordinate together with its data).
    pub(crate) fn reordered(&self, order: &[usize]) -> CoordValues {
        match self {
            CoordValues::Numbers(v) => CoordValues::Numbers(order.iter().map(|&i| v[i]).collect()),
            CoordValues::Labels(v) => CoordValues::Labels(order.iter().map(|&i| v[i].clone()).collect()),
        }
    }
}

/// A coordinate variable: a dimension coordinate (`lat(lat)`), an auxiliary one (`lat(location)`) or a scalar
/// (`height`, `plev`: no dims, one value).
#[derive(Debug, Clone, PartialEq)]
pub struct Coordinate {
    /// The coordinate variable's name.
    pub name: String,
    /// Its dimensions: its own name for a dimension coordinate, none for a scalar.
    pub dims: Vec<String>,
    /// Its values, row-major over `dims`.
    pub values: CoordValues,
    /// Its attributes (`units`, `standard_name`, `axis`).
    pub attrs: Attributes,
    /// Cell bounds `[lower, upper]` per value, when the file provides them (`lat_bnds`): regridding needs true
    /// cell edges, which midpoints only approximate on Gaussian grids.
    pub bounds: Option<Vec<[f64; 2]>>,
}

impl Coordinate {
    /// The coordinate's shape inside an array with dimensions `dims` of lengths `shape`: the array's length on the
    /// array's dimensions, while a dimension the array lacks takes the rest of the values (one such dimension at
    /// most). An error when the values do not fill that shape.
    pub(crate) fn shape_in(&self, dims: &[String], shape: &[usize]) -> Result<Vec<usize>, String> {
        let lengths: Vec<Option<usize>> =
            self.dims.iter().map(|d| dims.iter().position(|a| a == d).map(|axis| shape[axis])).collect();
        let known: usize = lengths.iter().flatten().product();
        let rest = self.values.len().checked_div(known).unwrap_or(0);
        let coord_shape: Vec<usize> = lengths.iter().map(|n| n.unwrap_or(rest)).collect();
        let unknown = lengths.iter().filter(|n| n.is_none()).count();
        if unknown > 1 || coord_shape.iter().product::<usize>() != self.values.len() {
            return Err(format!(
                "coordinate '{}' has {} values for shape {coord_shape:?}",
                self.name,
                self.values.len()
            ));
        }
        Ok(coord_shape)
    }
}

/// A decoded time axis: what the numbers meant (units, calendar) and the dates they decode to.
///
/// The original system replaced time axes with a contiguous date range and so lost gaps and calendars; keeping the
/// calendar next to real dates is what lets calendar conversion be explicit.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeAxis {
    /// The CF calendar the dates are in.
    pub calendar: Calendar,
    /// The encoding found in the source file (kept for provenance; writers choose their own).
    pub units: TimeUnits,
    /// One date per step of the time dimension, strictly increasing.
    pub dates: Vec<CfDateTime>,
}

/// One variable, decoded: `data` is float32 with NaN for missing values, packed values unpacked, latitude ascending
/// and longitude in [-180, 180) ascending; the time dimension, when there is one, comes first.
#[derive(Debug, Clone, PartialEq)]
pub struct DataArray {
    /// The variable's name.
    pub name: String,
    /// The file or store it was read from (or will be written to), for error messages and provenance.
    pub source: String,
    /// Dimension names, in the order of `data`'s axes; time first when there is a time axis.
    pub dims: Vec<String>,
    /// The values, NaN where missing.
    pub data: ArrayD<f32>,
    /// Coordinates other than time (time lives in `time`).
    pub coords: Vec<Coordinate>,
    /// The decoded time axis of the first dimension; `None` for an array without time.
    pub time: Option<TimeAxis>,
    /// Variable attributes, minus the encoding ones the decoder consumed (`_FillValue`, `scale_factor`, ...).
    pub attrs: Attributes,
    /// Global attributes of the file the variable came from.
    pub global_attrs: Attributes,
}

impl DataArray {
    /// The array's labels (name, dims, coordinates, time axis, attributes) with other values: what `clone` then
    /// replacing `data` gives, without copying the old values first.
    pub fn with_data(&self, data: ArrayD<f32>) -> DataArray {
        DataArray {
            name: self.name.clone(),
            source: self.source.clone(),
            dims: self.dims.clone(),
            data,
            coords: self.coords.clone(),
            time: self.time.clone(),
            attrs: self.attrs.clone(),
            global_attrs: self.global_attrs.clone(),
        }
    }

    /// Lengths of the dimensions, in the order of `dims`.
    pub fn shape(&self) -> &[usize] {
        self.data.shape()
    }

    /// The axis of dimension `dim`; `None` when the array lacks it.
    pub fn axis_of(&self, dim: &str) -> Option<usize> {
        self.dims.iter().position(|d| d == dim)
    }

    /// The coordinate named `name` (not time, which is [`DataArray::time`]).
    pub fn coord(&self, name: &str) -> Option<&Coordinate> {
        self.coords.iter().find(|c| c.name == name)
    }

    /// The name of the time dimension (the first), when the array has a time axis.
    pub fn time_dim(&self) -> Option<&str> {
        self.time.as_ref().map(|_| self.dims[0].as_str())
    }

    /// The `units` attribute, as written (see [`crate::units`] for the canonical form).
    pub fn units(&self) -> Option<&str> {
        self.attrs.get("units").and_then(|v| v.as_text())
    }

    /// Number and share of missing (NaN) values.
    pub fn missing(&self) -> (usize, f64) {
        let missing = self.data.iter().filter(|x| x.is_nan()).count();
        let share = if self.data.is_empty() { 0.0 } else { missing as f64 / self.data.len() as f64 };
        (missing, share)
    }

    /// Mean over all non-missing values (f64 accumulation: a year of a 1/12° field has ~5e6 values).
    pub fn valid_mean(&self) -> Option<f64> {
        let (sum, count) =
            self.data.iter().filter(|x| !x.is_nan()).fold((0.0f64, 0usize), |(s, n), &x| (s + f64::from(x), n + 1));
        (count > 0).then(|| sum / count as f64)
    }

    /// The data as a `(first dimension, everything else)` matrix: for a time series, one row per time step and one
    /// column per point, whatever the other dimensions (`(time, location)`, `(time, lat, lon)`).
    pub fn time_point_matrix(&self) -> ndarray::Array2<f32> {
        let rows = self.shape().first().copied().unwrap_or(1);
        let points = self.data.len() / rows.max(1);
        self.data
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order((rows, points))
            .expect("a standard-layout array reshapes to (rows, rest)")
    }

    /// Keeps the time steps at `indices` (in that order).
    pub fn select_time(&self, indices: &[usize]) -> DataArray {
        let mut out = self.with_data(self.data.select(Axis(0), indices));
        if let Some(time) = &mut out.time {
            time.dates = indices.iter().map(|&i| time.dates[i]).collect();
        }
        out
    }
}
