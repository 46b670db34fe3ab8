//! Errors of the engine. Causes stay typed until a failure is recorded or printed (flattened there, once, by
//! `downscale_message::one_line`), because whether a failed task is worth another attempt is read from its cause.

use std::error::Error;
use std::fmt;
use std::io::ErrorKind;

/// A cause kept typed for inspection (see [`TaskError::is_transient`]).
pub type Cause = Box<dyn Error + Send + Sync + 'static>;

/// A flow that cannot run at all, or storage/records that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A flow whose wiring is wrong, or a runtime that cannot start.
    #[error("flow '{flow}': {detail}")]
    Flow {
        /// The flow's (or the runtime's) name.
        flow: String,
        /// What is wrong.
        detail: String,
    },
    /// A runtime that cannot run the flow's jobs: its cluster does not answer, refuses a job, or is configured
    /// beyond what it has.
    #[error("runtime {runtime}: {detail}")]
    Runtime {
        /// The runtime's name (`slurm`, `dask`).
        runtime: &'static str,
        /// What is wrong, naming the setting concerned.
        detail: String,
    },
    /// Storage used through the data layer (artifacts, markers, manifests, publishing), whose errors name the
    /// location themselves.
    #[error(transparent)]
    Data(#[from] downscale_data::DataError),
    /// Storage the engine uses directly (a task's lock file) or finds wrong (an empty artifact). `detail` already
    /// says what `source` says, so the message stands alone; `source` is for typed inspection.
    #[error("{location}: {detail}")]
    Storage {
        /// The file or folder concerned.
        location: String,
        /// What went wrong, already quoting `source`.
        detail: String,
        /// The I/O error behind it, when there is one.
        #[source]
        source: Option<Cause>,
    },
    /// The run records cannot be opened, read or written.
    #[error("run records {path}: {detail}")]
    Records {
        /// The records file.
        path: String,
        /// SQLite's or the file system's message.
        detail: String,
    },
    /// The run records hold a state or level this version does not know, most likely written by a newer one.
    #[error("run records {path}: {source}; a newer version of downscale may have written it")]
    UnknownRecordValue {
        /// The records file.
        path: String,
        /// The word it holds, and the words this version knows.
        #[source]
        source: crate::records::UnknownValue,
    },
}

impl EngineError {
    /// A local file the engine handles itself could not be used.
    pub(crate) fn io(location: impl fmt::Display, source: std::io::Error) -> EngineError {
        let detail = downscale_message::one_line(&source);
        EngineError::Storage { location: location.to_string(), detail, source: Some(Box::new(source)) }
    }
}

/// Why a task failed: its cause, typed. [`TaskError::is_transient`] reads from it whether another attempt may
/// succeed; the text is made when the failure is recorded or printed.
///
/// A task error is its cause, nothing more: it shows the cause's message and hands on the cause's sources, so a
/// chain flattened with `downscale_message::one_line` says each cause once.
#[derive(Debug)]
pub struct TaskError(Cause);

impl TaskError {
    /// A failure that only the task can describe (an input of the wrong shape, a missing parameter): permanent.
    pub fn new(message: impl fmt::Display) -> TaskError {
        TaskError(Box::new(Message(downscale_message::one_line_text(&message.to_string()))))
    }

    /// A failure with a typed cause, retried when that cause is transient.
    pub fn caused_by(cause: impl Error + Send + Sync + 'static) -> TaskError {
        TaskError(Box::new(cause))
    }

    /// The typed cause.
    pub fn cause(&self) -> &(dyn Error + Send + Sync + 'static) {
        self.0.as_ref()
    }

    /// Whether another attempt may succeed: decided by the first `std::io::Error` in the chain of causes (its kind
    /// is one of [`TRANSIENT_IO_KINDS`]); a chain without one is transient when it holds an
    /// `object_store::Error::Generic`, object_store's class for a store service or network failure that it does not
    /// name more precisely (its local file system errors wrap the `std::io::Error`, which then decides). Anything
    /// else (a damaged file, a missing variable, a value that does not decode, a missing permission, a full disk)
    /// fails the same way every time, and retrying it only delays the failure.
    pub fn is_transient(&self) -> bool {
        let first: &(dyn Error + 'static) = self.0.as_ref();
        let chain = || std::iter::successors(Some(first), |&e| e.source());
        if let Some(io) = chain().find_map(|e| e.downcast_ref::<std::io::Error>()) {
            return TRANSIENT_IO_KINDS.contains(&io.kind());
        }
        chain().any(|e| matches!(e.downcast_ref::<object_store::Error>(), Some(object_store::Error::Generic { .. })))
    }
}

/// The I/O errors that say "not now" rather than "not ever": a call interrupted by a signal, timed out or told to
/// try again; a resource busy for the moment; a connection dropped or reset by the other end or the network (a
/// network file system, an object store). `ConnectionRefused` and the "unreachable" kinds are not here: a service
/// that is not listening, or a host with no route, is far more often a wrong address than a passing fault.
pub const TRANSIENT_IO_KINDS: [ErrorKind; 7] = [
    ErrorKind::Interrupted,
    ErrorKind::TimedOut,
    ErrorKind::WouldBlock,
    ErrorKind::ConnectionReset,
    ErrorKind::ConnectionAborted,
    ErrorKind::BrokenPipe,
    ErrorKind::ResourceBusy,
];

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Error for TaskError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}

impl From<downscale_data::DataError> for TaskError {
    fn from(error: downscale_data::DataError) -> TaskError {
        TaskError::caused_by(error)
    }
}

impl From<EngineError> for TaskError {
    fn from(error: EngineError) -> TaskError {
        TaskError::caused_by(error)
    }
}

/// A task's own description of its failure, with no cause behind it.
#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error for Message {}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    fn store_error(source: Cause) -> object_store::Error {
        object_store::Error::Generic { store: "S3", source }
    }

    #[test]
    fn the_first_io_error_in_the_chain_decides_else_a_store_service_failure_is_transient() {
        let busy = EngineError::io("tas.lock", io::Error::from(io::ErrorKind::ResourceBusy));
        assert!(TaskError::from(busy).is_transient());
        assert!(TaskError::caused_by(store_error("503 Slow Down".into())).is_transient());
        // object_store's local file system wraps the io::Error, whose kind then decides.
        assert!(
            !TaskError::caused_by(store_error(Box::new(io::Error::from(io::ErrorKind::PermissionDenied))))
                .is_transient()
        );
        assert!(
            TaskError::caused_by(store_error(Box::new(io::Error::from(io::ErrorKind::ConnectionReset)))).is_transient()
        );
        let gone = object_store::Error::NotFound { path: "tas.nc".into(), source: "no such object".into() };
        assert!(!TaskError::caused_by(gone).is_transient());
        assert!(!TaskError::new("tas.nc: not a (time, lat, lon) field").is_transient());
    }

    #[test]
    fn a_task_error_is_its_cause() {
        let error = TaskError::new("first line\n  second \u{1b}[31m");
        assert_eq!(error.to_string(), "first line second \\u{1b}[31m");
        let lock = EngineError::io("tas.lock", io::Error::other("disk on fire"));
        let error = TaskError::from(lock);
        assert_eq!(downscale_message::one_line(&error), "tas.lock: disk on fire");
        assert!(error.cause().downcast_ref::<EngineError>().is_some());
    }
}
