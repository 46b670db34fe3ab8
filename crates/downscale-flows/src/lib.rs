//! The downscaling methods as flows: for each method, the tasks and their wiring ([`bcsd`]), the task bodies they
//! share ([`tasks`]), and [`prepare`], which turns a parameter file, the catalogs and the configuration into a
//! flow the engine can run.

pub mod bcsd;
pub mod error;
pub mod prepare;
pub mod sources;
pub mod tasks;

pub use error::FlowError;
pub use prepare::{PreparedRun, prepare};
