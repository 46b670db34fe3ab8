//! Errors of the engine, one line each.

use std::fmt;

/// A flow that cannot run at all, or storage/records that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("flow '{flow}': {detail}")]
    Flow { flow: String, detail: String },
    #[error("{location}: {detail}")]
    Storage { location: String, detail: String },
    #[error("run records {path}: {detail}")]
    Records { path: String, detail: String },
}

impl EngineError {
    pub(crate) fn storage(location: impl fmt::Display, detail: impl fmt::Display) -> EngineError {
        EngineError::Storage { location: location.to_string(), detail: one_line(detail) }
    }
}

/// Why a task failed. Transient failures (an interrupted read, a storage service timing out) are retried with
/// backoff; anything else fails the task at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError {
    pub message: String,
    pub transient: bool,
}

impl TaskError {
    pub fn new(message: impl fmt::Display) -> TaskError {
        TaskError { message: one_line(message), transient: false }
    }

    pub fn transient(message: impl fmt::Display) -> TaskError {
        TaskError { message: one_line(message), transient: true }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TaskError {}

impl From<downscale_data::DataError> for TaskError {
    /// Reads and writes of the data layer: a vanished file is permanent; other read/write failures may be a
    /// passing storage problem and are retried.
    fn from(error: downscale_data::DataError) -> TaskError {
        use downscale_data::DataError::*;
        match &error {
            Read { .. } | Write { .. } => TaskError::transient(error),
            _ => TaskError::new(error),
        }
    }
}

impl From<EngineError> for TaskError {
    fn from(error: EngineError) -> TaskError {
        match error {
            EngineError::Storage { .. } => TaskError::transient(error),
            other => TaskError::new(other),
        }
    }
}

pub(crate) fn one_line(detail: impl fmt::Display) -> String {
    detail.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}
