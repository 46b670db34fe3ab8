//! CF decoding, shared by every backend: missing values, packing, time, coordinate order.

use std::ops::Range;

use ndarray::{ArrayD, IxDyn};

use crate::array::{CoordValues, Coordinate, DataArray, TimeAxis};
use crate::attrs::AttrValue;
use crate::backend::{RawDataset, RawKind, RawVariable};
use crate::blocks::labels_of_block;
use crate::calendar::{Calendar, TimeUnits};
use crate::error::{DataError, Result};
use crate::hyperslab::{StoredAxis, read_decoded};

/// Attributes that describe the encoding on disk, consumed by decoding and not carried to the decoded array.
const ENCODING_ATTRS: [&str; 5] = ["_FillValue", "missing_value", "scale_factor", "add_offset", "coordinates"];

/// Role of a variable in a dataset, for listing and for choosing what to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A physical quantity: numeric, has dimensions, and carries `units` or `standard_name`.
    Data,
    /// A coordinate (dimension coordinate, named in a `coordinates` attribute, or a scalar like `height`).
    Coordinate,
    /// Cell bounds named by a `bounds` attribute.
    Bounds,
    /// Anything else (e.g. NRCan's `time_vectors` helper array): listed, never treated as data.
    Auxiliary,
}

/// Classifies every variable of the dataset.
pub fn roles(ds: &dyn RawDataset) -> Vec<(String, Role)> {
    let vars = ds.variables();
    let referenced = |attr: &str| -> Vec<String> {
        vars.iter()
            .filter_map(|v| v.attrs.get(attr).and_then(AttrValue::as_text))
            .flat_map(|s| s.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .collect()
    };
    let coordinates = referenced("coordinates");
    let bounds = referenced("bounds");
    vars.iter()
        .map(|v| {
            let role = if bounds.contains(&v.name) {
                Role::Bounds
            } else if v.dims.len() == 1 && v.dims[0] == v.name || coordinates.contains(&v.name) || v.dims.is_empty() {
                Role::Coordinate
            } else if matches!(v.kind, RawKind::Float32 | RawKind::Float64 | RawKind::Integer)
                && (v.attrs.contains_key("units") || v.attrs.contains_key("standard_name"))
            {
                Role::Data
            } else {
                Role::Auxiliary
            };
            (v.name.clone(), role)
        })
        .collect()
}

/// The data variables of a dataset, in file order.
pub fn data_variables(ds: &dyn RawDataset) -> Vec<String> {
    roles(ds).into_iter().filter(|(_, r)| *r == Role::Data).map(|(n, _)| n).collect()
}

/// Decodes one variable into a [`DataArray`]: the block that spans every index.
pub fn decode_variable(ds: &dyn RawDataset, name: &str) -> Result<DataArray> {
    let layout = decode_layout(ds, name)?;
    let everything: Vec<Range<usize>> = layout.shape.iter().map(|&n| 0..n).collect();
    layout.read_block(ds, &everything)
}

/// A variable decoded except for its values: the labelled array without data, where each decoded index is stored,
/// and how stored values unpack. Reading everything and reading one block go through this one mapping, so a block
/// is exactly the slice of the whole.
pub(crate) struct DecodedLayout {
    /// Name, dims, coordinates, time and attributes as decoded; `data` holds no values (every axis has length 0).
    pub(crate) template: DataArray,
    /// The decoded shape.
    pub(crate) shape: Vec<usize>,
    /// Per decoded axis, where its values are stored.
    pub(crate) axes: Vec<StoredAxis>,
    pub(crate) unpacking: Unpacking,
}

/// Everything `decode_variable` decides about `name`, without reading its values.
pub(crate) fn decode_layout(ds: &dyn RawDataset, name: &str) -> Result<DecodedLayout> {
    let path = ds.location().display.as_str();
    let raw = ds.variable(name)?;
    if !matches!(raw.kind, RawKind::Float32 | RawKind::Float64 | RawKind::Integer) {
        return Err(DataError::bad_variable(path, name, "is not numeric"));
    }
    let unpacking = Unpacking::of(path, raw)?;

    let mut time = None;
    let mut coords = Vec::new();
    for (dim, &length) in raw.dims.iter().zip(&raw.shape) {
        let Some(coord_var) = ds.variables().iter().find(|v| &v.name == dim && v.dims.len() == 1) else {
            continue;
        };
        if coord_var.shape[0] != length {
            return Err(DataError::Malformed {
                path: path.to_string(),
                detail: format!(
                    "variable '{name}' has {length} steps along '{dim}' but its coordinate has {}",
                    coord_var.shape[0]
                ),
            });
        }
        if is_time(coord_var) {
            time = Some((dim.clone(), decode_time(ds, coord_var)?));
        } else {
            coords.push(read_coordinate(ds, coord_var)?);
        }
    }
    for aux in raw.attrs.get("coordinates").and_then(AttrValue::as_text).unwrap_or("").split_whitespace() {
        if raw.dims.iter().any(|d| d == aux) {
            continue;
        }
        // A `coordinates` entry naming an absent variable is a metadata slip, not a reason to refuse the data.
        if let Some(var) = ds.variables().iter().find(|v| v.name == aux)
            && !is_time(var)
        {
            coords.push(read_coordinate(ds, var)?);
        }
    }
    for scalar in ds.variables().iter().filter(|v| v.dims.is_empty() && matches!(v.name.as_str(), "height" | "plev")) {
        if !coords.iter().any(|c| c.name == scalar.name) {
            coords.push(read_coordinate(ds, scalar)?);
        }
    }

    let mut attrs = raw.attrs.clone();
    for key in ENCODING_ATTRS {
        attrs.remove(key);
    }
    let mut template = DataArray {
        name: name.to_string(),
        source: path.to_string(),
        dims: raw.dims.clone(),
        data: ArrayD::zeros(IxDyn(&vec![0; raw.dims.len()])),
        coords,
        time: None,
        attrs,
        global_attrs: ds.global_attrs().clone(),
    };
    for &n in &raw.shape {
        crate::limits::check_read(path, name, &[n as u64], std::mem::size_of::<usize>() as u64)?;
    }
    let mut axes: Vec<StoredAxis> =
        raw.shape.iter().enumerate().map(|(axis, &n)| StoredAxis { axis, indices: (0..n).collect() }).collect();
    if let Some((time_dim, time)) = time {
        move_axis_first(&mut template, &mut axes, &time_dim);
        template.time = Some(time);
    }
    normalise_latitude(&mut template, &mut axes);
    normalise_longitude(&mut template, &mut axes);
    let shape = axes.iter().map(|a| a.indices.len()).collect();
    Ok(DecodedLayout { template, shape, axes, unpacking })
}

impl DecodedLayout {
    /// The decoded block at `ranges` (one per decoded dimension): labels cut from the template, values read from
    /// the stored hyperslabs behind the block.
    pub(crate) fn read_block(&self, ds: &dyn RawDataset, ranges: &[Range<usize>]) -> Result<DataArray> {
        let mut block = labels_of_block(&self.template, &self.shape, ranges)?;
        block.data = read_decoded(ds, &self.template.name, &self.unpacking, &self.axes, ranges)?;
        Ok(block)
    }
}

/// A variable is a time coordinate when its units read `<unit> since <date>`.
fn is_time(var: &RawVariable) -> bool {
    var.attrs.get("units").and_then(AttrValue::as_text).is_some_and(|u| u.contains(" since "))
}

fn decode_time(ds: &dyn RawDataset, var: &RawVariable) -> Result<TimeAxis> {
    let path = ds.location().display.as_str();
    let calendar_error = |source| DataError::Calendar { path: path.to_string(), variable: var.name.clone(), source };
    let units_text = var.attrs.get("units").and_then(AttrValue::as_text).unwrap_or_default();
    let units = TimeUnits::parse(units_text).map_err(calendar_error)?;
    // CF: a missing calendar attribute means the standard calendar.
    let calendar = match var.attrs.get("calendar").and_then(AttrValue::as_text) {
        Some(name) => Calendar::parse(name).map_err(calendar_error)?,
        None => Calendar::Standard,
    };
    ds.check_stored(&var.name)?;
    let values = ds.read_f64(&var.name)?;
    let dates =
        values.iter().map(|&v| calendar.decode(&units, v)).collect::<Result<Vec<_>, _>>().map_err(calendar_error)?;
    // CF: a coordinate variable is strictly monotonic. A time axis that repeats or goes back is damage (a lost
    // chunk read as fill values) or a file no method can use; either way, not something to carry on with.
    if let Some(step) = dates.windows(2).position(|w| w[0] >= w[1]) {
        return Err(DataError::bad_variable(
            path,
            &var.name,
            format!(
                "time must increase, but step {} ({}) is not after step {step} ({})",
                step + 1,
                dates[step + 1],
                dates[step]
            ),
        ));
    }
    Ok(TimeAxis { calendar, units, dates })
}

fn read_coordinate(ds: &dyn RawDataset, var: &RawVariable) -> Result<Coordinate> {
    ds.check_stored(&var.name)?;
    let values = if var.kind == RawKind::Text {
        CoordValues::Labels(ds.read_labels(&var.name)?)
    } else {
        let values: Vec<f64> = read_unpacked_f64(ds, var)?.iter().copied().collect();
        if var.dims.len() == 1 && var.dims[0] == var.name {
            check_dimension_coordinate(ds.location().display.as_str(), &var.name, &values)?;
        }
        CoordValues::Numbers(values)
    };
    let mut attrs = var.attrs.clone();
    for key in ENCODING_ATTRS {
        attrs.remove(key);
    }
    let bounds = read_bounds(ds, var)?;
    if bounds.is_some() {
        attrs.remove("bounds");
    }
    Ok(Coordinate { name: var.name.clone(), dims: var.dims.clone(), values, attrs, bounds })
}

/// CF: a dimension's coordinate variable has no missing values and is strictly monotonic (either direction). A
/// missing or repeated latitude or longitude is damage, which regridding would otherwise carry silently.
fn check_dimension_coordinate(path: &str, name: &str, values: &[f64]) -> Result<()> {
    if let Some(index) = values.iter().position(|v| !v.is_finite()) {
        return Err(DataError::bad_variable(
            path,
            name,
            format!("coordinate value {index} is {} (missing or not finite)", values[index]),
        ));
    }
    let increasing = values.windows(2).all(|w| w[0] < w[1]);
    let decreasing = values.windows(2).all(|w| w[0] > w[1]);
    if !increasing && !decreasing {
        let step = values.windows(2).position(|w| (w[0] < w[1]) != (values[0] < values[1]) || w[0] == w[1]);
        let step = step.unwrap_or(0);
        return Err(DataError::bad_variable(
            path,
            name,
            format!(
                "coordinate values must be strictly increasing or decreasing, but value {} ({}) follows {}",
                step + 1,
                values[step + 1],
                values[step]
            ),
        ));
    }
    Ok(())
}

/// Cell bounds of a 1-D coordinate, from the variable its `bounds` attribute names, when that variable exists and
/// has shape `(n, 2)`. A dangling `bounds` attribute (CanESM5's `time_bnds`) is ignored, like xarray does.
fn read_bounds(ds: &dyn RawDataset, var: &RawVariable) -> Result<Option<Vec<[f64; 2]>>> {
    let Some(name) = var.attrs.get("bounds").and_then(AttrValue::as_text) else { return Ok(None) };
    let Some(bounds_var) = ds.variables().iter().find(|v| v.name == name) else { return Ok(None) };
    if var.dims.len() != 1 || bounds_var.shape.len() != 2 || bounds_var.shape != [var.shape[0], 2] {
        return Ok(None);
    }
    ds.check_stored(&bounds_var.name)?;
    let values = read_unpacked_f64(ds, bounds_var)?;
    Ok(Some(values.rows().into_iter().map(|row| [row[0], row[1]]).collect()))
}

fn fill_values(var: &RawVariable) -> Vec<f64> {
    ["_FillValue", "missing_value"]
        .iter()
        .filter_map(|k| var.attrs.get(*k))
        .flat_map(|v| match v {
            AttrValue::Numbers(list) => list.clone(),
            other => other.as_number().into_iter().collect(),
        })
        .collect()
}

/// How stored values become decoded ones: the markers of missing values and the linear packing.
pub(crate) struct Unpacking {
    /// Float32 data without packing is read as float32 and only masked, keeping its bits.
    float32_as_stored: bool,
    fills: Vec<f64>,
    scale: f64,
    offset: f64,
}

impl Unpacking {
    fn of(path: &str, var: &RawVariable) -> Result<Unpacking> {
        let packed = var.attrs.contains_key("scale_factor") || var.attrs.contains_key("add_offset");
        let number = |key: &str, default: f64| -> Result<f64> {
            match var.attrs.get(key) {
                None => Ok(default),
                Some(v) => v
                    .as_number()
                    .ok_or_else(|| DataError::bad_variable(path, &var.name, format!("{key} is not a number"))),
            }
        };
        Ok(Unpacking {
            float32_as_stored: var.kind == RawKind::Float32 && !packed,
            fills: fill_values(var),
            scale: number("scale_factor", 1.0)?,
            offset: number("add_offset", 0.0)?,
        })
    }

    /// The stored hyperslab `start..start + count` of `name` as float32 with missing values as NaN. Packed data and
    /// integers are read as f64 first: the fill value must be compared with the stored value, before unpacking.
    pub(crate) fn read_f32(
        &self,
        ds: &dyn RawDataset,
        name: &str,
        start: &[usize],
        count: &[usize],
    ) -> Result<ArrayD<f32>> {
        if self.float32_as_stored {
            let fills: Vec<f32> = self.fills.iter().map(|&f| f as f32).collect();
            let mut data = ds.read_f32_region(name, start, count)?;
            if !fills.is_empty() {
                data.mapv_inplace(|x| if fills.contains(&x) { f32::NAN } else { x });
            }
            return Ok(data);
        }
        Ok(self.read_f64(ds, name, start, count)?.mapv(|x| x as f32))
    }

    fn read_f64(&self, ds: &dyn RawDataset, name: &str, start: &[usize], count: &[usize]) -> Result<ArrayD<f64>> {
        let mut data = ds.read_f64_region(name, start, count)?;
        let Unpacking { fills, scale, offset, .. } = self;
        data.mapv_inplace(|x| if fills.contains(&x) || x.is_nan() { f64::NAN } else { x * scale + offset });
        Ok(data)
    }
}

/// Every value of `var` as f64, missing values as NaN and packed values unpacked (coordinates, bounds).
pub(crate) fn read_unpacked_f64(ds: &dyn RawDataset, var: &RawVariable) -> Result<ArrayD<f64>> {
    let unpacking = Unpacking::of(ds.location().display.as_str(), var)?;
    unpacking.read_f64(ds, &var.name, &vec![0; var.shape.len()], &var.shape)
}

/// Moves the time dimension first; the stored axis it maps to moves with it.
fn move_axis_first(array: &mut DataArray, axes: &mut Vec<StoredAxis>, dim: &str) {
    let Some(axis) = array.axis_of(dim) else { return };
    let name = array.dims.remove(axis);
    array.dims.insert(0, name);
    let stored = axes.remove(axis);
    axes.insert(0, stored);
}

fn is_axis(coord: &Coordinate, names: &[&str], standard_name: &str, units: &str) -> bool {
    let text = |k: &str| coord.attrs.get(k).and_then(AttrValue::as_text).unwrap_or("");
    names.contains(&coord.name.as_str()) || text("standard_name") == standard_name || text("units") == units
}

/// The dimension coordinate for latitude or longitude, if the array has one.
fn dimension_axis(array: &DataArray, names: &[&str], standard_name: &str, units: &str) -> Option<(usize, usize)> {
    array.coords.iter().enumerate().find_map(|(ci, c)| {
        let is_dim = c.dims.len() == 1 && c.dims[0] == c.name;
        let axis = array.axis_of(&c.name)?;
        (is_dim && is_axis(c, names, standard_name, units)).then_some((ci, axis))
    })
}

/// Reorders a dimension coordinate (values and bounds) and the stored indices of its axis by `order`.
fn reorder_axis(array: &mut DataArray, axes: &mut [StoredAxis], coord_index: usize, axis: usize, order: &[usize]) {
    let indices = &mut axes[axis].indices;
    *indices = order.iter().map(|&i| indices[i]).collect();
    let coord = &mut array.coords[coord_index];
    coord.values = coord.values.reordered(order);
    if let Some(bounds) = &coord.bounds {
        coord.bounds = Some(order.iter().map(|&i| bounds[i]).collect());
    }
}

/// North→south latitudes (ERA5, NRCan) are flipped so every grid is ascending.
fn normalise_latitude(array: &mut DataArray, axes: &mut [StoredAxis]) {
    let Some((ci, axis)) = dimension_axis(array, &["lat", "latitude"], "latitude", "degrees_north") else { return };
    let Some(values) = array.coords[ci].values.numbers() else { return };
    if values.len() > 1 && values[0] > values[values.len() - 1] {
        let order: Vec<usize> = (0..values.len()).rev().collect();
        reorder_axis(array, axes, ci, axis, &order);
    }
}

/// 0–360 longitudes (CMIP models) move to [-180, 180) and are sorted, the convention of the observations.
fn normalise_longitude(array: &mut DataArray, axes: &mut [StoredAxis]) {
    let names = ["lon", "longitude"];
    if let Some((ci, axis)) = dimension_axis(array, &names, "longitude", "degrees_east") {
        let Some(values) = array.coords[ci].values.numbers().map(<[f64]>::to_vec) else { return };
        let wrapped: Vec<f64> = values.iter().map(|&x| wrap_longitude(x)).collect();
        let mut order: Vec<usize> = (0..wrapped.len()).collect();
        order.sort_by(|&a, &b| wrapped[a].total_cmp(&wrapped[b]));
        // Bounds move with their centre, so a cell straddling the date line keeps its width.
        if let Some(bounds) = &mut array.coords[ci].bounds {
            for (cell, (&old, &new)) in bounds.iter_mut().zip(values.iter().zip(&wrapped)) {
                cell.iter_mut().for_each(|b| *b += new - old);
            }
        }
        array.coords[ci].values = CoordValues::Numbers(wrapped);
        if order.iter().enumerate().any(|(i, &o)| i != o) {
            reorder_axis(array, axes, ci, axis, &order);
        }
    }
    // Auxiliary longitudes (station coordinates) are wrapped in place; nothing to sort.
    for coord in array.coords.iter_mut().filter(|c| !(c.dims.len() == 1 && c.dims[0] == c.name)) {
        if is_axis(coord, &names, "longitude", "degrees_east")
            && let CoordValues::Numbers(values) = &mut coord.values
        {
            values.iter_mut().for_each(|x| *x = wrap_longitude(*x));
        }
    }
}

/// Maps a longitude to [-180, 180).
pub fn wrap_longitude(lon: f64) -> f64 {
    (lon + 180.0).rem_euclid(360.0) - 180.0
}

/// Convenience: open `location` (path or URL) and decode `variable`.
pub fn read_variable(location: &str, variable: &str) -> Result<DataArray> {
    read_variable_at(&crate::location::Location::parse(location)?, variable)
}

/// [`read_variable`] of a location already resolved (with its object store's client).
pub fn read_variable_at(location: &crate::location::Location, variable: &str) -> Result<DataArray> {
    let ds = crate::backend::open(location)?;
    decode_variable(ds.as_ref(), variable)
}
