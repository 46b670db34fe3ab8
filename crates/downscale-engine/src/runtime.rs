//! Runtimes decide how a task executes. `local` (the default) runs tasks in this process on a thread pool as wide
//! as the machine with a memory budget that is a share of its RAM; `ci` is the same with one thread and a small
//! budget, so results and timings are deterministic. Both parallelise inside a task, where the work is (points,
//! tiles, time steps), and run as many independent tasks at once as they have threads, on the same pool: tasks
//! that are small or waiting on reads then fill the threads a lone task leaves idle. Tasks run as threads of this
//! process rather than `downscale task` processes because they share the pool, and the flow's inputs stay open once
//! for all of them; the price is that CPU time and peak memory, which the kernel counts per process, are the
//! process's during each task (tasks that overlap count each other's). Runtimes on a cluster implement the same
//! trait's [`Runtime::cluster`]: the flow's tasks are submitted as jobs (see [`crate::cluster`]), and each job
//! executes its task in process with the resources the job was given.

use downscale_config::{RuntimeKind, Settings};

use crate::cluster::Cluster;
use crate::context::TaskContext;
use crate::error::{EngineError, TaskError};
use crate::resources::total_ram;

/// What a task may use: it sizes its tiles and blocks from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Threads the task may keep busy.
    pub threads: usize,
    /// Bytes the task may hold in memory at once, over all its threads.
    pub memory_bytes: u64,
}

/// Where and how a task executes.
pub trait Runtime: Send + Sync {
    /// The name in the configuration and the run records (`local`, `ci`).
    fn name(&self) -> &'static str;
    /// What the tasks running at once may use together.
    fn budget(&self) -> Budget;
    /// How many tasks may run at once; each gets an equal share of the budget's memory.
    fn task_slots(&self) -> usize;
    /// Runs `body` for one task whose inputs are complete; returns once it has written its artifact or failed.
    fn execute(
        &self,
        body: &(dyn Fn(&TaskContext) -> Result<(), TaskError> + Send + Sync),
        context: &TaskContext,
    ) -> Result<(), TaskError>;
    /// The cluster a flow's tasks are submitted to as jobs, for a runtime on one; `None` executes them in this
    /// process. A cluster job itself (`downscale task`) executes its task in process with [`Runtime::budget`],
    /// what the job was given.
    fn cluster(&self) -> Option<&dyn Cluster> {
        None
    }
}

/// `local` and `ci`: in-process, on a rayon pool of `budget.threads`.
pub struct InProcessRuntime {
    name: &'static str,
    budget: Budget,
    pool: rayon::ThreadPool,
}

impl InProcessRuntime {
    /// A runtime named `name` with its own pool of `budget.threads` threads.
    pub fn new(name: &'static str, budget: Budget) -> Result<InProcessRuntime, EngineError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(budget.threads)
            .thread_name(move |i| format!("downscale-{name}-{i}"))
            .build()
            .map_err(|e| EngineError::Flow {
                flow: name.into(),
                detail: format!("cannot start the thread pool: {e}"),
            })?;
        Ok(InProcessRuntime { name, budget, pool })
    }
}

impl Runtime for InProcessRuntime {
    fn name(&self) -> &'static str {
        self.name
    }

    fn budget(&self) -> Budget {
        self.budget
    }

    fn task_slots(&self) -> usize {
        self.budget.threads
    }

    fn execute(
        &self,
        body: &(dyn Fn(&TaskContext) -> Result<(), TaskError> + Send + Sync),
        context: &TaskContext,
    ) -> Result<(), TaskError> {
        self.pool.install(|| body(context))
    }
}

/// One of `runs` runs that share a runtime in one process (`downscale batch --max-concurrent`): each gets an equal
/// share of its task slots and of its memory budget, so that the tasks of all of them together stay within what the
/// runtime has, while every task still executes on the runtime itself (its pool, or its cluster).
pub struct RuntimeShare<'a> {
    runtime: &'a dyn Runtime,
    runs: usize,
}

impl<'a> RuntimeShare<'a> {
    /// A share of `runtime` for one of `runs` runs at once (at least one).
    pub fn new(runtime: &'a dyn Runtime, runs: usize) -> RuntimeShare<'a> {
        RuntimeShare { runtime, runs: runs.max(1) }
    }
}

impl Runtime for RuntimeShare<'_> {
    fn name(&self) -> &'static str {
        self.runtime.name()
    }

    fn budget(&self) -> Budget {
        let whole = self.runtime.budget();
        Budget { threads: whole.threads, memory_bytes: whole.memory_bytes / self.runs as u64 }
    }

    /// At least one, so that every run goes on: with more runs than slots, a task of each may run at once, and their
    /// memory shares still add up to the budget.
    fn task_slots(&self) -> usize {
        (self.runtime.task_slots() / self.runs).max(1)
    }

    fn execute(
        &self,
        body: &(dyn Fn(&TaskContext) -> Result<(), TaskError> + Send + Sync),
        context: &TaskContext,
    ) -> Result<(), TaskError> {
        self.runtime.execute(body, context)
    }

    fn cluster(&self) -> Option<&dyn Cluster> {
        self.runtime.cluster()
    }
}

/// Which runtime a run uses: `--runtime` if given, else `runtime` from the configuration, else `ci` when the
/// environment says CI (`CI=true`, as the original did), else `local`.
pub fn selected_kind(settings: &Settings, requested: Option<RuntimeKind>, ci_environment: bool) -> RuntimeKind {
    requested.or(settings.runtime).unwrap_or(if ci_environment { RuntimeKind::Ci } else { RuntimeKind::Local })
}

/// Whether the process environment marks a CI job.
pub fn ci_environment() -> bool {
    std::env::var("CI").is_ok_and(|value| matches!(value.to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
}

/// Builds the runtime of `kind` from its settings.
pub fn build_runtime(settings: &Settings, kind: RuntimeKind) -> Result<Box<dyn Runtime>, EngineError> {
    let ram = total_ram().unwrap_or(4 << 30);
    let in_process = |name: &'static str, local: &downscale_config::LocalRuntime| {
        let threads = local.worker_threads(std::thread::available_parallelism().map_or(1, |n| n.get()));
        let budget = Budget { threads, memory_bytes: local.memory_limit.bytes_for(ram) };
        InProcessRuntime::new(name, budget).map(|r| Box::new(r) as Box<dyn Runtime>)
    };
    match kind {
        RuntimeKind::Local => in_process("local", &settings.runtimes.local),
        RuntimeKind::Ci => in_process("ci", &settings.runtimes.ci),
        other => Err(EngineError::Flow {
            flow: "runtime".into(),
            detail: format!("runtime '{}' is not part of this build yet (use local or ci)", other.as_str()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_sharing_a_runtime_split_its_slots_and_memory_and_keep_going() {
        let runtime = InProcessRuntime::new("local", Budget { threads: 4, memory_bytes: 1200 }).unwrap();
        let alone = RuntimeShare::new(&runtime, 1);
        assert_eq!((alone.task_slots(), alone.budget()), (4, runtime.budget()));
        let of_two = RuntimeShare::new(&runtime, 2);
        assert_eq!((of_two.task_slots(), of_two.budget().memory_bytes, of_two.budget().threads), (2, 600, 4));
        // More runs than slots: one task each, and what they hold at once still fits the budget.
        let of_eight = RuntimeShare::new(&runtime, 8);
        assert_eq!((of_eight.task_slots(), of_eight.budget().memory_bytes), (1, 150));
        assert_eq!(of_eight.name(), "local");
    }
}
