//! The downscaling methods as flows: for each method, the tasks and their wiring ([`bcsd`], [`gard`]), the task bodies they
//! share ([`tasks`]), and [`prepare`], which turns a parameter file, the catalogs and the configuration into a
//! flow the engine can run.

pub mod baselines;
pub mod bcsd;
pub mod error;
pub mod gard;
pub mod prepare;
pub mod shared;
pub mod sources;
pub mod tasks;

pub use error::FlowError;
pub use prepare::{PreparedRun, prepare};

use downscale_engine::Kinds;

/// Every task kind of every flow: what a process needs to run any task of any run, by name.
pub fn kinds() -> Kinds {
    Kinds::new()
        .with(shared::GetObs)
        .with(shared::GetExperiment)
        .with(shared::Regrid)
        .with(shared::LandMask)
        .with_sharded(shared::TimeSummary)
        .with(bcsd::SpatialAnomalies)
        .with_sharded(bcsd::FitAndPredict)
        .with_sharded(bcsd::Postprocess)
        .with_sharded(gard::FitAndPredict)
        .with(gard::RandomField)
        .with_sharded(gard::GardPostprocess)
        .with(tasks::evaluate::Evaluate)
        .with(tasks::evaluate::EvaluationReport)
}
