//! What the engine tells a watcher while a flow runs. The CLI draws terminal bars from it; tests and batch runs
//! use [`NoProgress`].

/// How a task ended, for the watcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskEnd {
    /// Its artifact was complete already.
    Cached,
    /// Executed, its artifact complete.
    Succeeded,
    /// Its last attempt failed.
    Failed,
}

/// A watcher of a run. Every method does nothing unless overridden, so a watcher hears only what it shows. Called
/// from the threads tasks run on, several tasks at a time.
pub trait Progress: Send + Sync {
    /// A run of `_tasks` tasks starts.
    fn run_started(&self, _run_id: &str, _tasks: usize) {}
    /// The task with this id is looked up in the cache and, if need be, executed.
    fn task_started(&self, _task: &str) {}
    /// The task with this id ended.
    fn task_finished(&self, _task: &str, _end: TaskEnd) {}
    /// The task with this id works through `_total` tiles (or time blocks).
    fn tiles_started(&self, _task: &str, _total: u64) {}
    /// One of that task's tiles is done.
    fn tile_done(&self, _task: &str) {}
    /// The run ended, its outputs published when it succeeded.
    fn run_finished(&self, _succeeded: bool) {}
}

/// A watcher that shows nothing.
pub struct NoProgress;

impl Progress for NoProgress {}
