//! Pure bias-correction numerics: each method is a function of arrays with a small `fit`/`predict` (or
//! `train`/`adjust`) shape, with no I/O and no knowledge of files, so flows and the `adjust` command only wire
//! them to data.
//!
//! Two families reproduce two reference packages exactly:
//! - scikit-downscale 0.1.5: [`qm_rank`] (`QuantileMapper`), [`qm_regressor`] (`QuantileMappingReressor` and the
//!   trend-aware variant), [`edcdfm`] (`EquidistantCdfMatcher`) and the BCSD point models in [`bcsd`];
//! - xsdba 0.7.0: empirical, detrended and quantile-delta mapping in [`xsdba`].
//!
//! [`adjust`] applies any of them to every point of a `(time, point)` array in parallel. [`scrf`] draws the
//! correlated random fields of GARD's random effects.

pub mod adjust;
pub mod bcsd;
pub mod edcdfm;
pub mod error;
pub mod gard;
pub mod qm_rank;
pub mod qm_regressor;
pub mod scrf;
pub mod series;
pub mod stats;
pub mod xsdba;

pub use error::{MethodError, Result};
pub use series::TimeSeries;
