//! Rectilinear latitude/longitude grids and their cells.
//!
//! A grid is two ascending axes of cell centres plus the cell edges along each axis. Edges come from the file's
//! bounds when it has them; otherwise they are the midpoints between centres, with the outer edges half a spacing
//! beyond the outer centres (clipped to the poles). This is the same rule `cdo` applies to grids without bounds,
//! which is what makes our weights comparable with its weights.

use downscale_data::DataArray;

use crate::error::{RegridError, Result};

/// Tolerance, in degrees, for deciding that longitudes wrap around the globe and that a grid spans the poles.
const GLOBAL_TOLERANCE_DEGREES: f64 = 1e-6;

/// A rectilinear latitude/longitude grid: ascending cell centres and their edges, in degrees. Cells are numbered
/// row-major, latitude slowest, in weights and masks.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// A name for messages (the file the grid came from, or a description).
    pub name: String,
    /// Cell-centre latitudes, ascending, degrees north.
    pub lat: Vec<f64>,
    /// Cell-centre longitudes, ascending, degrees east.
    pub lon: Vec<f64>,
    /// `lat.len() + 1` cell edges, ascending, within [-90, 90].
    pub lat_edges: Vec<f64>,
    /// `lon.len() + 1` cell edges, ascending; `lon_edges[n] - lon_edges[0]` is 360 on a periodic grid.
    pub lon_edges: Vec<f64>,
    /// Longitudes close around the globe (the last cell's east edge is the first cell's west edge).
    pub periodic: bool,
}

impl Grid {
    /// A grid from cell centres, with edges derived as midpoints.
    pub fn from_centres(name: &str, lat: Vec<f64>, lon: Vec<f64>) -> Result<Grid> {
        check_axis(name, "lat", &lat)?;
        check_axis(name, "lon", &lon)?;
        if lat.iter().any(|&y| !(-90.0..=90.0).contains(&y)) {
            return Err(bad(name, "latitudes must lie within [-90, 90]"));
        }
        let lat_edges = midpoint_edges(&lat).into_iter().map(|e| e.clamp(-90.0, 90.0)).collect();
        let lon_edges = midpoint_edges(&lon);
        Grid::from_edges(name, lat, lon, lat_edges, lon_edges)
    }

    /// A grid from centres and explicit edges (e.g. from `lat_bnds`/`lon_bnds`).
    pub fn from_edges(
        name: &str,
        lat: Vec<f64>,
        lon: Vec<f64>,
        lat_edges: Vec<f64>,
        lon_edges: Vec<f64>,
    ) -> Result<Grid> {
        check_axis(name, "lat", &lat)?;
        check_axis(name, "lon", &lon)?;
        if lat_edges.len() != lat.len() + 1 || lon_edges.len() != lon.len() + 1 {
            return Err(bad(name, "cell edges must number one more than cell centres"));
        }
        if lat_edges.windows(2).any(|w| w[0] >= w[1]) || lon_edges.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad(name, "cell edges must be strictly ascending"));
        }
        let span = lon_edges[lon.len()] - lon_edges[0];
        if span > 360.0 + GLOBAL_TOLERANCE_DEGREES {
            return Err(bad(name, &format!("longitude cells span {span} degrees, more than the globe")));
        }
        let periodic = (span - 360.0).abs() <= GLOBAL_TOLERANCE_DEGREES;
        Ok(Grid { name: name.to_string(), lat, lon, lat_edges, lon_edges, periodic })
    }

    /// The grid of a decoded array (dimension coordinates `lat`/`lon` or `latitude`/`longitude`), with the file's
    /// cell bounds when both axes have contiguous ones, midpoint edges otherwise.
    pub fn from_array(array: &DataArray) -> Result<Grid> {
        let axis = |names: &[&str]| -> Result<(Vec<f64>, Option<Vec<f64>>)> {
            let coord = array
                .coords
                .iter()
                .find(|c| names.contains(&c.name.as_str()) && c.dims.len() == 1 && c.dims[0] == c.name)
                .ok_or_else(|| bad(&array.source, &format!("no {} coordinate", names[0])))?;
            let values = coord
                .values
                .numbers()
                .map(<[f64]>::to_vec)
                .ok_or_else(|| bad(&array.source, &format!("{} coordinate is not numeric", coord.name)))?;
            Ok((values, coord.bounds.as_deref().and_then(contiguous_edges)))
        };
        let (lat, lat_edges) = axis(&["lat", "latitude"])?;
        let (lon, lon_edges) = axis(&["lon", "longitude"])?;
        match (lat_edges, lon_edges) {
            (Some(lat_edges), Some(lon_edges)) => Grid::from_edges(&array.source, lat, lon, lat_edges, lon_edges),
            _ => Grid::from_centres(&array.source, lat, lon),
        }
    }

    /// A global grid of `step`-degree cells centred at `-90 + step/2 ..` and `-180 + step/2 ..` (xESMF's
    /// `grid_global`).
    pub fn global(step: f64) -> Result<Grid> {
        let name = format!("global {step} degree grid");
        let ny = (180.0 / step).round() as usize;
        let nx = (360.0 / step).round() as usize;
        if step <= 0.0 || (ny as f64 * step - 180.0).abs() > 1e-9 || (nx as f64 * step - 360.0).abs() > 1e-9 {
            return Err(bad(&name, "the step must divide 180 and 360"));
        }
        let lat_edges: Vec<f64> = (0..=ny).map(|i| -90.0 + i as f64 * step).collect();
        let lon_edges: Vec<f64> = (0..=nx).map(|i| -180.0 + i as f64 * step).collect();
        let lat = lat_edges.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect();
        let lon = lon_edges.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect();
        Grid::from_edges(&name, lat, lon, lat_edges, lon_edges)
    }

    /// `(lat, lon)` cell counts, the shape of a field on the grid.
    pub fn shape(&self) -> (usize, usize) {
        (self.lat.len(), self.lon.len())
    }

    /// Number of cells, the length of a flattened field.
    pub fn size(&self) -> usize {
        self.lat.len() * self.lon.len()
    }

    /// Cell area on the unit sphere, row-major (`lat` slowest): `Δλ · (sin φ_north − sin φ_south)`.
    pub fn cell_areas(&self) -> Vec<f64> {
        let mut areas = Vec::with_capacity(self.size());
        for lat in self.lat_edges.windows(2) {
            let band = lat[1].to_radians().sin() - lat[0].to_radians().sin();
            for lon in self.lon_edges.windows(2) {
                areas.push((lon[1] - lon[0]).to_radians() * band);
            }
        }
        areas
    }

    /// A stable textual description of the geometry, for cache keys: two grids with the same description give the
    /// same weights.
    pub fn fingerprint(&self) -> String {
        let axis = |v: &[f64]| v.iter().map(|x| format!("{:016x}", x.to_bits())).collect::<Vec<_>>().join(",");
        format!(
            "lat={};lon={};late={};lone={}",
            axis(&self.lat),
            axis(&self.lon),
            axis(&self.lat_edges),
            axis(&self.lon_edges)
        )
    }
}

fn bad(name: &str, detail: &str) -> RegridError {
    RegridError::BadGrid { source_name: name.to_string(), detail: detail.to_string() }
}

fn check_axis(name: &str, axis: &str, values: &[f64]) -> Result<()> {
    if values.is_empty() {
        return Err(bad(name, &format!("{axis} coordinate is empty")));
    }
    if values.iter().any(|v| !v.is_finite()) {
        return Err(bad(name, &format!("{axis} coordinate has missing or infinite values")));
    }
    if values.windows(2).any(|w| w[0] >= w[1]) {
        return Err(bad(name, &format!("{axis} coordinate is not strictly ascending")));
    }
    Ok(())
}

/// Edges from per-cell bounds `[lower, upper]` when neighbouring cells share their boundary (to 1e-9 degrees).
fn contiguous_edges(bounds: &[[f64; 2]]) -> Option<Vec<f64>> {
    let (first, rest) = bounds.split_first()?;
    let mut edges = vec![first[0].min(first[1]), first[0].max(first[1])];
    for cell in rest {
        let (low, high) = (cell[0].min(cell[1]), cell[0].max(cell[1]));
        if (low - edges[edges.len() - 1]).abs() > 1e-9 {
            return None;
        }
        edges.push(high);
    }
    Some(edges)
}

/// Midpoints between centres; the outer edges lie half a spacing beyond the outer centres. A single centre gets a
/// one-degree cell, since no spacing can be inferred.
fn midpoint_edges(centres: &[f64]) -> Vec<f64> {
    let n = centres.len();
    if n == 1 {
        return vec![centres[0] - 0.5, centres[0] + 0.5];
    }
    let mut edges = Vec::with_capacity(n + 1);
    edges.push(centres[0] - 0.5 * (centres[1] - centres[0]));
    edges.extend(centres.windows(2).map(|w| 0.5 * (w[0] + w[1])));
    edges.push(centres[n - 1] + 0.5 * (centres[n - 1] - centres[n - 2]));
    edges
}
