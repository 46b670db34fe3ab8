//! Run parameter files.
//!
//! Users drive every flow with a JSON parameter file in the original system's schema, whose types are loose
//! (numbers and years as strings, booleans as `"True"`/`"False"`, bias-correction options flat or per feature,
//! older `train_period`/`predict_period` keys, keys a method ignores). This crate accepts all of that, reports every
//! problem of a file at once, each naming the file and the key, and notes the keys a file holds to no effect.

mod catalogs;
mod coverage;
mod format;
mod gard;
mod generate;
mod loose;
mod method;
mod parameters;
mod problem;
mod run_id;
mod schema;
mod strict_json;
pub mod variables;

pub use catalogs::CatalogCoverage;
pub use coverage::{Coverage, DataCoverage, Miss, ModelData, check_coverage};
pub use format::to_pretty_json;
pub use gard::{AnalogKindName, DEFAULT_N_ANALOGS, GardModel, GardModelType, OccurrenceModel, PredictorCorrection};
pub use generate::{Experiment, Plan, Skipped, generate};
pub use loose::python_str;
pub use method::{
    ANALOG_DISTANCES, ANALOG_KINDS, BiasCorrectionKind, GARD_MODEL_TYPES, LOGISTIC_KWARGS, MAX_NQUANTILES, Method,
    UnnamedCorrection,
};
pub use parameters::{
    BBox, BcsdCorrection, BiasCorrectionKwargs, Coordinate, DEFAULT_NQUANTILES, PARAMETER_FILE_LIMIT, PeriodKeys,
    RunParameters, Year, YearRange,
};
pub use problem::{Note, Problem, Problems};
pub use run_id::{MAX_RUN_ID_BYTES, str_to_hash};
pub use schema::{KEYS, is_scenario};
