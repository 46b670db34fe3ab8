//! The land mask of the obs grid as an artifact of its own: Natural Earth 1:10m land buffered in degrees (the
//! original's mask). Parsing the world's coastlines is a noticeable share of a regional run, and the mask depends
//! only on the grid, so a run that changes the prediction years finds it cached.

use downscale_data::{AttrValue, DataArray};
use downscale_engine::TaskError;
use downscale_regrid::Grid;
use downscale_regrid::mask::{LandPolygons, land_from_polygons};
use ndarray::{Array2, Ix2};

/// The mask of the `(time, lat, lon)` array `template`'s grid: 1 on land, 0 elsewhere, on its `(lat, lon)`.
pub fn land_mask(template: &DataArray, buffer_degrees: f64) -> Result<DataArray, TaskError> {
    let grid = Grid::from_array(template).map_err(TaskError::new)?;
    let polygons = LandPolygons::natural_earth_10m_near(&grid, buffer_degrees).map_err(TaskError::new)?;
    let land = land_from_polygons(&grid, &polygons, buffer_degrees);
    let spatial = template.dims.len().saturating_sub(2);
    let dims = template.dims[spatial..].to_vec();
    let mut attrs = downscale_data::Attributes::new();
    let long_name = format!("land (Natural Earth 1:10m buffered by {buffer_degrees} degrees)");
    attrs.insert("long_name".into(), AttrValue::Text(long_name));
    attrs.insert("units".into(), AttrValue::Text("1".into()));
    Ok(DataArray {
        name: "land".into(),
        source: template.source.clone(),
        coords: template.coords.iter().filter(|c| c.dims.iter().all(|d| dims.contains(d))).cloned().collect(),
        dims,
        data: land.mapv(|is_land| if is_land { 1.0f32 } else { 0.0 }).into_dyn(),
        time: None,
        attrs,
        global_attrs: Default::default(),
    })
}

/// The mask as booleans, from its artifact.
pub fn as_land(mask: &DataArray) -> Result<Array2<bool>, TaskError> {
    let values = mask.data.view().into_dimensionality::<Ix2>().map_err(TaskError::new)?;
    Ok(values.mapv(|v| v > 0.5))
}
