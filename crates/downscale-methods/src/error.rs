//! Errors of the numerical methods. Messages are one line and say what was expected, so callers can prefix the
//! file and point they were working on.

use thiserror::Error;

/// Why a method could not fit or apply to a series. A point whose series are all missing is not an error (its output
/// is missing), so these are about the data a method did get.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MethodError {
    /// A sample is too small for what the method estimates from it (quantiles, end-point regressions, trends).
    #[error("{sample} has {got} valid values; {method} needs at least {needed}")]
    TooFewValues {
        /// Which input: `reference`, `hist` or `sim` (or a month's subset of one).
        sample: &'static str,
        /// Its valid (non-NaN) values.
        got: usize,
        /// The fewest the method can estimate from.
        needed: usize,
        /// The method, as the reference package names it.
        method: &'static str,
    },
    /// A multiplicative (ratio) method was given negative values.
    #[error("{sample} has negative values (smallest {smallest}); {method} needs values >= 0")]
    NegativeValues {
        /// Which input: `reference`, `hist` or `sim`.
        sample: &'static str,
        /// Its most negative value, so the user can tell a rounding artefact from wrong data.
        smallest: f64,
        /// The method, as the reference package names it.
        method: &'static str,
    },
    /// An option value that the method cannot use.
    #[error("{method}: {message}")]
    InvalidOption {
        /// The method, as the reference package names it.
        method: &'static str,
        /// What is wrong with the option, naming it.
        message: String,
    },
}

/// The methods' results: [`MethodError`] on failure.
pub type Result<T> = std::result::Result<T, MethodError>;
