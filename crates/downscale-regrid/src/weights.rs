//! Regridding weights as a sparse matrix, and their application to fields.
//!
//! Row `i` of the matrix holds the weights of every source cell that contributes to target cell `i` (cells
//! numbered row-major, latitude slowest). Application is NaN-aware: a target value is the weighted mean of its
//! *valid* source values, renormalised by their weights, and NaN when none is valid. Renormalising is what keeps
//! coastlines and regional edges from pulling values towards zero.

use std::ops::Range;

use ndarray::{Array3, ArrayView3, Axis};
use rayon::prelude::*;
use sprs::{CsMat, TriMat};

use crate::error::{RegridError, Result};

/// How weights were made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegridMethod {
    /// Bilinear inside the source hull; outside it, the nearest source cell (xESMF's `nearest_s2d`) when
    /// extrapolation is allowed.
    Bilinear,
    /// First-order conservative: area-weighted mean of the overlapping source cells.
    Conservative,
    /// The nearest source cell centre on the sphere.
    Nearest,
}

impl RegridMethod {
    /// The name in weight file names, cache keys and messages (xESMF's spelling).
    pub fn name(self) -> &'static str {
        match self {
            RegridMethod::Bilinear => "bilinear",
            RegridMethod::Conservative => "conservative",
            RegridMethod::Nearest => "nearest",
        }
    }
}

/// A weight matrix between two grids of known shapes.
#[derive(Debug, Clone)]
pub struct Weights {
    /// How they were made: read weight files say nothing else about their method.
    pub method: RegridMethod,
    /// `(lat, lon)` sizes of the source grid.
    pub source_shape: (usize, usize),
    /// `(lat, lon)` sizes of the target grid.
    pub target_shape: (usize, usize),
    /// `target cells × source cells`, compressed rows.
    pub matrix: CsMat<f64>,
}

impl Weights {
    /// Builds weights from `(target, source, weight)` triplets; repeated pairs are summed.
    pub fn from_triplets(
        method: RegridMethod,
        source_shape: (usize, usize),
        target_shape: (usize, usize),
        triplets: &[(usize, usize, f64)],
    ) -> Weights {
        let rows = target_shape.0 * target_shape.1;
        let cols = source_shape.0 * source_shape.1;
        let mut tri = TriMat::with_capacity((rows, cols), triplets.len());
        for &(row, col, w) in triplets {
            tri.add_triplet(row, col, w);
        }
        Weights { method, source_shape, target_shape, matrix: tri.to_csr() }
    }

    /// The weights of the target cells in `lat × lon` (index ranges of the target grid), as weights from the
    /// smallest source window that holds every source cell they use, and that window (source lat and lon index
    /// ranges): regridding a tile of the target needs only its window of the source. Each target cell keeps its
    /// sources in the same order, so a tile's values are bit-identical to the same cells regridded whole.
    pub fn tile(&self, lat: Range<usize>, lon: Range<usize>) -> (Weights, [Range<usize>; 2]) {
        let (target_lon, source_lon) = (self.target_shape.1, self.source_shape.1.max(1));
        let rows = || lat.clone().flat_map(|i| lon.clone().map(move |j| i * target_lon + j));
        let (mut lat_window, mut lon_window) = ((usize::MAX, 0), (usize::MAX, 0));
        for row in rows() {
            if let Some(sources) = self.matrix.outer_view(row) {
                for (source, _) in sources.iter() {
                    let (i, j) = (source / source_lon, source % source_lon);
                    lat_window = (lat_window.0.min(i), lat_window.1.max(i + 1));
                    lon_window = (lon_window.0.min(j), lon_window.1.max(j + 1));
                }
            }
        }
        // A tile whose cells use no source gets an empty window (and NaN values).
        let window = |(start, end): (usize, usize)| if start < end { start..end } else { 0..0 };
        let (lat_window, lon_window) = (window(lat_window), window(lon_window));
        let mut triplets = Vec::new();
        for (local_row, row) in rows().enumerate() {
            if let Some(sources) = self.matrix.outer_view(row) {
                for (source, &weight) in sources.iter() {
                    let (i, j) = (source / source_lon - lat_window.start, source % source_lon - lon_window.start);
                    triplets.push((local_row, i * lon_window.len() + j, weight));
                }
            }
        }
        let tile = Weights::from_triplets(
            self.method,
            (lat_window.len(), lon_window.len()),
            (lat.len(), lon.len()),
            &triplets,
        );
        (tile, [lat_window, lon_window])
    }

    /// Number of stored weights.
    pub fn nnz(&self) -> usize {
        self.matrix.nnz()
    }

    /// Regrids a `(time, lat, lon)` block of the source grid; time steps are processed in parallel.
    pub fn apply(&self, data: ArrayView3<'_, f32>) -> Result<Array3<f32>> {
        let (_, ny, nx) = data.dim();
        if (ny, nx) != self.source_shape {
            return Err(RegridError::Other {
                what: format!("{} weights", self.method.name()),
                detail: format!("data of shape {ny}x{nx} given to weights for a {:?} source grid", self.source_shape),
            });
        }
        let steps = data.len_of(Axis(0));
        let (ty, tx) = self.target_shape;
        let mut out = Array3::<f32>::zeros((steps, ty, tx));
        let indptr = self.matrix.indptr();
        let indptr = indptr.raw_storage();
        let indices = self.matrix.indices();
        let weights = self.matrix.data();
        out.axis_iter_mut(Axis(0)).into_par_iter().zip(data.axis_iter(Axis(0)).into_par_iter()).for_each(
            |(mut target, source)| {
                let source = source.as_standard_layout();
                let source = source.as_slice().unwrap_or(&[]);
                let target = target.as_slice_mut();
                let Some(target) = target else { return };
                for (row, value) in target.iter_mut().enumerate() {
                    let (mut sum, mut weight_sum) = (0.0f64, 0.0f64);
                    for k in indptr[row]..indptr[row + 1] {
                        let x = source[indices[k]];
                        if !x.is_nan() {
                            sum += weights[k] * f64::from(x);
                            weight_sum += weights[k];
                        }
                    }
                    *value = if weight_sum > 0.0 { (sum / weight_sum) as f32 } else { f32::NAN };
                }
            },
        );
        Ok(out)
    }
}
