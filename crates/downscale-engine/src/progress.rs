//! What the engine tells a watcher while a flow runs. The CLI draws terminal bars from it; tests and batch runs
//! use [`NoProgress`].

/// How a task ended, for the watcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskEnd {
    Cached,
    Succeeded,
    Failed,
}

pub trait Progress: Send + Sync {
    fn run_started(&self, _run_id: &str, _tasks: usize) {}
    fn task_started(&self, _task: &str) {}
    fn task_finished(&self, _task: &str, _end: TaskEnd) {}
    /// The running task works through `total` tiles (or time blocks).
    fn tiles_started(&self, _total: u64) {}
    fn tile_done(&self) {}
    fn run_finished(&self, _succeeded: bool) {}
}

/// A watcher that shows nothing.
pub struct NoProgress;

impl Progress for NoProgress {}
