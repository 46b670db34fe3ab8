//! Why an evaluation could not be made: one line each, naming the store or file and what was expected of it,
//! because the command line prints it as it is.

use downscale_data::DataError;

/// An evaluation that cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    /// A store or file could not be read (its own message names it).
    #[error(transparent)]
    Read(#[from] DataError),
    /// A baseline could not be interpolated onto the observations' grid.
    #[error(transparent)]
    Regrid(#[from] downscale_regrid::RegridError),
    /// A map or a histogram of the report could not be drawn.
    #[error("drawing the report: {0}")]
    Plot(#[from] downscale_plot::PlotError),
    /// A store's content does not suit an evaluation.
    #[error("{source_name}: {detail}")]
    Data {
        /// The store, file or input concerned.
        source_name: String,
        /// What is wrong, and what was expected.
        detail: String,
    },
    /// The observations and a product share no day to compare.
    #[error("{product} and the observations {observed} share no day{within}: skill needs an overlapping period")]
    NoCommonDays {
        /// The product's store.
        product: String,
        /// The observations' store.
        observed: String,
        /// The years asked for, when they were restricted.
        within: String,
    },
}

impl EvaluateError {
    pub(crate) fn data(source: &str, detail: impl Into<String>) -> EvaluateError {
        EvaluateError::Data { source_name: source.to_string(), detail: detail.into() }
    }
}
