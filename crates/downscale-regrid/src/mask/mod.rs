//! Land masks and region rasters on any [`Grid`](crate::Grid).
//!
//! Three sources for three uses: an observational data set's own valid cells (where the observations exist is
//! where a product trained on them can be trusted), Natural Earth 1:10m land polygons with an optional buffer in
//! degrees (a land mask independent of any data set, widened so that coastal cells keep their values, as the
//! original system's 1° shapely buffer did), and the AR6 reference land regions (for per-region statistics,
//! numbered as regionmask numbers them so that results can be compared with the original one to one).
//!
//! All outputs have the grid's shape `(lat.len(), lon.len())`, row-major with latitude slowest, like the data.
//! Polygon files are vendored under `data/static/` (see its README) so that no mask needs a network connection.

mod antimeridian;
mod ar6;
mod polygons;
mod raster;
mod topojson;

use downscale_data::DataArray;
use ndarray::{Array2, Axis};

use crate::error::{RegridError, Result};

pub use ar6::Ar6Regions;
pub use polygons::LandPolygons;
pub use raster::land_from_polygons;

/// A cell is land when the array has at least one non-NaN value there, over every dimension other than latitude
/// and longitude (usually time).
///
/// Observational products are only defined over land (E-OBS, for example, has no values over the sea), so their
/// valid cells are the most faithful land mask for anything derived from them. One valid day suffices because
/// station coverage changes over the years and a cell with any value is inside the product's domain.
///
/// The array may have a time dimension or not; latitude and longitude are found by name (`lat`/`latitude`,
/// `lon`/`longitude`), so an array without both is an error rather than a guess.
pub fn land_from_valid_cells(array: &DataArray) -> Result<Array2<bool>> {
    let find = |names: &[&str]| array.dims.iter().position(|d| names.contains(&d.as_str()));
    let (Some(lat_axis), Some(lon_axis)) = (find(&["lat", "latitude"]), find(&["lon", "longitude"])) else {
        return Err(RegridError::Other {
            what: array.source.clone(),
            detail: format!(
                "{}: no lat and lon dimensions to build a land mask on (dims {:?})",
                array.name, array.dims
            ),
        });
    };
    let shape = array.data.shape();
    let (n_lat, n_lon) = (shape[lat_axis], shape[lon_axis]);
    let mut land = Array2::from_elem((n_lat, n_lon), false);
    for (i, lat_slice) in array.data.axis_iter(Axis(lat_axis)).enumerate() {
        // Removing the latitude axis shifts the longitude axis down by one when it came after it.
        let lon_in_slice = if lon_axis > lat_axis { lon_axis - 1 } else { lon_axis };
        for (j, cell) in lat_slice.axis_iter(Axis(lon_in_slice)).enumerate() {
            land[[i, j]] = cell.iter().any(|v| !v.is_nan());
        }
    }
    Ok(land)
}
