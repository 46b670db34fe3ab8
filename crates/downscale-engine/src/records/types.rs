//! What the run records hold, as the engine writes it and `downscale runs` and the dashboard read it.

use serde::{Deserialize, Serialize};

use super::values::{LogLevel, RunState, TaskState};

/// A run as recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// The record's number: a run id may be run many times.
    pub id: i64,
    /// The run id; every run of one id has its own record.
    pub run_id: String,
    /// The flow's name (`bcsd`).
    pub flow: String,
    /// The parameter file as the user named it.
    pub parameter_file: Option<String>,
    /// The parameters as JSON text.
    pub parameters: String,
    /// Where the run is.
    pub state: RunState,
    /// The runtime it ran on (`local`, `ci`).
    pub runtime: String,
    /// The machine that ran it: only that machine can tell a dead run from a live one.
    pub host: String,
    /// The process that ran it (the submitting process on a cluster).
    pub pid: i64,
    /// UTC, RFC 3339.
    pub started_at: String,
    /// UTC, RFC 3339; `None` while running.
    pub ended_at: Option<String>,
    /// Where its manifest is, once written.
    pub manifest: Option<String>,
    /// Why it failed, as one line.
    pub error: Option<String>,
    /// Where the cluster's own dashboard of the run is (a Dask scheduler's), when it has one.
    pub dashboard: Option<String>,
    /// The `downscale batch` invocation it belongs to, if any.
    pub batch: Option<String>,
}

/// A task of a run as recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRecord {
    /// The task's id in its flow.
    pub task_id: String,
    /// The task's name: the kind of work.
    pub name: String,
    /// Its cache key, in hex.
    pub cache_key: String,
    /// The ids of the tasks whose artifacts it reads: the edges of the flow's graph (empty in records written
    /// before edges were recorded).
    pub inputs: Vec<String>,
    /// Where it is.
    pub state: TaskState,
    /// Whether its artifact was found complete (the same as `state` being `cached`, stored for queries).
    pub cache_hit: bool,
    /// Executions started, retries included; 0 for a cache hit.
    pub attempts: u32,
    /// UTC, RFC 3339; `None` until reached.
    pub started_at: Option<String>,
    /// UTC, RFC 3339; `None` until ended.
    pub ended_at: Option<String>,
    /// Wall-clock time of its last execution.
    pub wall_seconds: Option<f64>,
    /// CPU time (user and system, every thread) of the process during its last execution: the task's own when
    /// it ran alone in its process.
    pub cpu_seconds: Option<f64>,
    /// The process's peak resident memory during its last execution, when the system tells it.
    pub peak_rss_bytes: Option<u64>,
    /// Bytes it read through its context.
    pub bytes_read: Option<u64>,
    /// Bytes of its artifact.
    pub bytes_written: Option<u64>,
    /// Why it failed, as one line.
    pub error: Option<String>,
    /// How many tiles (or shards) it works through, once it has said.
    pub tiles_total: Option<u64>,
    /// How many of those are done.
    pub tiles_done: Option<u64>,
    /// The cluster jobs that ran it, on a runtime on a cluster.
    pub jobs: Option<String>,
}

/// A log line of a run as recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogRecord {
    /// Its place among every run's lines: increases with each line written, so a reader can ask for the lines
    /// after the last one it has.
    pub seq: i64,
    /// The task it is about; `None` for the run as a whole.
    pub task_id: Option<String>,
    /// UTC, RFC 3339.
    pub at: String,
    /// How much it matters.
    pub level: LogLevel,
    /// One line.
    pub message: String,
}

/// What the process running a flow used at one moment, sampled while it runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceSample {
    /// UTC, RFC 3339.
    pub at: String,
    /// CPU time spent per second of wall time since the previous sample, every thread: 2.0 is two busy cores.
    pub cpu_cores: f64,
    /// Resident memory of the process.
    pub rss_bytes: u64,
}

/// What a finished task reports: recorded by the process that runs the flow, and written beside the task's
/// artifact ([`TaskStateFile`](crate::TaskStateFile)) by the process that executed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskReport {
    /// How it ended: `succeeded`, `cached` or `failed`. Whether it was a cache hit is recorded from it, so the
    /// two cannot disagree.
    pub state: TaskState,
    /// Executions started, retries included.
    pub attempts: u32,
    /// Wall-clock time of the last execution.
    pub wall_seconds: f64,
    /// CPU time of the last execution.
    pub cpu_seconds: f64,
    /// Peak resident memory during the last execution, when the system tells it.
    pub peak_rss_bytes: Option<u64>,
    /// Bytes read through the task's context.
    pub bytes_read: u64,
    /// Bytes of the artifact.
    pub bytes_written: u64,
    /// Why it failed, as one line.
    pub error: Option<String>,
    /// When its first execution started, or when it was found in the cache (UTC, RFC 3339).
    pub started_at: String,
    /// When it ended (UTC, RFC 3339).
    pub ended_at: String,
}

impl TaskReport {
    /// A task that ended without an execution to measure: found in the cache, or failed (its cache could not be
    /// looked at, or every attempt failed and only the count and the error are worth keeping).
    pub fn unmeasured(state: TaskState, attempts: u32, error: Option<String>) -> TaskReport {
        let now = crate::now_utc();
        TaskReport {
            started_at: now.clone(),
            ended_at: now,
            state,
            attempts,
            wall_seconds: 0.0,
            cpu_seconds: 0.0,
            peak_rss_bytes: None,
            bytes_read: 0,
            bytes_written: 0,
            error,
        }
    }
}

/// The start of a run.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    /// The run id of the parameter file run.
    pub run_id: &'a str,
    /// The flow's name.
    pub flow: &'a str,
    /// The parameter file as the user named it.
    pub parameter_file: Option<&'a str>,
    /// The parameters as JSON text.
    pub parameters: &'a str,
    /// The runtime's name.
    pub runtime: &'a str,
    /// The `downscale batch` invocation it belongs to, if any.
    pub batch: Option<&'a str>,
}

/// A run as the runs list shows it: its record and how far its tasks are.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    /// The run's record.
    #[serde(flatten)]
    pub run: RunRecord,
    /// Tasks of its flow.
    pub tasks_total: u64,
    /// Tasks ended: succeeded, cached or failed.
    pub tasks_ended: u64,
}

/// Which runs a list shows, newest first.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    /// Only runs in this state.
    pub state: Option<RunState>,
    /// Only runs of this flow.
    pub flow: Option<String>,
    /// Only runs whose run id, parameter file, parameters or error contain this text (case-insensitive for ASCII).
    pub text: Option<String>,
    /// Only runs with a record number below this one: the next page after a page ending there.
    pub before: Option<i64>,
    /// At most this many runs.
    pub limit: usize,
}

/// Which log lines of a run a page shows, in the order written.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// Only lines at this level.
    pub level: Option<LogLevel>,
    /// Only lines about this task.
    pub task: Option<String>,
    /// Only lines after this one ([`LogRecord::seq`]): what a live view has not shown yet.
    pub after: Option<i64>,
    /// With `after` unset, the last `limit` lines; otherwise the first `limit` after it.
    pub limit: usize,
}
