//! Task bodies shared by the method flows. Each reads its inputs through the task context, calls the pure
//! functions of the data, regridding and methods crates, and writes one artifact.
//!
//! Bodies on the fine (obs) grid stream through blocks sized from the runtime's budget (`blocks`); those on the
//! coarse model grid (the model inputs, the point-wise correction) hold their arrays in memory.

pub mod anomalies;
pub mod blocks;
pub mod correct;
pub mod evaluate;
pub mod gard_model;
pub mod inputs;
pub mod land;
pub mod regrid;
pub mod summary;
