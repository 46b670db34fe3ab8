//! Land polygons onto a grid: which cell centres are land, optionally widened by a buffer.

use ndarray::Array2;
use rayon::prelude::*;

use super::polygons::LandPolygons;
use crate::grid::Grid;

/// Land mask of `grid` from polygons: a cell is land when its centre lies inside a polygon, or, with
/// `buffer_degrees > 0`, within that planar longitude/latitude distance of a polygon edge.
///
/// The buffer reproduces the original system, which buffered Natural Earth land by 1° with shapely in longitude/
/// latitude degrees: a point is inside `land.buffer(d)` exactly when it is inside land or at most `d` from its
/// boundary (shapely approximates the circular arcs by 16 segments per quarter, a difference of at most 0.0012°
/// at 1°). Distances are planar in degrees, as there; they reach across the antimeridian only to polygons that
/// cross it (TopoJSON rings, see `mask/antimeridian.rs`). The buffer only ever adds cells. A centre exactly on a
/// coastline counts as sea without a buffer (shapely's `contains`), and as land with any positive buffer. Grid
/// longitudes may be in either convention; they are wrapped to the polygons'. A buffer that is not positive (or
/// NaN) means none.
///
/// Cost: each centre tests only the polygons whose bounding box holds it (an R-tree of boxes), each through
/// `geo`'s interval-tree point-in-polygon index; the buffer test is an R-tree search of the edges within the
/// buffer distance (boxes farther than the buffer are pruned). Rows run in parallel.
pub fn land_from_polygons(grid: &Grid, land: &LandPolygons, buffer_degrees: f64) -> Array2<bool> {
    let (n_lat, n_lon) = grid.shape();
    let buffer = if buffer_degrees > 0.0 { buffer_degrees } else { 0.0 };
    let mut flat = vec![false; n_lat * n_lon];
    flat.par_chunks_mut(n_lon).zip(grid.lat.par_iter()).for_each(|(row, &lat)| {
        for (cell, &lon) in row.iter_mut().zip(&grid.lon) {
            *cell = land.contains(lon, lat) || (buffer > 0.0 && land.near_edge(lon, lat, buffer));
        }
    });
    Array2::from_shape_fn((n_lat, n_lon), |(i, j)| flat[i * n_lon + j])
}
