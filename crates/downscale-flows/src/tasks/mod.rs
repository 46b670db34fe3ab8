//! Task bodies shared by the method flows. Each reads its inputs through the task context, calls the pure
//! functions of the data, regridding and methods crates, and writes one artifact.
//!
//! Today every body holds its arrays in memory; the regional runs of the sample data need a few MB. Streaming over
//! spatial tiles sized from the runtime's budget is the next step for global fields.

pub mod anomalies;
pub mod correct;
pub mod inputs;
pub mod regrid;
pub mod summary;

use downscale_engine::TaskError;

/// A regridding or method error as a task failure (these are never transient).
pub(crate) fn failed(error: impl std::fmt::Display) -> TaskError {
    TaskError::new(error)
}
