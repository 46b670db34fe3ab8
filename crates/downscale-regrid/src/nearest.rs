//! Nearest-neighbour weights: each target cell takes the source cell whose centre is closest on the sphere
//! (chord distance between unit vectors orders points exactly like great-circle distance).

use kiddo::{ImmutableKdTree, SquaredEuclidean};

use crate::error::{RegridError, Result};
use crate::grid::Grid;
use crate::weights::{RegridMethod, Weights};

/// Unit-sphere position of a (lat, lon) point in degrees.
pub(crate) fn unit_vector(lat: f64, lon: f64) -> [f64; 3] {
    let (phi, lambda) = (lat.to_radians(), lon.to_radians());
    [phi.cos() * lambda.cos(), phi.cos() * lambda.sin(), phi.sin()]
}

/// A k-d tree over the source grid's cell centres, answering "which source cell is nearest to this point".
pub(crate) struct NearestCells {
    tree: ImmutableKdTree<f64, 3>,
}

impl NearestCells {
    pub(crate) fn new(source: &Grid) -> Result<NearestCells> {
        let points: Vec<[f64; 3]> =
            source.lat.iter().flat_map(|&lat| source.lon.iter().map(move |&lon| unit_vector(lat, lon))).collect();
        let tree = ImmutableKdTree::new_from_slice(&points).map_err(|e| RegridError::BadGrid {
            source_name: source.name.clone(),
            detail: format!("cannot index cell centres: {e:?}"),
        })?;
        Ok(NearestCells { tree })
    }

    /// Row-major index of the source cell nearest to (lat, lon).
    pub(crate) fn nearest(&self, lat: f64, lon: f64) -> usize {
        let found = self.tree.query(&unit_vector(lat, lon)).nearest_one::<SquaredEuclidean<f64>>().execute();
        found.item as usize
    }
}

/// Nearest-neighbour weights from `source` to `target`.
pub fn nearest_weights(source: &Grid, target: &Grid) -> Result<Weights> {
    let cells = NearestCells::new(source)?;
    let nx = target.lon.len();
    let triplets: Vec<(usize, usize, f64)> = target
        .lat
        .iter()
        .enumerate()
        .flat_map(|(i, &lat)| target.lon.iter().enumerate().map(move |(j, &lon)| (i * nx + j, lat, lon)))
        .map(|(row, lat, lon)| (row, cells.nearest(lat, lon), 1.0))
        .collect();
    Ok(Weights::from_triplets(RegridMethod::Nearest, source.shape(), target.shape(), &triplets))
}
