//! Moving fields between grids: rectilinear latitude/longitude grids with their cell geometry, regridding weights
//! as sparse matrices (bilinear with nearest extrapolation, first-order conservative, nearest), and masks.
//!
//! No Rust crate does regridding between geographic grids, so this crate is ours; every method is checked
//! against `cdo` on real grids.

pub mod bilinear;
pub mod cache;
pub mod conservative;
pub mod error;
pub mod grid;
pub mod mask;
pub mod nearest;
pub mod regrid;
pub mod weight_file;
pub mod weights;

pub use bilinear::bilinear_weights;
pub use cache::{CacheOutcome, WeightCache, WeightOptions, compute_weights};
pub use conservative::conservative_weights;
pub use error::{RegridError, Result};
pub use grid::Grid;
pub use nearest::nearest_weights;
pub use regrid::{regrid_array, regridded_labels, regridded_shape};
pub use weights::{RegridMethod, Weights};
