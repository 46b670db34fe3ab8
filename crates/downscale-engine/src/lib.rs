//! The flow engine of `downscale`: a method is a [`Flow`] of [`Task`]s; the [`Engine`] runs one on a
//! [`Runtime`], skipping every task whose artifact is already complete under its [`CacheKey`], retrying transient
//! failures, recording everything in SQLite ([`Records`]) and publishing the outputs and a run manifest only when
//! every task succeeded.

pub mod artifact;
pub mod cluster;
pub mod context;
pub mod engine;
pub mod error;
pub mod execute;
pub mod flow;
pub mod hold;
pub mod key;
pub mod manifest;
pub mod progress;
pub mod records;
pub mod resources;
pub mod runtime;
pub mod shard;
pub mod status;

pub use artifact::{Artifact, ArtifactStore, TaskStateFile};
pub use cluster::{Cluster, JobRef, JobRequest, JobStatus};
pub use context::TaskContext;
pub use engine::{Engine, Output, RunOutcome, RunRequest};
pub use error::{EngineError, TaskError};
pub use execute::{RetryPolicy, TaskEvent, TaskOutcome, TaskRunner};
pub use flow::{ArtifactKind, External, Flow, Kinds, Task, TaskKind};
pub use hold::TaskHold;
pub use key::CacheKey;
pub use manifest::{Failure, Manifest};
pub use progress::{NoProgress, Progress, TaskEnd};
pub use records::{LogLevel, Records, RunRecord, RunState, TaskRecord, TaskReport, TaskState, UnknownValue};
pub use runtime::{Budget, InProcessRuntime, Runtime, RuntimeShare, build_runtime, ci_environment, selected_kind};
pub use shard::{Layout, ShardedKind};
pub use status::RunStatus;

/// The current UTC time in RFC 3339, as every record and marker writes it.
pub(crate) fn now_utc() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
