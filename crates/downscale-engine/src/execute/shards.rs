//! Executing a sharded task: its shards on this process's pool, or one shard on its own (`downscale task
//! --shard`, a cluster's array element), each leaving its state; then publishing the store once every shard is
//! done and every chunk is there.

use std::time::Instant;

use downscale_data::ZarrWriter;
use downscale_message::one_line;
use rayon::prelude::*;

use super::{Resolved, TaskRunner, guarded};
use crate::context::TaskContext;
use crate::error::{EngineError, TaskError};
use crate::flow::{Flow, Task};
use crate::key::CacheKey;
use crate::records::{TaskReport, TaskState};
use crate::resources::{cpu_seconds, peak_rss};
use crate::shard::{Body, Layout, ShardedBody};

/// How one shard's execution ended.
#[derive(Debug)]
pub struct ShardOutcome {
    /// Whether its chunks are written.
    pub result: Result<(), TaskError>,
    /// What its execution measured: `cached` when the whole task was complete already.
    pub report: TaskReport,
}

impl TaskRunner<'_> {
    /// Executes shard `shard` of the sharded task `task_id` of `flow` alone, as one node of a cluster does: every
    /// input must be complete in the cache. The shard's chunks go to the task's shared stage and its state beside
    /// it; publishing the store is left to the process that runs the whole task (`downscale task` without a shard,
    /// or `downscale run`), which runs only the shards not done yet.
    pub fn run_shard(&self, flow: &Flow, task_id: &str, shard: usize) -> Result<ShardOutcome, EngineError> {
        let Resolved { task, key, inputs, body } = self.resolve(flow, task_id)?;
        let not_sharded = || EngineError::Flow {
            flow: flow.name.clone(),
            detail: format!("task '{task_id}' is of kind '{}', which is not sharded", task.name),
        };
        let Body::Sharded(shards) = body else { return Err(not_sharded()) };
        let output = self.artifacts.artifact_location(task, &key);
        let context = TaskContext::new(task, &self.artifacts, inputs, output, self.runtime.budget(), self.progress);
        // The shard is checked to exist before anything runs: a wrong number is the caller's mistake, not a failure
        // of the task.
        let flow_error = |detail: String| EngineError::Flow { flow: flow.name.clone(), detail };
        let layout = self.layout(task, shards.as_ref(), &context).map_err(|e| flow_error(one_line(&e)))?;
        if shard >= layout.shards.len() {
            let count = layout.shards.len();
            let detail = format!("task '{task_id}' has {count} shard(s), numbered 0 to {}, not {shard}", count - 1);
            return Err(flow_error(detail));
        }
        if self.use_cache && self.artifacts.complete(&task.name, &key)?.is_some() {
            let report = TaskReport::unmeasured(TaskState::Cached, 0, None);
            return Ok(ShardOutcome { result: Ok(()), report });
        }
        let outcome = std::sync::Mutex::new(None);
        let run = |ctx: &TaskContext| {
            let writer = self.open_stage(task, &key, ctx, &layout)?;
            let (result, report) = self.write_shard(task, &key, shards.as_ref(), ctx, &layout, shard, &writer);
            *outcome.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(report);
            result
        };
        let result = guarded(task, || self.runtime.execute(&run, &context));
        let report = outcome.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner).unwrap_or_else(|| {
            let error = result.as_ref().err().map(|e| one_line(e));
            TaskReport::unmeasured(TaskState::Failed, 0, error)
        });
        Ok(ShardOutcome { result, report })
    }

    /// How many shards the task `task_id` of `flow` has: `None` for a task that is not sharded. The layout comes
    /// from the inputs' labels, so every input must be complete.
    pub fn shard_count(&self, flow: &Flow, task_id: &str) -> Result<Option<usize>, EngineError> {
        let Resolved { task, key, inputs, body } = self.resolve(flow, task_id)?;
        let Body::Sharded(shards) = body else { return Ok(None) };
        let output = self.artifacts.artifact_location(task, &key);
        let context = TaskContext::new(task, &self.artifacts, inputs, output, self.runtime.budget(), self.progress);
        let layout = self
            .layout(task, shards.as_ref(), &context)
            .map_err(|e| EngineError::Flow { flow: flow.name.clone(), detail: one_line(&e) })?;
        Ok(Some(layout.shards.len()))
    }

    /// How many shards the sharded task `task_id` of `flow` has, and which of them are still to run: those without a
    /// succeeded state, or all of them when no stage holds what earlier shards wrote (a state counts only with its
    /// chunks). Every input must be complete; a task that is not sharded is an error.
    pub fn pending_shards(&self, flow: &Flow, task_id: &str) -> Result<(usize, Vec<usize>), EngineError> {
        let task = flow.task(task_id);
        let count = self.shard_count(flow, task_id)?.ok_or_else(|| EngineError::Flow {
            flow: flow.name.clone(),
            detail: format!("task '{task_id}' is not sharded"),
        })?;
        let (Some(task), Some(key)) = (task, flow.keys().remove(task_id)) else { return Ok((count, Vec::new())) };
        if !ZarrWriter::shared_stage_exists(&self.artifacts.artifact_location(task, &key))? {
            return Ok((count, (0..count).collect()));
        }
        let mut pending = Vec::new();
        for shard in 0..count {
            let state = self.artifacts.shard_state(&task.name, &key, shard)?;
            if state.is_none_or(|state| state.report.state != TaskState::Succeeded) {
                pending.push(shard);
            }
        }
        Ok((count, pending))
    }

    /// The body of a sharded task: its layout, the shards not done yet on the pool (each retried alone), and the
    /// store published once every chunk is there.
    pub(super) fn write_shards(
        &self,
        task: &Task,
        key: &CacheKey,
        shards: &dyn ShardedBody,
        ctx: &TaskContext,
    ) -> Result<(), TaskError> {
        let layout = self.layout(task, shards, ctx)?;
        let writer = self.open_stage(task, key, ctx, &layout)?;
        let mut pending = Vec::new();
        for index in 0..layout.shards.len() {
            let state = self.artifacts.shard_state(&task.name, key, index)?;
            if state.is_none_or(|state| state.report.state != TaskState::Succeeded) {
                pending.push(index);
            }
        }
        ctx.tiles(pending.len() as u64);
        pending.into_par_iter().try_for_each(|index| {
            let (result, _) = self.write_shard(task, key, shards, ctx, &layout, index, &writer);
            ctx.tile_done();
            result
        })?;
        Ok(writer.finish_shared()?)
    }

    /// Opens the task's shared stage for shards to write into. A shard's state counts only while the stage holding
    /// its chunks is there: whichever process opens a new stage (a whole task or a single shard) first removes the
    /// states of the shards that filled an earlier one, published or removed since, so every shard runs again. Only
    /// the states: shards of other processes may be writing into the new stage already.
    fn open_stage(
        &self,
        task: &Task,
        key: &CacheKey,
        ctx: &TaskContext,
        layout: &Layout,
    ) -> Result<ZarrWriter, TaskError> {
        if !ZarrWriter::shared_stage_exists(&self.artifacts.artifact_location(task, key))? {
            self.artifacts.clear_shard_states(task, key)?;
        }
        ctx.open_shared(layout)
    }

    /// The task's layout, checked to be shards of whole chunks.
    fn layout(&self, task: &Task, shards: &dyn ShardedBody, ctx: &TaskContext) -> Result<Layout, TaskError> {
        let layout = shards.layout(ctx)?;
        layout.check(&task.id)?;
        Ok(layout)
    }

    /// Writes shard `index`, retrying transient failures, and leaves its state. CPU time and peak memory are the
    /// process's over the shard: exact for a shard run alone in its process, shared with the shards running beside
    /// it otherwise.
    #[allow(clippy::too_many_arguments, reason = "the pieces of one shard's execution, borrowed from its caller")]
    fn write_shard(
        &self,
        task: &Task,
        key: &CacheKey,
        shards: &dyn ShardedBody,
        ctx: &TaskContext,
        layout: &Layout,
        index: usize,
        writer: &ZarrWriter,
    ) -> (Result<(), TaskError>, TaskReport) {
        let started_at = crate::now_utc();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (started, cpu_before, read_before) = (Instant::now(), cpu_seconds(), ctx.bytes_read());
            let result = guarded(task, || shards.write_shard(ctx, &layout.shards[index], writer));
            let report = TaskReport {
                state: if result.is_ok() { TaskState::Succeeded } else { TaskState::Failed },
                attempts: attempt,
                wall_seconds: started.elapsed().as_secs_f64(),
                cpu_seconds: cpu_seconds() - cpu_before,
                peak_rss_bytes: peak_rss(),
                bytes_read: ctx.bytes_read().saturating_sub(read_before),
                bytes_written: 0,
                error: result.as_ref().err().map(|e| format!("shard {index}: {}", one_line(e))),
                started_at: started_at.clone(),
                ended_at: crate::now_utc(),
            };
            match result {
                Err(error) if attempt < self.retry.attempts && error.is_transient() => {
                    let delay = self.retry.base_delay * 2u32.pow(attempt - 1);
                    let cause = report.error.as_deref().unwrap_or_default();
                    tracing::warn!(task = task.id, "attempt {attempt} failed ({cause}); retrying in {delay:?}");
                    std::thread::sleep(delay);
                }
                result => {
                    // Retried already where that helps: the task does not retry a shard's failure again.
                    let result = result.map_err(|_| TaskError::new(report.error.clone().unwrap_or_default()));
                    let left = self.artifacts.write_shard_state(task, key, index, &report).map_err(TaskError::from);
                    return (result.and(left), report);
                }
            }
        }
    }
}
