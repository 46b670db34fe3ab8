//! One error type for the data layer whose messages fit on one line and always name the file.

use std::error::Error;
use std::fmt;

/// The foreign error behind a failed read or write (an `std::io::Error`, an `object_store::Error`), kept typed so
/// that a caller can tell a passing storage problem (a timeout) from a lasting one (a missing permission) without
/// reading the text.
pub type Cause = Box<dyn Error + Send + Sync + 'static>;

/// Everything that can go wrong while reading, decoding or writing climate data.
///
/// Each variant carries the file or store it concerns, so that a user who runs a long job on many files learns
/// *which* file is bad and *what* was expected from a single line of output.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// Nothing is there.
    #[error("{path}: file not found")]
    NotFound {
        /// The file or store concerned, as the user named it.
        path: String,
    },
    /// Something is there, but neither a NetCDF file nor a Zarr store.
    #[error("{path}: not a NetCDF or Zarr dataset ({detail})")]
    UnknownFormat {
        /// The file or store concerned, as the user named it.
        path: String,
        /// What it is instead, as far as can be told.
        detail: String,
    },
    /// `detail` already says what `source` says (it is the source's text when there is one), so the message stands
    /// alone; `source` is there for typed inspection.
    #[error("{path}: cannot read: {detail}")]
    Read {
        /// The file or store concerned, as the user named it.
        path: String,
        /// What went wrong.
        detail: String,
        /// The storage error behind it, when there is one.
        #[source]
        source: Option<Cause>,
    },
    /// The file's own structure contradicts itself or its size (a corrupt header, a truncated copy): reading it
    /// again will not help, so it is not a transient read error.
    #[error("{path}: damaged or incomplete file: {detail}")]
    Malformed {
        /// The file or store concerned, as the user named it.
        path: String,
        /// What contradicts what.
        detail: String,
    },
    /// Like [`DataError::Read`]: `detail` stands alone, `source` is the typed cause when there is one.
    #[error("{path}: cannot write: {detail}")]
    Write {
        /// The file or store concerned, as the user named it.
        path: String,
        /// What went wrong.
        detail: String,
        /// The storage error behind it, when there is one.
        #[source]
        source: Option<Cause>,
    },
    /// The dataset has no variable of that name.
    #[error("{path}: variable '{variable}' not found (available: {available})")]
    MissingVariable {
        /// The file or store concerned, as the user named it.
        path: String,
        /// The variable asked for.
        variable: String,
        /// The variables there are, comma-separated.
        available: String,
    },
    /// The variable cannot be decoded or used as asked (a bad coordinate, a shape, an attribute).
    #[error("{path}: variable '{variable}': {detail}")]
    BadVariable {
        /// The file or store concerned, as the user named it.
        path: String,
        /// The variable that cannot be used.
        variable: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The variable's units are not in the units table.
    #[error("{path}: variable '{variable}': unknown units '{units}' (expected one of: {expected})")]
    UnknownUnits {
        /// The file or store concerned, as the user named it.
        path: String,
        /// The variable whose units are unknown.
        variable: String,
        /// Its `units` attribute, as written.
        units: String,
        /// The spellings accepted for this kind of variable.
        expected: String,
    },
    /// The variable's time axis cannot be decoded or converted.
    #[error("{path}: variable '{variable}': {source}")]
    Calendar {
        /// The file or store concerned, as the user named it.
        path: String,
        /// The variable whose time axis is wrong.
        variable: String,
        /// What is wrong with its dates.
        source: crate::calendar::CalendarError,
    },
    /// A path or URL that names no store.
    #[error("{path}: invalid store location: {detail}")]
    Location {
        /// The file or store concerned, as the user named it.
        path: String,
        /// Why it is not one.
        detail: String,
    },
    /// An object store that does not answer for a location: no such bucket, credentials refused, no endpoint.
    #[error("{path}: {detail}")]
    Unreachable {
        /// The location, as the user named it.
        path: String,
        /// What the store said, in a few words.
        detail: String,
    },
}

impl DataError {
    /// A failed read described by text only (a library that gives no typed error, or none that matters).
    pub(crate) fn read(path: impl fmt::Display, detail: impl fmt::Display) -> Self {
        Self::Read { path: path.to_string(), detail: flatten(detail), source: None }
    }

    /// A failed read whose cause stays typed.
    pub(crate) fn read_source(path: impl fmt::Display, source: impl Error + Send + Sync + 'static) -> Self {
        Self::Read {
            path: path.to_string(),
            detail: downscale_message::one_line(&source),
            source: Some(Box::new(source)),
        }
    }

    /// A failed write described by text only.
    pub(crate) fn write(path: impl fmt::Display, detail: impl fmt::Display) -> Self {
        Self::Write { path: path.to_string(), detail: flatten(detail), source: None }
    }

    /// A failed write whose cause stays typed.
    pub(crate) fn write_source(path: impl fmt::Display, source: impl Error + Send + Sync + 'static) -> Self {
        Self::Write {
            path: path.to_string(),
            detail: downscale_message::one_line(&source),
            source: Some(Box::new(source)),
        }
    }

    /// Copying `from` to `path` failed; the cause stays typed.
    pub(crate) fn copy_failed(path: impl fmt::Display, from: &str, source: impl Error + Send + Sync + 'static) -> Self {
        let detail =
            format!("copying {}: {}", downscale_message::escape_controls(from), downscale_message::one_line(&source));
        Self::Write { path: path.to_string(), detail, source: Some(Box::new(source)) }
    }

    pub(crate) fn bad_variable(path: impl fmt::Display, variable: &str, detail: impl fmt::Display) -> Self {
        Self::BadVariable { path: path.to_string(), variable: variable.to_string(), detail: flatten(detail) }
    }
}

/// A library's message (HDF5, zarrs) can span lines or hold a value from the file; a message must stay one line.
fn flatten(detail: impl fmt::Display) -> String {
    downscale_message::one_line_text(&detail.to_string())
}

/// The data layer's results: [`DataError`] unless said otherwise.
pub type Result<T, E = DataError> = std::result::Result<T, E>;
