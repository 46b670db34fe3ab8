//! Task bodies shared by the method flows. Each reads its inputs through the task context, calls the pure
//! functions of the data, regridding and methods crates, and writes one artifact.
//!
//! Today every body holds its arrays in memory; the regional runs of the sample data need a few MB. Streaming over
//! spatial tiles sized from the runtime's budget is the next step for global fields.

pub mod anomalies;
pub mod blocks;
pub mod correct;
pub mod inputs;
pub mod regrid;
pub mod summary;
