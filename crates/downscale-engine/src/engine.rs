//! Running a flow: check each task's cache, execute the rest on the runtime in order, record every step, and
//! publish the outputs and the manifest only when every task succeeded, so `storage.results` never holds a part
//! of a failed run.

use std::collections::{BTreeMap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use downscale_data::{Location, OutputKind, Replace, check_destination, copy_stores};
use downscale_message::one_line;
use serde_json::Value;

use crate::artifact::{Artifact, ArtifactStore, TaskHold};
use crate::context::TaskContext;
use crate::error::{EngineError, TaskError};
use crate::flow::{ArtifactKind, Body, Flow, Task};
use crate::key::CacheKey;
use crate::manifest::{Failure, Manifest, write_manifest};
use crate::progress::{Progress, TaskEnd};
use crate::records::{LogLevel, NewRun, Records, TaskReport, TaskState};
use crate::resources::{cpu_seconds, peak_rss, release_free_memory, reset_peak_rss};
use crate::runtime::Runtime;

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

/// What the cache holds for a task about to run.
enum Lookup {
    /// Its complete artifact.
    Cached(Artifact),
    /// Nothing yet: the task is to be executed under this hold (`None` on object storage, which has no locks).
    Held(Option<TaskHold>),
}

/// A task artifact published under `storage.results` when the run succeeds.
#[derive(Debug, Clone)]
pub struct Output {
    /// Its key in the manifest's `datasets` (`daily`).
    pub dataset: String,
    /// The task whose artifact it is.
    pub task_id: String,
    /// Its name under `<results>/<run_id>/`.
    pub published_name: String,
}

/// One run of a flow.
#[derive(Debug, Clone)]
pub struct RunRequest<'a> {
    /// The run id: names the results folder and the manifest.
    pub run_id: &'a str,
    /// The flow to run.
    pub flow: &'a Flow,
    /// The parameter file's document, recorded and written into the manifest.
    pub parameters: &'a Value,
    /// The parameter file as the user named it, for the records; `None` when the parameters came from elsewhere.
    pub parameter_file: Option<&'a str>,
    /// Global attributes for the manifest (and the outputs).
    pub attrs: Value,
    /// The artifacts published when every task succeeds.
    pub outputs: Vec<Output>,
}

/// How a run ended, once it is recorded and its manifest written.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The run's number in the records.
    pub record: i64,
    /// Whether every task succeeded and the outputs were published.
    pub succeeded: bool,
    /// Where the manifest's time-stamped copy is.
    pub manifest: String,
    /// The task that failed and why, when one did.
    pub failure: Option<Failure>,
}

/// Runs flows: where tasks execute, where artifacts and results go, what is recorded and who watches.
pub struct Engine<'a> {
    /// Where each task executes.
    pub runtime: &'a dyn Runtime,
    /// The cache of intermediate artifacts (`storage.intermediate`).
    pub artifacts: ArtifactStore,
    /// Where outputs and manifests are published (`storage.results`).
    pub results: Location,
    /// Where runs, tasks and log lines are recorded.
    pub records: &'a Records,
    /// Whether a complete artifact is reused; `false` executes every task again (`run_options.use_cache`).
    pub use_cache: bool,
    /// How transient failures are retried.
    pub retry: RetryPolicy,
    /// Who hears of tasks and tiles as they go.
    pub progress: &'a dyn Progress,
}

impl Engine<'_> {
    /// Runs the request's flow to the end or to the first failed task, recording every step; publishes the
    /// outputs and the manifest only when every task succeeded. `Err` is a failure of the records or the storage
    /// themselves; a failed task is a [`RunOutcome`] that did not succeed.
    pub fn run(&self, request: &RunRequest) -> Result<RunOutcome, EngineError> {
        let flow = request.flow;
        let keys = flow.keys();
        let record = self.records.start_run(&NewRun {
            run_id: request.run_id,
            flow: &flow.name,
            parameter_file: request.parameter_file,
            parameters: &request.parameters.to_string(),
            runtime: self.runtime.name(),
        })?;
        for task in flow.tasks() {
            self.records.plan_task(record, &task.id, &task.name, keys[&task.id].as_str())?;
        }
        self.log(
            record,
            None,
            LogLevel::Info,
            &format!("run {} of flow {} on runtime {}", request.run_id, flow.name, self.runtime.name()),
        );
        self.progress.run_started(request.run_id, flow.tasks().len());

        let mut done: HashMap<String, Artifact> = HashMap::new();
        // Where the outputs go is checked before any work: a run of hours must not end in "a folder of yours is
        // in the way". Publishing checks again, just before it renames.
        let mut failure = self
            .check_destinations(request)
            .err()
            .map(|error| Failure { task: "publish".into(), error: one_line(&error) });
        let runnable = if failure.is_none() { flow.tasks() } else { &[] };
        for task in runnable {
            let key = &keys[&task.id];
            match flow.body(task).and_then(|body| self.run_task(record, task, body, key, &done)) {
                Ok(artifact) => {
                    done.insert(task.id.clone(), artifact);
                }
                Err(error) => {
                    failure = Some(Failure { task: task.id.clone(), error: one_line(&error) });
                    break;
                }
            }
        }

        let mut manifest = Manifest {
            run_id: request.run_id.to_string(),
            parameters: request.parameters.clone(),
            attrs: request.attrs.clone(),
            datasets: BTreeMap::new(),
            intermediates: done.iter().map(|(id, a)| (id.clone(), a.location.clone())).collect(),
            cache_keys: keys.iter().map(|(id, k)| (id.clone(), k.to_string())).collect(),
            failure,
        };
        if manifest.failure.is_none()
            && let Err(error) = self.publish(request, &done, &mut manifest.datasets)
        {
            manifest.failure = Some(Failure { task: "publish".into(), error: one_line(&error) });
        }
        let path = write_manifest(&self.results, &manifest)?;
        let succeeded = manifest.failure.is_none();
        match &manifest.failure {
            None => self.log(record, None, LogLevel::Info, &format!("run succeeded; manifest {path}")),
            Some(f) => {
                self.log(record, Some(&f.task), LogLevel::Error, &format!("run failed in task {}: {}", f.task, f.error))
            }
        }
        let error = manifest.failure.as_ref().map(|f| format!("task {}: {}", f.task, f.error));
        self.records.finish_run(record, succeeded, Some(&path), error.as_deref())?;
        self.progress.run_finished(succeeded);
        Ok(RunOutcome { record, succeeded, manifest: path, failure: manifest.failure })
    }

    /// Returns the task's artifact, from the cache or by executing it (with retries).
    fn run_task(
        &self,
        record: i64,
        task: &Task,
        body: &Body,
        key: &CacheKey,
        done: &HashMap<String, Artifact>,
    ) -> Result<Artifact, TaskError> {
        self.progress.task_started(&task.id);
        let report_failure = |attempts: u32, error: &TaskError| {
            let report = TaskReport::unmeasured(TaskState::Failed, attempts, Some(one_line(error)));
            let _ = self.records.task_finished(record, &task.id, &report);
            self.progress.task_finished(&task.id, TaskEnd::Failed);
        };
        let _hold = match self.cached_or_held(record, task, key) {
            Ok(Lookup::Cached(artifact)) => return Ok(artifact),
            Ok(Lookup::Held(hold)) => hold,
            Err(error) => {
                report_failure(0, &error);
                return Err(error);
            }
        };
        let inputs: BTreeMap<String, Artifact> =
            task.inputs.iter().map(|(role, upstream)| (role.clone(), done[upstream].clone())).collect();
        self.records.task_started(record, &task.id).map_err(TaskError::from)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let cpu_before = cpu_seconds();
            release_free_memory();
            reset_peak_rss();
            let result = self.attempt(task, body, key, inputs.clone());
            let wall_seconds = started.elapsed().as_secs_f64();
            match result {
                Ok((artifact, bytes_read)) => {
                    let report = TaskReport {
                        state: TaskState::Succeeded,
                        attempts: attempt,
                        wall_seconds,
                        cpu_seconds: cpu_seconds() - cpu_before,
                        peak_rss_bytes: peak_rss(),
                        bytes_read,
                        bytes_written: artifact.bytes,
                        error: None,
                    };
                    self.records.task_finished(record, &task.id, &report).map_err(TaskError::from)?;
                    self.log(
                        record,
                        Some(&task.id),
                        LogLevel::Info,
                        &format!("{}: done in {wall_seconds:.2} s", task.id),
                    );
                    self.progress.task_finished(&task.id, TaskEnd::Succeeded);
                    return Ok(artifact);
                }
                Err(error) if attempt < self.retry.attempts && error.is_transient() => {
                    let delay = self.retry.base_delay * 2u32.pow(attempt - 1);
                    let cause = one_line(&error);
                    let message = format!("{}: attempt {attempt} failed ({cause}); retrying in {delay:?}", task.id);
                    self.log(record, Some(&task.id), LogLevel::Warn, &message);
                    std::thread::sleep(delay);
                }
                Err(error) => {
                    let message = format!("{}: failed after {attempt} attempt(s): {}", task.id, one_line(&error));
                    self.log(record, Some(&task.id), LogLevel::Error, &message);
                    report_failure(attempt, &error);
                    return Err(error);
                }
            }
        }
    }

    /// The task's complete artifact (recorded as a cache hit), or the hold on it for executing it. The cache is
    /// looked at before and again after taking the hold, which waits while a run sharing the cache computes the
    /// task: that run's artifact is then used.
    fn cached_or_held(&self, record: i64, task: &Task, key: &CacheKey) -> Result<Lookup, TaskError> {
        let cached = || -> Result<Option<Artifact>, TaskError> {
            if !self.use_cache {
                return Ok(None);
            }
            let Some(artifact) = self.artifacts.complete(&task.name, key)? else {
                return Ok(None);
            };
            let report = TaskReport::unmeasured(TaskState::Cached, 0, None);
            self.records.task_finished(record, &task.id, &report)?;
            self.log(record, Some(&task.id), LogLevel::Info, &format!("{}: cached ({})", task.id, artifact.location));
            self.progress.task_finished(&task.id, TaskEnd::Cached);
            Ok(Some(artifact))
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

    /// One execution: clear leftovers of an earlier attempt, run the body, mark the artifact complete.
    fn attempt(
        &self,
        task: &Task,
        body: &Body,
        key: &CacheKey,
        inputs: BTreeMap<String, Artifact>,
    ) -> Result<(Artifact, u64), TaskError> {
        self.artifacts.clear(&task.name, key)?;
        let output = self.artifacts.artifact_location(task, key);
        let context = TaskContext::new(task, inputs, output, self.runtime.budget(), self.progress);
        // A panicking body is a bug, but it must still end as a recorded failure, not a lost run.
        catch_unwind(AssertUnwindSafe(|| self.runtime.execute(body.as_ref(), &context))).unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(TaskError::new(format!("task {} panicked: {message}", task.id)))
        })?;
        let artifact = self.artifacts.mark_complete(task, key, context.written_variable())?;
        Ok((artifact, context.bytes_read()))
    }

    /// Refuses a run whose outputs would replace what it must not (see `downscale_data::publish`).
    fn check_destinations(&self, request: &RunRequest) -> Result<(), EngineError> {
        for output in &request.outputs {
            let kind = match request.flow.task(&output.task_id).map(|task| task.kind) {
                Some(ArtifactKind::Json) => OutputKind::Document,
                _ => OutputKind::ZarrStore,
            };
            let to = self.results.child(&format!("{}/{}", request.run_id, output.published_name));
            check_destination(&to, Replace::OwnOutputs, kind)?;
        }
        Ok(())
    }

    /// Copies the outputs to `<results>/<run_id>/<published name>` as one publication: none is visible until every
    /// one is copied, so a failure while publishing leaves the results as they were.
    fn publish(
        &self,
        request: &RunRequest,
        done: &HashMap<String, Artifact>,
        datasets: &mut BTreeMap<String, String>,
    ) -> Result<(), EngineError> {
        let mut copies = Vec::with_capacity(request.outputs.len());
        for output in &request.outputs {
            let artifact = done.get(&output.task_id).ok_or_else(|| EngineError::Flow {
                flow: request.flow.name.clone(),
                detail: format!("output '{}' names unknown task '{}'", output.dataset, output.task_id),
            })?;
            let from = Location::parse(&artifact.location)?;
            let to = self.results.child(&format!("{}/{}", request.run_id, output.published_name));
            copies.push((from, to));
        }
        copy_stores(&copies)?;
        for (output, (_, to)) in request.outputs.iter().zip(&copies) {
            datasets.insert(output.dataset.clone(), to.display.clone());
        }
        Ok(())
    }

    /// Records a log line and emits it as a tracing event, with the task as a plain field when there is one. An
    /// `error` line is a task's or the run's failure: that is the run's outcome, which the caller reports (the
    /// command line prints it as its one `error:` line), so the records keep it at level `error` but the live log
    /// shows it at `info`, and a terminal does not say it again at error level.
    fn log(&self, record: i64, task: Option<&str>, level: LogLevel, message: &str) {
        match (level, task) {
            (LogLevel::Warn, Some(task)) => tracing::warn!(task, "{message}"),
            (LogLevel::Warn, None) => tracing::warn!("{message}"),
            (LogLevel::Info | LogLevel::Error, Some(task)) => tracing::info!(task, "{message}"),
            (LogLevel::Info | LogLevel::Error, None) => tracing::info!("{message}"),
        }
        if let Err(e) = self.records.log(record, task, level, message) {
            tracing::warn!("cannot record a log line: {e}");
        }
    }
}
