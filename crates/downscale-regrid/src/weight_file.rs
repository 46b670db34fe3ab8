//! Weight files: ESMF format (`row`, `col`, `S`, 1-based; what xESMF and ESMF_RegridWeightGen write) and SCRIP
//! format (`src_address`, `dst_address`, `remap_matrix`; what `cdo gen*` writes), so weights made elsewhere — for
//! curvilinear grids, say — can be used unchanged.
//!
//! Files number cells in the order of the grid *as stored* in the file the weights were made from, while our
//! grids are normalised (ascending latitude, longitudes in [-180, 180)). When a file carries cell-centre
//! coordinates (ESMF `yc_a`/`xc_a`, SCRIP `src_grid_center_lat/lon`), each of its cells is matched to ours by
//! position; otherwise our order is assumed and only the sizes are checked.

use std::path::Path;

use ndarray::ArrayD;

use crate::error::{RegridError, Result};
use crate::grid::Grid;
use crate::weights::{RegridMethod, Weights};

/// Position tolerance, in degrees, when matching a file's cell centres to ours (files store f64 or radians).
const POSITION_TOLERANCE_DEGREES: f64 = 1e-6;

fn file_error(path: &Path, detail: impl std::fmt::Display) -> RegridError {
    RegridError::WeightFile { path: path.display().to_string(), detail: detail.to_string() }
}

/// Writes `weights` as an ESMF weight file, with cell centres so that any reader can check the grids.
pub fn write_esmf(weights: &Weights, source: &Grid, target: &Grid, path: &Path) -> Result<()> {
    let err = |e: netcdf::Error| file_error(path, e);
    let mut file = netcdf::create(path).map_err(err)?;
    let (n_a, n_b, n_s) = (source.size(), target.size(), weights.nnz());
    for (name, len) in [("n_a", n_a), ("n_b", n_b), ("n_s", n_s), ("src_grid_rank", 2), ("dst_grid_rank", 2)] {
        file.add_dimension(name, len).map_err(err)?;
    }
    file.add_attribute("title", format!("downscale {} weights", weights.method.name())).map_err(err)?;
    file.add_attribute("map_method", weights.method.name()).map_err(err)?;
    file.add_attribute("conventions", "ESMF").map_err(err)?;
    let (rows, cols, values) = triplets(weights);
    put_i32(&mut file, "row", "n_s", &rows).map_err(err)?;
    put_i32(&mut file, "col", "n_s", &cols).map_err(err)?;
    put_f64(&mut file, "S", "n_s", &values).map_err(err)?;
    // ESMF/SCRIP give grid dims fastest-first: (nlon, nlat).
    put_i32(&mut file, "src_grid_dims", "src_grid_rank", &[source.lon.len() as i32, source.lat.len() as i32])
        .map_err(err)?;
    put_i32(&mut file, "dst_grid_dims", "dst_grid_rank", &[target.lon.len() as i32, target.lat.len() as i32])
        .map_err(err)?;
    for (grid, lat_name, lon_name, dim) in [(source, "yc_a", "xc_a", "n_a"), (target, "yc_b", "xc_b", "n_b")] {
        let (lats, lons) = centres(grid);
        put_f64(&mut file, lat_name, dim, &lats).map_err(err)?;
        put_f64(&mut file, lon_name, dim, &lons).map_err(err)?;
    }
    Ok(())
}

/// 1-based rows and columns and values, in row order.
fn triplets(weights: &Weights) -> (Vec<i32>, Vec<i32>, Vec<f64>) {
    let mut rows = Vec::with_capacity(weights.nnz());
    let mut cols = Vec::with_capacity(weights.nnz());
    let mut values = Vec::with_capacity(weights.nnz());
    for (row, vector) in weights.matrix.outer_iterator().enumerate() {
        for (col, &w) in vector.iter() {
            rows.push(row as i32 + 1);
            cols.push(col as i32 + 1);
            values.push(w);
        }
    }
    (rows, cols, values)
}

fn centres(grid: &Grid) -> (Vec<f64>, Vec<f64>) {
    let lats = grid.lat.iter().flat_map(|&lat| std::iter::repeat_n(lat, grid.lon.len())).collect();
    let lons = grid.lat.iter().flat_map(|_| grid.lon.iter().copied()).collect();
    (lats, lons)
}

fn put_i32(file: &mut netcdf::FileMut, name: &str, dim: &str, values: &[i32]) -> netcdf::Result<()> {
    let mut var = file.add_variable::<i32>(name, &[dim])?;
    var.put_values(values, ..)
}

fn put_f64(file: &mut netcdf::FileMut, name: &str, dim: &str, values: &[f64]) -> netcdf::Result<()> {
    let mut var = file.add_variable::<f64>(name, &[dim])?;
    var.put_values(values, ..)
}

/// Reads an ESMF or SCRIP weight file made for `source` → `target`, mapping its cell numbering onto ours.
pub fn read_weight_file(path: &Path, source: &Grid, target: &Grid, method: RegridMethod) -> Result<Weights> {
    let file = netcdf::open(path).map_err(|e| file_error(path, e))?;
    let ints = |name: &str| -> Result<Vec<i64>> {
        let var = file.variable(name).ok_or_else(|| file_error(path, format!("no variable '{name}'")))?;
        var.get_values::<i64, _>(..).map_err(|e| file_error(path, format!("{name}: {e}")))
    };
    let floats = |name: &str| -> Result<Option<Vec<f64>>> {
        match file.variable(name) {
            None => Ok(None),
            Some(var) => {
                let values: ArrayD<f64> =
                    var.get::<f64, _>(..).map_err(|e| file_error(path, format!("{name}: {e}")))?;
                let in_radians = var
                    .attribute_value("units")
                    .and_then(|v| v.ok())
                    .and_then(|v| String::try_from(v).ok())
                    .is_some_and(|u| u.contains("radian"));
                let scale = if in_radians { 180.0 / std::f64::consts::PI } else { 1.0 };
                Ok(Some(values.iter().map(|x| x * scale).collect()))
            }
        }
    };
    let is_scrip = file.variable("src_address").is_some();
    let (rows, cols, values, prefix) = if is_scrip {
        let values = floats("remap_matrix")?.ok_or_else(|| file_error(path, "no variable 'remap_matrix'"))?;
        // remap_matrix is (num_links, num_wgts); first-order weights are its first column.
        let links = ints("dst_address")?.len();
        let stride = values.len().checked_div(links).unwrap_or(1).max(1);
        let first = values.iter().step_by(stride).copied().collect();
        (ints("dst_address")?, ints("src_address")?, first, ["src_grid_center", "dst_grid_center"])
    } else {
        let values =
            floats("S")?.ok_or_else(|| file_error(path, "neither ESMF ('row', 'col', 'S') nor SCRIP variables"))?;
        (ints("row")?, ints("col")?, values, ["", ""])
    };
    if rows.len() != cols.len() || rows.len() != values.len() {
        return Err(file_error(path, "row, column and weight arrays differ in length"));
    }
    let (source_coords, target_coords) = if is_scrip {
        (
            (floats(&format!("{}_lat", prefix[0]))?, floats(&format!("{}_lon", prefix[0]))?),
            (floats(&format!("{}_lat", prefix[1]))?, floats(&format!("{}_lon", prefix[1]))?),
        )
    } else {
        ((floats("yc_a")?, floats("xc_a")?), (floats("yc_b")?, floats("xc_b")?))
    };
    let source_map = cell_map(path, "source", source, source_coords)?;
    let target_map = cell_map(path, "target", target, target_coords)?;
    let mut triplets = Vec::with_capacity(rows.len());
    for ((&row, &col), &w) in rows.iter().zip(&cols).zip(&values) {
        let target_cell = lookup(path, &target_map, row, "target")?;
        let source_cell = lookup(path, &source_map, col, "source")?;
        triplets.push((target_cell, source_cell, w));
    }
    Ok(Weights::from_triplets(method, source.shape(), target.shape(), &triplets))
}

fn lookup(path: &Path, map: &[usize], one_based: i64, side: &str) -> Result<usize> {
    usize::try_from(one_based - 1)
        .ok()
        .and_then(|i| map.get(i).copied())
        .ok_or_else(|| file_error(path, format!("{side} cell {one_based} is outside the grid of {} cells", map.len())))
}

/// For each cell number of the file (0-based), our row-major cell index.
fn cell_map(path: &Path, side: &str, grid: &Grid, coords: (Option<Vec<f64>>, Option<Vec<f64>>)) -> Result<Vec<usize>> {
    let mismatch = |n: usize| {
        file_error(
            path,
            format!("mismatched weight file: its {side} grid has {n} cells, {} has {}", grid.name, grid.size()),
        )
    };
    match coords {
        (Some(lats), Some(lons)) => {
            if lats.len() != grid.size() || lons.len() != grid.size() {
                return Err(mismatch(lats.len()));
            }
            lats.iter()
                .zip(&lons)
                .map(|(&lat, &lon)| {
                    let i = position(&grid.lat, lat);
                    let shifted = grid.lon[0] + (lon - grid.lon[0]).rem_euclid(360.0);
                    let j = position(&grid.lon, shifted).or_else(|| position(&grid.lon, shifted - 360.0));
                    match (i, j) {
                        (Some(i), Some(j)) => Ok(i * grid.lon.len() + j),
                        _ => Err(file_error(
                            path,
                            format!(
                                "mismatched weight file: {side} cell at ({lat}, {lon}) is not a cell of {}",
                                grid.name
                            ),
                        )),
                    }
                })
                .collect()
        }
        _ => Ok((0..grid.size()).collect()),
    }
}

/// Index of `x` on an ascending axis, within the position tolerance.
fn position(axis: &[f64], x: f64) -> Option<usize> {
    let k = axis.partition_point(|&a| a < x - POSITION_TOLERANCE_DEGREES);
    (k < axis.len() && (axis[k] - x).abs() <= POSITION_TOLERANCE_DEGREES).then_some(k)
}
