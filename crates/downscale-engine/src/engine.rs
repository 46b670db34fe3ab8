//! Running a flow: execute each task once its inputs are complete (several at once when the runtime has room),
//! record every step, and publish the outputs and the manifest only when every task succeeded, so
//! `storage.results` never holds a part of a failed run.

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use downscale_data::{Location, OutputKind, Replace, check_destination, copy_stores};
use downscale_message::one_line;
use serde_json::Value;

use crate::artifact::Artifact;
use crate::error::EngineError;
use crate::execute::{TaskEvent, TaskOutcome, TaskRunner};
use crate::flow::{ArtifactKind, Flow, Task};
use crate::key::CacheKey;
use crate::manifest::{Failure, Manifest, write_manifest};
use crate::records::{LogLevel, NewRun, Records};
use crate::resources::ResourceSampler;
use crate::runtime::Budget;

mod on_cluster;

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
    /// How another process executes a task of this run: the program and its arguments (`downscale task` with the
    /// run's parameter file and configuration), to which `--task <id>` is added. A runtime on a cluster runs each
    /// task's job with it; in-process runtimes do not use it.
    pub task_command: Vec<String>,
    /// The `downscale batch` invocation the run belongs to, recorded so lists can group its runs.
    pub batch: Option<&'a str>,
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

/// Runs flows: how tasks execute ([`TaskRunner`]), where results go, and what is recorded.
pub struct Engine<'a> {
    /// Executes each task: runtime, cache, retries and the watcher.
    pub tasks: TaskRunner<'a>,
    /// Where outputs and manifests are published (`storage.results`).
    pub results: Location,
    /// Where runs, tasks and log lines are recorded.
    pub records: &'a Records,
}

/// The tile counts the scheduler has heard and recorded, per task. A task may finish hundreds of tiles a second;
/// the records take a count at most every [`TileCounts::PERIOD`] per task, its first and its last, so a watcher
/// sees progress without a write per tile.
#[derive(Default)]
struct TileCounts {
    /// Per task: the count last heard, whether it is recorded, and when a count was last recorded.
    tasks: HashMap<String, (u64, u64, bool, Option<Instant>)>,
}

impl TileCounts {
    const PERIOD: Duration = Duration::from_millis(500);

    /// Notes a count; true when it should be recorded now.
    fn worth_recording(&mut self, task: &str, done: u64, total: u64) -> bool {
        let entry = self.tasks.entry(task.to_string()).or_insert((0, 0, false, None));
        let due = done == 0 || done == total || entry.3.is_none_or(|at| at.elapsed() >= Self::PERIOD);
        *entry = (done, total, due, if due { Some(Instant::now()) } else { entry.3 });
        due
    }

    /// The last count heard for a finished task, when it was not recorded.
    fn unrecorded(&mut self, task: &str) -> Option<(u64, u64)> {
        self.tasks.remove(task).filter(|(_, _, recorded, _)| !recorded).map(|(done, total, _, _)| (done, total))
    }
}

/// What a task executing on a worker thread tells the scheduler, which alone writes the records.
enum Message<'t> {
    Event(&'t str, TaskEvent),
    Finished(&'t Task, Box<TaskOutcome>),
}

impl Engine<'_> {
    /// Runs the request's flow to the end or to the first failed task, recording every step; publishes the
    /// outputs and the manifest only when every task succeeded. `Err` is a failure of the records or the storage
    /// themselves; a failed task is a [`RunOutcome`] that did not succeed.
    pub fn run(&self, request: &RunRequest) -> Result<RunOutcome, EngineError> {
        let flow = request.flow;
        let keys = flow.keys();
        let runtime = self.tasks.runtime;
        // A cluster that does not answer, or cannot run the jobs as configured, is known before anything is recorded
        // or submitted.
        if let Some(cluster) = runtime.cluster() {
            cluster.check()?;
        }
        let record = self.records.start_run(&NewRun {
            run_id: request.run_id,
            flow: &flow.name,
            parameter_file: request.parameter_file,
            parameters: &request.parameters.to_string(),
            runtime: runtime.name(),
            batch: request.batch,
        })?;
        for task in flow.tasks() {
            let inputs: Vec<&str> = task.inputs.values().map(String::as_str).collect();
            self.records.plan_task(record, &task.id, &task.name, keys[&task.id].as_str(), &inputs)?;
        }
        self.log(
            record,
            None,
            LogLevel::Info,
            &format!("run {} of flow {} on runtime {}", request.run_id, flow.name, runtime.name()),
        );
        self.tasks.progress.run_started(request.run_id, flow.tasks().len());

        // Where the outputs go is checked before any work: a run of hours must not end in "a folder of yours is
        // in the way". Publishing checks again, just before it renames.
        let (done, mut failure) = match self.check_destinations(request) {
            Ok(()) => match runtime.cluster() {
                Some(cluster) => {
                    self.schedule_on_cluster(record, request.run_id, flow, &keys, cluster, &request.task_command)?
                }
                None => self.schedule(record, flow, &keys)?,
            },
            Err(error) => (HashMap::new(), Some(Failure { task: "publish".into(), error: one_line(&error) })),
        };

        let mut manifest = Manifest {
            run_id: request.run_id.to_string(),
            parameters: request.parameters.clone(),
            attrs: request.attrs.clone(),
            datasets: BTreeMap::new(),
            intermediates: done.iter().map(|(id, a)| (id.clone(), a.location.clone())).collect(),
            cache_keys: keys.iter().map(|(id, k)| (id.clone(), k.to_string())).collect(),
            failure: None,
        };
        if failure.is_none()
            && let Err(error) = self.publish(request, &done, &mut manifest.datasets)
        {
            failure = Some(Failure { task: "publish".into(), error: one_line(&error) });
        }
        manifest.failure = failure;
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
        self.tasks.progress.run_finished(succeeded);
        Ok(RunOutcome { record, succeeded, manifest: path, failure: manifest.failure })
    }

    /// Executes the flow's tasks, each as soon as its inputs are complete and one of the runtime's task slots is
    /// free, on worker threads; this thread alone writes the records, from what the workers send. After a failure
    /// no task starts, the running ones finish, and the first failure is the run's. Each running task gets an equal
    /// share of the runtime's memory budget, so the tasks that run at once stay within it together; among tasks
    /// ready at once, the flow's order decides.
    fn schedule(
        &self,
        record: i64,
        flow: &Flow,
        keys: &HashMap<String, CacheKey>,
    ) -> Result<(HashMap<String, Artifact>, Option<Failure>), EngineError> {
        let runtime = self.tasks.runtime;
        let slots = runtime.task_slots().max(1);
        let full = runtime.budget();
        let budget = Budget { threads: full.threads, memory_bytes: full.memory_bytes / slots as u64 };
        let mut done: HashMap<String, Artifact> = HashMap::new();
        let mut failure: Option<Failure> = None;
        let mut waiting: Vec<&Task> = flow.tasks().iter().collect();
        let (sender, receiver) = mpsc::channel::<Message>();
        let mut sampler = ResourceSampler::new();
        let mut tiles = TileCounts::default();
        std::thread::scope(|scope| -> Result<(), EngineError> {
            let mut running = 0usize;
            loop {
                while failure.is_none() && running < slots {
                    let ready = waiting.iter().position(|t| t.inputs.values().all(|up| done.contains_key(up)));
                    let Some(index) = ready else { break };
                    let task = waiting.remove(index);
                    let body = match flow.body(task) {
                        Ok(body) => body,
                        Err(error) => {
                            failure = Some(Failure { task: task.id.clone(), error: one_line(&error) });
                            break;
                        }
                    };
                    let inputs: BTreeMap<String, Artifact> =
                        task.inputs.iter().map(|(role, upstream)| (role.clone(), done[upstream].clone())).collect();
                    let (sender, key, runner) = (sender.clone(), &keys[&task.id], &self.tasks);
                    scope.spawn(move || {
                        let events = |event| {
                            let _ = sender.send(Message::Event(&task.id, event));
                        };
                        let outcome = runner.execute(task, body, key, inputs, budget, !runner.use_cache, &events);
                        let _ = sender.send(Message::Finished(task, Box::new(outcome)));
                    });
                    running += 1;
                }
                if running == 0 {
                    return Ok(());
                }
                if sampler.due() {
                    let (cores, rss) = sampler.sample();
                    self.records.sample(record, cores, rss)?;
                }
                let message = match receiver.recv_timeout(ResourceSampler::INTERVAL) {
                    Ok(message) => message,
                    Err(mpsc::RecvTimeoutError::Timeout) => continue,
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        unreachable!("the scheduler holds a sender of its own")
                    }
                };
                match message {
                    Message::Event(task, TaskEvent::Executing) => self.records.task_started(record, task)?,
                    Message::Event(task, TaskEvent::Retrying) => self.records.task_retrying(record, task)?,
                    Message::Event(task, TaskEvent::Tiles { done, total }) => {
                        if tiles.worth_recording(task, done, total) {
                            self.records.task_tiles(record, task, done, total)?;
                        }
                    }
                    Message::Event(task, TaskEvent::Log(level, message)) => {
                        self.log(record, Some(task), level, &message)
                    }
                    Message::Finished(task, outcome) => {
                        running -= 1;
                        if let Some((done, total)) = tiles.unrecorded(&task.id) {
                            self.records.task_tiles(record, &task.id, done, total)?;
                        }
                        self.records.task_finished(record, &task.id, &outcome.report)?;
                        match outcome.result {
                            Ok(artifact) => {
                                done.insert(task.id.clone(), artifact);
                            }
                            Err(error) => {
                                failure.get_or_insert(Failure { task: task.id.clone(), error: one_line(&error) });
                            }
                        }
                    }
                }
            }
        })?;
        // Even a run shorter than the sampling interval leaves one reading.
        let (cores, rss) = sampler.sample();
        self.records.sample(record, cores, rss)?;
        Ok((done, failure))
    }

    /// Refuses a run whose outputs would replace what it must not (see `downscale_data::publish`).
    fn check_destinations(&self, request: &RunRequest) -> Result<(), EngineError> {
        for output in &request.outputs {
            let kind = match request.flow.task(&output.task_id).map(|task| task.kind) {
                Some(ArtifactKind::Json) => OutputKind::Document,
                Some(ArtifactKind::Html) => OutputKind::Page,
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
            let from = self.tasks.artifacts.location_of(artifact);
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
