//! Errors of the regridding layer: one line each, naming the grid or file concerned.

/// Why grids, weights or a regridding could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RegridError {
    /// Coordinates that do not make a grid (unsorted, too few cells, bounds that do not match).
    #[error("{source_name}: {detail}")]
    BadGrid {
        /// The grid's name: the file it came from, or a description.
        source_name: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A weight file that cannot be read, written, or matched to the grids.
    #[error("{path}: {detail}")]
    WeightFile {
        /// The weight file.
        path: String,
        /// What is wrong with it.
        detail: String,
    },
    /// Reading a grid's or a mask's data failed.
    #[error("{0}")]
    Data(#[from] downscale_data::DataError),
    /// Anything else, for the thing concerned: a target outside the source grid, an array without a grid.
    #[error("{what}: {detail}")]
    Other {
        /// The array, file or grid concerned.
        what: String,
        /// What went wrong.
        detail: String,
    },
}

/// The crate's results: [`RegridError`] unless said otherwise.
pub type Result<T, E = RegridError> = std::result::Result<T, E>;
