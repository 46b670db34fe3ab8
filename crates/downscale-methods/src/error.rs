//! Errors of the numerical methods. Messages are one line and say what was expected, so callers can prefix the
//! file and point they were working on.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum MethodError {
    /// A sample is too small for what the method estimates from it (quantiles, end-point regressions, trends).
    #[error("{sample} has {got} valid values; {method} needs at least {needed}")]
    TooFewValues { sample: &'static str, got: usize, needed: usize, method: &'static str },
    /// A multiplicative (ratio) method was given negative values.
    #[error("{sample} has negative values (smallest {smallest}); {method} needs values >= 0")]
    NegativeValues { sample: &'static str, smallest: f64, method: &'static str },
    /// An option value that the method cannot use.
    #[error("{method}: {message}")]
    InvalidOption { method: &'static str, message: String },
}

pub type Result<T> = std::result::Result<T, MethodError>;
