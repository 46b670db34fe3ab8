//! Executing one task: look at its cache, hold it, run its body (retrying transient failures), mark its artifact
//! complete and leave its state beside it. This is all a process needs to run a task of a flow, whether it runs the
//! whole flow (`downscale run`, which records what it hears in the run records) or just that task (`downscale task`,
//! as a cluster node will): nothing here touches the records.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use downscale_message::one_line;

use crate::artifact::{Artifact, ArtifactStore};
use crate::context::TaskContext;
use crate::error::{EngineError, TaskError};
use crate::flow::{Flow, Task};
use crate::hold::TaskHold;
use crate::key::CacheKey;
use crate::progress::{Progress, TaskEnd};
use crate::records::{LogLevel, TaskReport, TaskState};
use crate::resources::{cpu_seconds, peak_rss, release_free_memory, reset_peak_rss};
use crate::runtime::{Budget, Runtime};
use crate::shard::Body;

mod shards;

/// How often and how patiently transient failures are retried: attempt `n` waits `base_delay · 2^(n-1)` first.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The wait before the second attempt; each later wait doubles.
    pub base_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { attempts: 4, base_delay: Duration::from_millis(250) }
    }
}

/// What a task's execution tells whoever runs it, as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskEvent {
    /// Its cache held nothing: it is being executed.
    Executing,
    /// A line for the log.
    Log(LogLevel, String),
    /// An attempt failed with a transient error; after a pause the task is executing again (`Executing`).
    Retrying,
    /// `done` of the `total` tiles (or shards) the task announced are done.
    Tiles {
        /// Tiles done so far.
        done: u64,
        /// Tiles announced.
        total: u64,
    },
}

/// How a task ended: its artifact or why there is none, and the report for the records.
#[derive(Debug)]
pub struct TaskOutcome {
    /// The complete artifact, found in the cache or just written.
    pub result: Result<Artifact, TaskError>,
    /// `cached`, `succeeded` or `failed`, with what the execution measured.
    pub report: TaskReport,
}

/// Executes tasks: where (the runtime), against which cache, how patiently, and who watches.
pub struct TaskRunner<'a> {
    /// Where each task executes.
    pub runtime: &'a dyn Runtime,
    /// The cache of intermediate artifacts (`storage.intermediate`).
    pub artifacts: ArtifactStore,
    /// Whether a complete artifact is reused; `false` executes every task again (`run_options.use_cache`).
    pub use_cache: bool,
    /// How transient failures are retried.
    pub retry: RetryPolicy,
    /// Who hears of tasks and tiles as they go.
    pub progress: &'a dyn Progress,
}

impl TaskRunner<'_> {
    /// Runs the task `task_id` of `flow` on its own, as `downscale task` does: every input must be complete in the
    /// cache already (the process that runs the flow ran them, here or elsewhere). Log lines go to `tracing`.
    pub fn run_one(&self, flow: &Flow, task_id: &str) -> Result<TaskOutcome, EngineError> {
        self.run_alone(flow, task_id, !self.use_cache)
    }

    /// Publishes the sharded task `task_id` of `flow` from the shards other processes wrote (`downscale task
    /// --shard`, the elements of a cluster's array job), running any shard not done yet. Unlike
    /// [`TaskRunner::run_one`] it never starts the shards afresh, even without the cache: the process that runs the
    /// flow cleared them before it submitted them.
    pub fn publish(&self, flow: &Flow, task_id: &str) -> Result<TaskOutcome, EngineError> {
        self.run_alone(flow, task_id, false)
    }

    fn run_alone(&self, flow: &Flow, task_id: &str, fresh_shards: bool) -> Result<TaskOutcome, EngineError> {
        let Resolved { task, key, inputs, body } = self.resolve(flow, task_id)?;
        let events = |event: TaskEvent| {
            if let TaskEvent::Log(level, message) = event {
                // A failure is the outcome, which the caller prints as its one error line; the log says it at info.
                match level {
                    LogLevel::Warn => tracing::warn!(task = task_id, "{message}"),
                    LogLevel::Info | LogLevel::Error => tracing::info!(task = task_id, "{message}"),
                }
            }
        };
        Ok(self.execute(task, body, &key, inputs, self.runtime.budget(), fresh_shards, &events))
    }

    /// The task `task_id` of `flow`, its key, its inputs' complete artifacts and its body, for a process that runs
    /// it on its own.
    fn resolve<'f>(&self, flow: &'f Flow, task_id: &str) -> Result<Resolved<'f>, EngineError> {
        let unknown = || {
            let ids: Vec<&str> = flow.tasks().iter().map(|t| t.id.as_str()).collect();
            let detail = format!("it has no task '{task_id}' (its tasks: {})", ids.join(", "));
            EngineError::Flow { flow: flow.name.clone(), detail }
        };
        let task = flow.task(task_id).ok_or_else(unknown)?;
        let mut keys = flow.keys();
        let mut inputs = BTreeMap::new();
        for (role, upstream) in &task.inputs {
            let producer = flow.task(upstream).ok_or_else(unknown)?;
            let artifact = self.artifacts.complete(&producer.name, &keys[upstream])?.ok_or_else(|| EngineError::Flow {
                flow: flow.name.clone(),
                detail: format!(
                    "task '{task_id}' reads '{role}' from task '{upstream}', whose artifact is not complete yet (run \
                     that task first)"
                ),
            })?;
            inputs.insert(role.clone(), artifact);
        }
        let body = flow.body(task).map_err(|e| EngineError::Flow { flow: flow.name.clone(), detail: one_line(&e) })?;
        let key = keys.remove(task_id).ok_or_else(unknown)?;
        Ok(Resolved { task, key, inputs, body })
    }

    /// Returns the task's artifact, from the cache or by executing it with `budget` (with retries), and leaves the
    /// state of an execution beside the artifact. A sharded task's first attempt starts its shards afresh when
    /// `fresh_shards`, else goes on from those done.
    #[allow(clippy::too_many_arguments, reason = "one task's execution: its spec, inputs, budget and watcher")]
    pub(crate) fn execute(
        &self,
        task: &Task,
        body: &Body,
        key: &CacheKey,
        inputs: BTreeMap<String, Artifact>,
        budget: Budget,
        fresh_shards: bool,
        events: &(dyn Fn(TaskEvent) + Sync),
    ) -> TaskOutcome {
        self.progress.task_started(&task.id);
        let log = |level, message: String| events(TaskEvent::Log(level, message));
        let _hold = match self.cached_or_held(task, key) {
            Ok(Lookup::Cached(artifact)) => {
                // Where the artifact came from: the state its executing process left (another run, `downscale
                // task`, a cluster node).
                let origin = match self.artifacts.state(&task.name, key) {
                    Ok(Some(state)) => format!(
                        "; executed on {} by process {} in {:.2} s, ended {}",
                        state.host, state.pid, state.report.wall_seconds, state.report.ended_at
                    ),
                    _ => String::new(),
                };
                log(LogLevel::Info, format!("{}: cached ({}{origin})", task.id, artifact.location));
                self.progress.task_finished(&task.id, TaskEnd::Cached);
                let report = TaskReport::unmeasured(TaskState::Cached, 0, None);
                return TaskOutcome { result: Ok(artifact), report };
            }
            Ok(Lookup::Held(hold)) => hold,
            Err(error) => {
                self.progress.task_finished(&task.id, TaskEnd::Failed);
                let report = TaskReport::unmeasured(TaskState::Failed, 0, Some(one_line(&error)));
                return TaskOutcome { result: Err(error), report };
            }
        };
        events(TaskEvent::Executing);
        let started_at = crate::now_utc();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let cpu_before = cpu_seconds();
            release_free_memory();
            reset_peak_rss();
            let measured = |state, error: Option<String>, bytes_read, bytes_written| TaskReport {
                state,
                attempts: attempt,
                wall_seconds: started.elapsed().as_secs_f64(),
                cpu_seconds: cpu_seconds() - cpu_before,
                peak_rss_bytes: peak_rss(),
                bytes_read,
                bytes_written,
                error,
                started_at: started_at.clone(),
                ended_at: crate::now_utc(),
            };
            // The state is left before the marker, so a complete artifact always has its state beside it.
            // Without the cache, the first attempt also starts shards afresh; later ones go on from them.
            let fresh = attempt == 1 && fresh_shards;
            let result = self.attempt(task, body, key, inputs.clone(), budget, fresh, events).and_then(
                |(variable, bytes_read)| {
                    let bytes_written = self.artifacts.artifact_location(task, key).total_size()?;
                    let report = measured(TaskState::Succeeded, None, bytes_read, bytes_written);
                    self.artifacts.write_state(task, key, &report)?;
                    Ok((self.artifacts.mark_complete(task, key, variable)?, report))
                },
            );
            match result {
                Ok((artifact, report)) => {
                    log(LogLevel::Info, format!("{}: done in {:.2} s", task.id, report.wall_seconds));
                    self.progress.task_finished(&task.id, TaskEnd::Succeeded);
                    return TaskOutcome { result: Ok(artifact), report };
                }
                Err(error) if attempt < self.retry.attempts && error.is_transient() => {
                    let delay = self.retry.base_delay * 2u32.pow(attempt - 1);
                    let cause = one_line(&error);
                    log(
                        LogLevel::Warn,
                        format!("{}: attempt {attempt} failed ({cause}); retrying in {delay:?}", task.id),
                    );
                    events(TaskEvent::Retrying);
                    std::thread::sleep(delay);
                    events(TaskEvent::Executing);
                }
                Err(error) => {
                    log(
                        LogLevel::Error,
                        format!("{}: failed after {attempt} attempt(s): {}", task.id, one_line(&error)),
                    );
                    let report = measured(TaskState::Failed, Some(one_line(&error)), 0, 0);
                    if let Err(e) = self.artifacts.write_state(task, key, &report) {
                        log(LogLevel::Warn, format!("{}: cannot leave its state: {}", task.id, one_line(&e)));
                    }
                    self.progress.task_finished(&task.id, TaskEnd::Failed);
                    return TaskOutcome { result: Err(error), report };
                }
            }
        }
    }

    /// The task's complete artifact, or the hold on it for executing it. The cache is looked at before and again
    /// after taking the hold, which waits while another process sharing the cache computes the task: that
    /// process's artifact is then used.
    fn cached_or_held(&self, task: &Task, key: &CacheKey) -> Result<Lookup, TaskError> {
        let cached = || -> Result<Option<Artifact>, TaskError> {
            if !self.use_cache {
                return Ok(None);
            }
            Ok(self.artifacts.complete(&task.name, key)?)
        };
        if let Some(artifact) = cached()? {
            return Ok(Lookup::Cached(artifact));
        }
        let hold = self.artifacts.hold(&task.name, key)?;
        Ok(match cached()? {
            Some(artifact) => Lookup::Cached(artifact),
            None => Lookup::Held(hold),
        })
    }

    /// One execution: clear leftovers of an earlier attempt and run the body; returns the variable it wrote and the
    /// bytes it read. A sharded task keeps what its shards wrote before (here or in other processes) unless `fresh`,
    /// runs the shards not done yet and publishes the store.
    #[allow(
        clippy::too_many_arguments,
        reason = "one attempt of a task's execution: its spec, inputs, budget and watcher"
    )]
    fn attempt(
        &self,
        task: &Task,
        body: &Body,
        key: &CacheKey,
        inputs: BTreeMap<String, Artifact>,
        budget: Budget,
        fresh: bool,
        events: &(dyn Fn(TaskEvent) + Sync),
    ) -> Result<(Option<String>, u64), TaskError> {
        let output = self.artifacts.artifact_location(task, key);
        let tiles = TileReporter { watcher: self.progress, events, done: AtomicU64::new(0), total: AtomicU64::new(0) };
        let context = TaskContext::new(task, &self.artifacts, inputs, output, budget, &tiles);
        match body {
            Body::Whole(run) => {
                self.artifacts.clear(&task.name, key)?;
                guarded(task, || self.runtime.execute(run.as_ref(), &context))?;
            }
            Body::Sharded(shards) => {
                self.artifacts.clear_artifact(task, key)?;
                if fresh {
                    self.artifacts.clear_shards(task, key)?;
                }
                let run = |ctx: &TaskContext| self.write_shards(task, key, shards.as_ref(), ctx);
                guarded(task, || self.runtime.execute(&run, &context))?;
            }
        }
        Ok((context.written_variable(), context.bytes_read()))
    }
}

/// The watcher a task's context reports its tiles to: passes them on to the run's watcher (terminal bars) and, as
/// [`TaskEvent::Tiles`], to whoever records the run, so the records and the dashboard show a long task's progress.
struct TileReporter<'a> {
    watcher: &'a dyn Progress,
    events: &'a (dyn Fn(TaskEvent) + Sync),
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress for TileReporter<'_> {
    fn run_started(&self, run_id: &str, tasks: usize) {
        self.watcher.run_started(run_id, tasks);
    }

    fn task_started(&self, task: &str) {
        self.watcher.task_started(task);
    }

    fn task_finished(&self, task: &str, end: TaskEnd) {
        self.watcher.task_finished(task, end);
    }

    fn tiles_started(&self, task: &str, total: u64) {
        self.watcher.tiles_started(task, total);
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        (self.events)(TaskEvent::Tiles { done: 0, total });
    }

    fn tile_done(&self, task: &str) {
        self.watcher.tile_done(task);
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        (self.events)(TaskEvent::Tiles { done, total: self.total.load(Ordering::Relaxed) });
    }

    fn run_finished(&self, succeeded: bool) {
        self.watcher.run_finished(succeeded);
    }
}

/// Runs `body`, making a panic a failure of `task` (a bug, but it must end as a recorded failure, not a lost run).
fn guarded<T>(task: &Task, body: impl FnOnce() -> Result<T, TaskError>) -> Result<T, TaskError> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(TaskError::new(format!("task {} panicked: {message}", task.id)))
    })
}

/// A task of a flow ready to run on its own: its spec, key, inputs' artifacts and body.
struct Resolved<'f> {
    task: &'f Task,
    key: CacheKey,
    inputs: BTreeMap<String, Artifact>,
    body: &'f Body,
}

/// What the cache holds for a task about to run.
enum Lookup {
    /// Its complete artifact.
    Cached(Artifact),
    /// Nothing yet: the task is to be executed under this hold.
    Held(TaskHold),
}
