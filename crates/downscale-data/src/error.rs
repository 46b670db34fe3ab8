//! One error type for the data layer whose messages fit on one line and always name the file.

use std::fmt;

/// Everything that can go wrong while reading, decoding or writing climate data.
///
/// Each variant carries the file or store it concerns, so that a user who runs a long job on many files learns
/// *which* file is bad and *what* was expected from a single line of output.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: file not found")]
    NotFound { path: String },
    #[error("{path}: not a NetCDF or Zarr dataset ({detail})")]
    UnknownFormat { path: String, detail: String },
    #[error("{path}: cannot read: {detail}")]
    Read { path: String, detail: String },
    /// The file's own structure contradicts itself or its size (a corrupt header, a truncated copy): reading it
    /// again will not help, so it is not a transient read error.
    #[error("{path}: damaged or incomplete file: {detail}")]
    Malformed { path: String, detail: String },
    #[error("{path}: cannot write: {detail}")]
    Write { path: String, detail: String },
    #[error("{path}: variable '{variable}' not found (available: {available})")]
    MissingVariable { path: String, variable: String, available: String },
    #[error("{path}: variable '{variable}': {detail}")]
    BadVariable { path: String, variable: String, detail: String },
    #[error("{path}: variable '{variable}': unknown units '{units}' (expected one of: {expected})")]
    UnknownUnits { path: String, variable: String, units: String, expected: String },
    #[error("{path}: variable '{variable}': {source}")]
    Calendar { path: String, variable: String, source: crate::calendar::CalendarError },
    #[error("{path}: invalid store location: {detail}")]
    Location { path: String, detail: String },
}

impl DataError {
    pub(crate) fn read(path: impl fmt::Display, detail: impl fmt::Display) -> Self {
        Self::Read { path: path.to_string(), detail: one_line(detail) }
    }

    pub(crate) fn write(path: impl fmt::Display, detail: impl fmt::Display) -> Self {
        Self::Write { path: path.to_string(), detail: one_line(detail) }
    }

    pub(crate) fn bad_variable(path: impl fmt::Display, variable: &str, detail: impl fmt::Display) -> Self {
        Self::BadVariable { path: path.to_string(), variable: variable.to_string(), detail: one_line(detail) }
    }
}

/// Library errors (HDF5, zarrs) can span lines; a CLI error must not.
fn one_line(detail: impl fmt::Display) -> String {
    detail.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}

pub type Result<T, E = DataError> = std::result::Result<T, E>;
