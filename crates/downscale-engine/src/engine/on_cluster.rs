//! Running a flow's tasks as jobs of a cluster ([`Cluster`]): each task is a job running `downscale task`, each shard
//! of a sharded task an element of an array job followed by a job that publishes the store, and each DAG edge a
//! dependency (the job starts once the jobs it reads from have succeeded), so the cluster starts work without waiting
//! for this process. A sharded task is submitted once its inputs are complete, because its shards are laid out from
//! their labels.
//!
//! This process only submits, polls and records: what a job did is read from the state it leaves beside its artifact
//! (the same [`TaskReport`] an in-process execution records). A job that fails without its task failing (cancelled,
//! killed for memory or time, its node lost) is submitted again up to the cluster's resubmission count, after
//! cancelling the jobs waiting on it, which would otherwise never start; then the run fails with the job's last error
//! line. A task that ran and failed is not submitted again: it retried what was transient itself.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use downscale_message::one_line;

use super::Engine;
use crate::artifact::Artifact;
use crate::cluster::{Cluster, JobRef, JobRequest, JobStatus};
use crate::error::EngineError;
use crate::flow::{Flow, Task};
use crate::key::CacheKey;
use crate::manifest::Failure;
use crate::progress::TaskEnd;
use crate::records::{LogLevel, TaskReport, TaskState};
use crate::shard::Body;

/// How often the cluster is asked how its jobs stand: often enough that a stage's end starts the next stage's
/// submission within a fraction of a second, rarely enough that a controller is not loaded by it.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// How long the cluster may fail to say how its jobs stand before the run gives up (and cancels them).
const POLL_PATIENCE: Duration = Duration::from_secs(120);

/// What part of its task a job executes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// The whole task (it is not sharded).
    Whole,
    /// One shard of a sharded task.
    Shard(usize),
    /// Publishing a sharded task's store once its shards are written.
    Publish,
}

/// A submitted job and what it waits on.
struct Unit<'t> {
    task: &'t Task,
    part: Part,
    job: JobRef,
    /// The units it depends on (indices into the run's units).
    after: Vec<usize>,
    /// How many times this part was submitted, this one included.
    submission: u32,
    status: JobStatus,
    /// Cancelled or replaced: no longer watched.
    dropped: bool,
    /// When it was submitted (UTC, RFC 3339, as states write their times).
    submitted_at: String,
}

/// A task's jobs so far.
#[derive(Default)]
struct TaskJobs {
    /// The units of its shards, by shard number (a sharded task only).
    shards: BTreeMap<usize, usize>,
    /// How many shards the task has.
    shard_count: usize,
    /// How many of them are done.
    shards_done: usize,
    /// The unit whose success completes the task: the whole task, or the publishing job.
    last: Option<usize>,
    /// Whether the first of its jobs was seen running (recorded as the task's start).
    started: bool,
}

/// One run on a cluster: what it runs on and how far it is.
struct ClusterRun<'t> {
    record: i64,
    /// Names the jobs (`<run id>:<task id>`) in the cluster's listings.
    run_id: &'t str,
    flow: &'t Flow,
    keys: &'t HashMap<String, CacheKey>,
    cluster: &'t dyn Cluster,
    /// The run's `downscale task` command, to which each job adds its task.
    command: &'t [String],
    units: Vec<Unit<'t>>,
    tasks: HashMap<&'t str, TaskJobs>,
    done: HashMap<String, Artifact>,
    failure: Option<Failure>,
}

impl Engine<'_> {
    /// Executes the flow's tasks as jobs of `cluster` running `command` (`downscale task` of this run), until every
    /// task is complete or one failed for good; see the module's documentation.
    pub(super) fn schedule_on_cluster(
        &self,
        record: i64,
        run_id: &str,
        flow: &Flow,
        keys: &HashMap<String, CacheKey>,
        cluster: &dyn Cluster,
        command: &[String],
    ) -> Result<(HashMap<String, Artifact>, Option<Failure>), EngineError> {
        if let Some(dashboard) = cluster.dashboard() {
            self.log(record, None, LogLevel::Info, &format!("{} dashboard: {dashboard}", self.tasks.runtime.name()));
            self.records.set_dashboard(record, &dashboard)?;
        }
        let mut run = ClusterRun {
            record,
            run_id,
            flow,
            keys,
            cluster,
            command,
            units: Vec::new(),
            tasks: HashMap::new(),
            done: HashMap::new(),
            failure: None,
        };
        let driven = self.drive(&mut run);
        if driven.is_err() {
            // The run cannot go on (the records or the storage failed, or the cluster stopped answering): its jobs
            // are cancelled rather than left to compute for nobody.
            let live: Vec<JobRef> = run
                .units
                .iter()
                .filter(|unit| !unit.dropped && unit.status != JobStatus::Succeeded)
                .map(|unit| unit.job.clone())
                .collect();
            let _ = cluster.cancel(&live);
        }
        driven?;
        Ok((run.done, run.failure))
    }

    /// Submits and polls until every task is complete, or a task failed for good and no job is running.
    fn drive(&self, run: &mut ClusterRun) -> Result<(), EngineError> {
        let (flow, cluster) = (run.flow, run.cluster);
        let mut unanswered_since: Option<Instant> = None;
        loop {
            if run.failure.is_none()
                && let Err(error) = self.submit_ready(run)
            {
                // A refused submission (no such partition, more memory than any node has) ends the run like a
                // failed task; jobs already queued are cancelled below.
                run.failure = Some(Failure { task: "submit".into(), error: one_line(&error) });
            }
            if run.failure.is_some() {
                let pending: Vec<JobRef> = run
                    .units
                    .iter_mut()
                    .filter(|unit| !unit.dropped && unit.status == JobStatus::Pending)
                    .map(|unit| {
                        unit.dropped = true;
                        unit.job.clone()
                    })
                    .collect();
                cluster.cancel(&pending)?;
            }
            let watched: Vec<usize> = (0..run.units.len())
                .filter(|&i| !run.units[i].dropped && !matches!(run.units[i].status, JobStatus::Succeeded))
                .collect();
            if watched.is_empty() {
                if run.failure.is_none() && run.done.len() < flow.tasks().len() {
                    // Nothing queued and nothing submittable: only a flow whose tasks wait on each other gets here,
                    // and a flow is checked to be acyclic when it is built.
                    let detail = "no task can be submitted: the flow's tasks wait on each other".to_string();
                    return Err(EngineError::Flow { flow: flow.name.clone(), detail });
                }
                return Ok(());
            }
            std::thread::sleep(POLL_INTERVAL);
            let jobs: Vec<JobRef> = watched.iter().map(|&i| run.units[i].job.clone()).collect();
            let statuses = match cluster.poll(&jobs) {
                Ok(statuses) => {
                    unanswered_since = None;
                    statuses
                }
                // A busy controller may not answer for a while; the jobs go on meanwhile.
                Err(error) if unanswered_since.is_none_or(|since| since.elapsed() < POLL_PATIENCE) => {
                    if unanswered_since.is_none() {
                        let message = format!("the cluster does not answer ({}); asking again", one_line(&error));
                        self.log(run.record, None, LogLevel::Warn, &message);
                    }
                    unanswered_since.get_or_insert_with(Instant::now);
                    continue;
                }
                Err(error) => return Err(error),
            };
            for index in watched {
                if run.units[index].dropped {
                    // Cancelled while this poll's statuses were taken in: a job waiting on one that failed.
                    continue;
                }
                let status = match statuses.get(&run.units[index].job) {
                    Some(status) => status.clone(),
                    None => self.status_from_storage(run.keys, &run.units[index])?,
                };
                if status != run.units[index].status {
                    self.job_changed(run, index, status)?;
                }
            }
        }
    }

    /// Submits every task that can be: found complete in the cache, or not sharded with each input complete or
    /// submitted, or sharded with each input complete; and a sharded task's publishing job once its shards are
    /// submitted.
    fn submit_ready(&self, run: &mut ClusterRun) -> Result<(), EngineError> {
        let (record, flow, keys) = (run.record, run.flow, run.keys);
        for task in flow.tasks() {
            if run.done.contains_key(&task.id) || run.tasks.get(task.id.as_str()).is_some_and(|t| t.last.is_some()) {
                continue;
            }
            let key = &keys[&task.id];
            if !run.tasks.contains_key(task.id.as_str())
                && self.tasks.use_cache
                && let Some(artifact) = self.tasks.artifacts.complete(&task.name, key)?
            {
                self.record_cached(record, task, &artifact)?;
                run.done.insert(task.id.clone(), artifact);
                continue;
            }
            let inputs_done = task.inputs.values().all(|up| run.done.contains_key(up));
            let body =
                flow.body(task).map_err(|e| EngineError::Flow { flow: flow.name.clone(), detail: one_line(&e) })?;
            match body {
                Body::Whole(_) => {
                    let upstream: Option<Vec<usize>> = task
                        .inputs
                        .values()
                        .filter(|up| !run.done.contains_key(*up))
                        .map(|up| run.tasks.get(up.as_str()).and_then(|t| t.last))
                        .collect();
                    let Some(after) = upstream else { continue };
                    let unit = self.submit_unit(run, task, Part::Whole, after, 1)?;
                    self.tasks.progress.task_started(&task.id);
                    run.tasks.entry(&task.id).or_default().last = Some(unit);
                }
                Body::Sharded(_) if !inputs_done => {}
                Body::Sharded(_) => {
                    if !run.tasks.contains_key(task.id.as_str()) {
                        self.submit_shards(run, task)?;
                    }
                    let jobs = &run.tasks[task.id.as_str()];
                    let after: Vec<usize> = jobs.shards.values().copied().collect();
                    let unit = self.submit_unit(run, task, Part::Publish, after, 1)?;
                    run.tasks.get_mut(task.id.as_str()).expect("submitted above").last = Some(unit);
                }
            }
        }
        Ok(())
    }

    /// Submits the shards of `task` still to run as one array job.
    fn submit_shards<'t>(&self, run: &mut ClusterRun<'t>, task: &'t Task) -> Result<(), EngineError> {
        let (flow, key) = (run.flow, &run.keys[&task.id]);
        if !self.tasks.use_cache {
            self.tasks.artifacts.clear_shards(task, key)?;
        }
        let (count, pending) = self.tasks.pending_shards(flow, &task.id)?;
        self.tasks.progress.task_started(&task.id);
        self.tasks.progress.tiles_started(&task.id, count as u64);
        for _ in pending.len()..count {
            self.tasks.progress.tile_done(&task.id);
        }
        let done = count - pending.len();
        self.records.task_tiles(run.record, &task.id, done as u64, count as u64)?;
        let mut jobs = TaskJobs { shard_count: count, shards_done: done, ..TaskJobs::default() };
        if !pending.is_empty() {
            let request = JobRequest {
                name: format!("{}:{}", run.run_id, task.id),
                command: task_command(run.command, task, None),
                elements: Some(pending.clone()),
                after: Vec::new(),
            };
            let submitted_at = crate::now_utc();
            let job = run.cluster.submit(&request)?;
            self.log(
                run.record,
                Some(&task.id),
                LogLevel::Info,
                &format!("{}: {} of {count} shard(s) submitted as array job {job}", task.id, pending.len()),
            );
            for shard in pending {
                let unit = Unit {
                    task,
                    part: Part::Shard(shard),
                    job: JobRef { job: job.clone(), element: Some(shard) },
                    after: Vec::new(),
                    submission: 1,
                    status: JobStatus::Pending,
                    dropped: false,
                    submitted_at: submitted_at.clone(),
                };
                run.units.push(unit);
                jobs.shards.insert(shard, run.units.len() - 1);
            }
        }
        run.tasks.insert(&task.id, jobs);
        self.record_jobs(run, task)
    }

    /// Records the jobs that run `task` so far.
    fn record_jobs(&self, run: &ClusterRun, task: &Task) -> Result<(), EngineError> {
        let jobs = run.units.iter().filter(|unit| unit.task.id == task.id).map(|unit| &unit.job);
        self.records.task_jobs(run.record, &task.id, &crate::cluster::describe_jobs(jobs))
    }

    /// Submits one job of `task` to start after the units `after`; returns its unit.
    fn submit_unit<'t>(
        &self,
        run: &mut ClusterRun<'t>,
        task: &'t Task,
        part: Part,
        after: Vec<usize>,
        submission: u32,
    ) -> Result<usize, EngineError> {
        let after: Vec<usize> =
            after.into_iter().filter(|&unit| !matches!(run.units[unit].status, JobStatus::Succeeded)).collect();
        let request = JobRequest {
            name: format!("{}:{}", run.run_id, task.id),
            command: task_command(run.command, task, Some(part)),
            elements: match part {
                Part::Shard(shard) => Some(vec![shard]),
                Part::Whole | Part::Publish => None,
            },
            after: dependencies(&run.units, &after),
        };
        let submitted_at = crate::now_utc();
        let job = run.cluster.submit(&request)?;
        let element = match part {
            Part::Shard(shard) => Some(shard),
            Part::Whole | Part::Publish => None,
        };
        let job = JobRef { job, element };
        let status = JobStatus::Pending;
        run.units.push(Unit { task, part, job, after, submission, status, dropped: false, submitted_at });
        self.record_jobs(run, task)?;
        Ok(run.units.len() - 1)
    }

    /// What storage says of a job the cluster no longer lists: it succeeded if it left its artifact (or its shard's
    /// state) complete, else it failed.
    fn status_from_storage(&self, keys: &HashMap<String, CacheKey>, unit: &Unit) -> Result<JobStatus, EngineError> {
        let (artifacts, task) = (&self.tasks.artifacts, unit.task);
        let key = &keys[&task.id];
        let succeeded = match unit.part {
            Part::Whole | Part::Publish => artifacts.complete(&task.name, key)?.is_some(),
            Part::Shard(shard) => artifacts
                .shard_state(&task.name, key, shard)?
                .is_some_and(|state| state.report.state == TaskState::Succeeded),
        };
        Ok(if succeeded {
            JobStatus::Succeeded
        } else {
            // Slurm, for one, forgets an array element cancelled while it was queued.
            JobStatus::Failed(format!(
                "was cancelled or lost: the {} runtime no longer lists it and it left no result",
                self.tasks.runtime.name()
            ))
        })
    }

    /// Acts on a job's new status: records a start, completes its task, or submits it again / fails the run.
    fn job_changed(&self, run: &mut ClusterRun, index: usize, status: JobStatus) -> Result<(), EngineError> {
        let (record, cluster) = (run.record, run.cluster);
        run.units[index].status = status.clone();
        let (task, part) = (run.units[index].task, run.units[index].part);
        let jobs = run.tasks.get_mut(task.id.as_str()).expect("a unit's task has its jobs");
        if !jobs.started && matches!(status, JobStatus::Running | JobStatus::Succeeded) {
            jobs.started = true;
            self.records.task_started(record, &task.id)?;
        }
        match status {
            JobStatus::Pending | JobStatus::Running => Ok(()),
            JobStatus::Succeeded => self.job_succeeded(run, index),
            JobStatus::Failed(reason) => {
                let job = run.units[index].job.clone();
                // A task that ran and failed in this job has retried what was worth retrying already (a damaged
                // file fails the same way on every node): its own error is the run's, and it is not submitted again.
                let own_failure = self.failure_left_by(run, index)?;
                let detail = match &own_failure {
                    Some(error) => Some(error.clone()),
                    None => cluster.log_tail(&job),
                };
                let what = match part {
                    Part::Whole => format!("job {job}"),
                    Part::Shard(shard) => format!("job {job} (shard {shard})"),
                    Part::Publish => format!("job {job} (publishing the shards)"),
                };
                let detail = detail.map(|detail| format!(": {detail}")).unwrap_or_default();
                let error = downscale_message::one_line_text(&format!("{what} {reason}{detail}"));
                let submission = run.units[index].submission;
                if run.failure.is_none() && own_failure.is_none() && submission <= cluster.resubmissions() {
                    let message = format!(
                        "{}: {error}; submitting it again ({} of {})",
                        task.id,
                        submission,
                        cluster.resubmissions()
                    );
                    self.log(record, Some(&task.id), LogLevel::Warn, &message);
                    self.resubmit(run, index)
                } else {
                    let message = format!("{}: failed: {error}", task.id);
                    self.log(record, Some(&task.id), LogLevel::Error, &message);
                    let report = TaskReport::unmeasured(TaskState::Failed, submission, Some(error.clone()));
                    self.records.task_finished(record, &task.id, &report)?;
                    self.tasks.progress.task_finished(&task.id, TaskEnd::Failed);
                    run.units[index].dropped = true;
                    run.failure.get_or_insert(Failure { task: task.id.clone(), error });
                    Ok(())
                }
            }
        }
    }

    /// The error of the task (or shard) the job at `index` ran, when it ran and failed there: its state says failed
    /// and ended after the job was submitted (an older state is another run's).
    fn failure_left_by(&self, run: &ClusterRun, index: usize) -> Result<Option<String>, EngineError> {
        let unit = &run.units[index];
        let (artifacts, task, key) = (&self.tasks.artifacts, unit.task, &run.keys[&unit.task.id]);
        let state = match unit.part {
            Part::Whole | Part::Publish => artifacts.state(&task.name, key)?,
            Part::Shard(shard) => artifacts.shard_state(&task.name, key, shard)?,
        };
        Ok(state
            .map(|state| state.report)
            .filter(|report| report.state == TaskState::Failed && report.ended_at >= unit.submitted_at)
            .and_then(|report| report.error))
    }

    /// A job ended well: a shard is counted, a whole or published task is complete and recorded.
    fn job_succeeded(&self, run: &mut ClusterRun, index: usize) -> Result<(), EngineError> {
        let unit = &run.units[index];
        let (record, task, key) = (run.record, unit.task, &run.keys[&unit.task.id]);
        if let Part::Shard(_) = unit.part {
            self.tasks.progress.tile_done(&task.id);
            if let Some(jobs) = run.tasks.get_mut(task.id.as_str()) {
                jobs.shards_done += 1;
                let (done, count) = (jobs.shards_done as u64, jobs.shard_count as u64);
                self.records.task_tiles(record, &task.id, done, count)?;
            }
            return Ok(());
        }
        let Some(artifact) = self.tasks.artifacts.complete(&task.name, key)? else {
            // The command exits 0 only with its artifact complete; a cache emptied meanwhile is the one way here.
            let error = format!("job {} ended well but the artifact of task {} is not complete", unit.job, task.id);
            run.failure.get_or_insert(Failure { task: task.id.clone(), error });
            return Ok(());
        };
        let shards = run.tasks[task.id.as_str()].shard_count;
        let (report, host) = self.gathered_report(task, key, shards, unit.submission)?;
        let origin = host.map(|host| format!(" on {host}")).unwrap_or_default();
        let message = format!("{}: done{origin} in {:.2} s (job {})", task.id, report.wall_seconds, unit.job);
        self.log(record, Some(&task.id), LogLevel::Info, &message);
        self.records.task_finished(record, &task.id, &report)?;
        self.tasks.progress.task_finished(&task.id, TaskEnd::Succeeded);
        run.done.insert(task.id.clone(), artifact);
        Ok(())
    }

    /// The task's report from the states its jobs left: the whole task's own, or for a sharded task its shards'
    /// summed (CPU, bytes read) or maximal (peak memory) with the publishing job's, from the first shard's start to
    /// the publication; and the host that finished it.
    fn gathered_report(
        &self,
        task: &Task,
        key: &CacheKey,
        shards: usize,
        submissions: u32,
    ) -> Result<(TaskReport, Option<String>), EngineError> {
        let artifacts = &self.tasks.artifacts;
        let (mut report, host) = match artifacts.state(&task.name, key)? {
            Some(state) => (state.report, Some(state.host)),
            None => (TaskReport::unmeasured(TaskState::Succeeded, 1, None), None),
        };
        report.attempts += submissions - 1;
        for shard in 0..shards {
            let Some(state) = artifacts.shard_state(&task.name, key, shard)? else { continue };
            let part = state.report;
            report.cpu_seconds += part.cpu_seconds;
            report.bytes_read += part.bytes_read;
            report.peak_rss_bytes = report.peak_rss_bytes.max(part.peak_rss_bytes);
            report.attempts = report.attempts.max(part.attempts);
            if part.started_at < report.started_at {
                report.started_at = part.started_at;
            }
        }
        if let (Ok(start), Ok(end)) = (
            chrono::DateTime::parse_from_rfc3339(&report.started_at),
            chrono::DateTime::parse_from_rfc3339(&report.ended_at),
        ) {
            report.wall_seconds = report.wall_seconds.max((end - start).num_milliseconds() as f64 / 1000.0);
        }
        Ok((report, host))
    }

    /// Submits a failed job again, after cancelling the jobs that wait on it (they would never start) and forgetting
    /// them, so the next submission pass submits them again with the new job to wait on.
    fn resubmit(&self, run: &mut ClusterRun, index: usize) -> Result<(), EngineError> {
        let mut waiting = vec![index];
        let mut cancelled = Vec::new();
        while let Some(unit) = waiting.pop() {
            for (other, candidate) in run.units.iter().enumerate() {
                if !candidate.dropped && candidate.after.contains(&unit) && !cancelled.contains(&other) {
                    cancelled.push(other);
                    waiting.push(other);
                }
            }
        }
        let jobs: Vec<JobRef> = cancelled.iter().map(|&unit| run.units[unit].job.clone()).collect();
        run.cluster.cancel(&jobs)?;
        for &unit in &cancelled {
            run.units[unit].dropped = true;
            let task = run.units[unit].task;
            // A task waiting on it is submitted again by the next submission pass, with the new job to wait on.
            match run.units[unit].part {
                Part::Whole => {
                    run.tasks.remove(task.id.as_str());
                }
                Part::Publish | Part::Shard(_) => {
                    if let Some(jobs) = run.tasks.get_mut(task.id.as_str()) {
                        jobs.last = None;
                    }
                }
            }
        }
        run.units[index].dropped = true;
        let (task, part, after, submission) =
            (run.units[index].task, run.units[index].part, run.units[index].after.clone(), run.units[index].submission);
        // What it waits on has not failed (else it would have been cancelled with it): it waits on the same units.
        let unit = self.submit_unit(run, task, part, after, submission + 1)?;
        let jobs = run.tasks.get_mut(task.id.as_str()).expect("a unit's task has its jobs");
        match part {
            Part::Whole | Part::Publish => jobs.last = Some(unit),
            Part::Shard(shard) => {
                jobs.shards.insert(shard, unit);
            }
        }
        Ok(())
    }

    /// Records a task found complete in the cache.
    fn record_cached(&self, record: i64, task: &Task, artifact: &Artifact) -> Result<(), EngineError> {
        self.tasks.progress.task_started(&task.id);
        let message = format!("{}: cached ({})", task.id, artifact.location);
        self.log(record, Some(&task.id), LogLevel::Info, &message);
        let report = TaskReport::unmeasured(TaskState::Cached, 0, None);
        self.records.task_finished(record, &task.id, &report)?;
        self.tasks.progress.task_finished(&task.id, TaskEnd::Cached);
        Ok(())
    }
}

/// The command of a job of `task`: the run's `downscale task` command with the task, and for a single shard its
/// number, or for the job after the shards `--publish`. An array job's elements get their `--shard` from the
/// cluster.
fn task_command(command: &[String], task: &Task, part: Option<Part>) -> Vec<String> {
    let mut argv = command.to_vec();
    argv.extend(["--task".to_string(), task.id.clone()]);
    match part {
        Some(Part::Publish) => argv.push("--publish".into()),
        Some(Part::Whole | Part::Shard(_)) | None => {}
    }
    argv
}

/// The jobs to wait for: one reference per unit, or the array job itself when every element of it is waited for.
fn dependencies(units: &[Unit], after: &[usize]) -> Vec<JobRef> {
    let mut jobs: Vec<JobRef> = Vec::new();
    for &unit in after {
        let job = &units[unit].job;
        let whole_array = job.element.is_some()
            && units
                .iter()
                .enumerate()
                .filter(|(_, other)| other.job.job == job.job)
                .all(|(index, _)| after.contains(&index));
        let reference = if whole_array { JobRef { job: job.job.clone(), element: None } } else { job.clone() };
        if !jobs.contains(&reference) {
            jobs.push(reference);
        }
    }
    jobs
}
