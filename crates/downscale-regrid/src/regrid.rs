//! Regridding a labelled array: weights applied to every time step, coordinates replaced by the target grid's.

use downscale_data::{AttrValue, CoordValues, Coordinate, DataArray};
use ndarray::{Ix3, IxDyn};

use crate::error::{RegridError, Result};
use crate::grid::Grid;
use crate::weights::Weights;

/// Regrids `array` (dims `(time, lat, lon)` or `(lat, lon)`) onto `target` with `weights`.
pub fn regrid_array(array: &DataArray, target: &Grid, weights: &Weights) -> Result<DataArray> {
    let labels = regridded_labels(array, target, weights)?;
    let (ny, nx) = weights.source_shape;
    let steps = if array.dims.len() == 3 { array.shape()[0] } else { 1 };
    let standard = array.data.as_standard_layout();
    let data = standard
        .view()
        .into_shape_with_order(IxDyn(&[steps, ny, nx]))
        .and_then(|v| v.into_dimensionality::<Ix3>())
        .map_err(|_| RegridError::Other {
            what: array.source.clone(),
            detail: format!(
                "variable '{}' of shape {:?} does not match the weights' {ny}x{nx} source grid",
                array.name,
                array.shape()
            ),
        })?;
    let regridded = weights.apply(data)?;
    let data = regridded
        .into_shape_with_order(IxDyn(&regridded_shape(array.shape(), target)))
        .map_err(|e| RegridError::Other { what: array.source.clone(), detail: e.to_string() })?;
    Ok(labels.with_data(data))
}

/// The labels of `array` regridded onto `target` (its data left empty): coordinates on the old grid's dims (lat,
/// lon, their bounds) replaced by the target's, scalar and time ones kept. For writers that regrid block by block;
/// `array` may be a reader's template.
pub fn regridded_labels(array: &DataArray, target: &Grid, weights: &Weights) -> Result<DataArray> {
    let spatial_dims = &array.dims[array.dims.len().saturating_sub(2)..];
    let (lat_dim, lon_dim) = match spatial_dims {
        [lat, lon] => (lat.clone(), lon.clone()),
        _ => return Err(not_gridded(array)),
    };
    if array.dims.len() > 3 || (array.dims.len() == 3 && array.time.is_none()) {
        return Err(not_gridded(array));
    }
    let mut out = array.with_data(ndarray::ArrayD::zeros(vec![0; array.dims.len()]));
    out.coords.retain(|c| !c.dims.iter().any(|d| *d == lat_dim || *d == lon_dim));
    out.coords.push(axis_coordinate(&lat_dim, &target.lat, &target.lat_edges, "latitude", "degrees_north", "Y"));
    out.coords.push(axis_coordinate(&lon_dim, &target.lon, &target.lon_edges, "longitude", "degrees_east", "X"));
    out.attrs.insert("regrid_method".into(), AttrValue::Text(weights.method.name().into()));
    Ok(out)
}

/// The shape of an array of `shape` regridded onto `target`: the last two axes become the target's.
pub fn regridded_shape(shape: &[usize], target: &Grid) -> Vec<usize> {
    let (ty, tx) = target.shape();
    let mut shape = shape.to_vec();
    let n = shape.len();
    shape[n - 2] = ty;
    shape[n - 1] = tx;
    shape
}

fn not_gridded(array: &DataArray) -> RegridError {
    RegridError::Other {
        what: array.source.clone(),
        detail: format!("variable '{}' with dims {:?} is not on a (time, lat, lon) grid", array.name, array.dims),
    }
}

fn axis_coordinate(
    name: &str,
    centres: &[f64],
    edges: &[f64],
    standard_name: &str,
    units: &str,
    axis: &str,
) -> Coordinate {
    let text = |s: &str| AttrValue::Text(s.to_string());
    Coordinate {
        name: name.to_string(),
        dims: vec![name.to_string()],
        values: CoordValues::Numbers(centres.to_vec()),
        attrs: [("standard_name", text(standard_name)), ("units", text(units)), ("axis", text(axis))]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        bounds: Some(edges.windows(2).map(|w| [w[0], w[1]]).collect()),
    }
}
