//! What the commands that run a flow's tasks share (`run`, `batch`, `task`, `plan`): the configuration's runtime,
//! catalogs and cache, and a parameter file made into its flow the same way by each, so that a task executed by
//! `downscale task` has exactly the cache key `downscale run` gives it.

use std::mem::ManuallyDrop;
use std::path::Path;

use anyhow::Result;
use downscale_catalog::Catalog;
use downscale_cluster::build_runtime;
use downscale_config::{Config, RuntimeKind};
use downscale_data::Location;
use downscale_engine::{ArtifactStore, NoProgress, RetryPolicy, Runtime, TaskRunner, ci_environment, selected_kind};
use downscale_flows::PreparedRun;
use downscale_params::{Problems, RunParameters};

use super::{ConfigArgs, open_catalog};

/// The configuration and what it names, opened.
pub(crate) struct FlowSetup {
    pub(crate) config: Config,
    // Never dropped: dropping the pool stops its threads while the process exits, and a thread's exit-time OpenSSL
    // cleanup (libcrypto is loaded with libnetcdf's libcurl) raced the process's own and crashed about one run in 30
    // after the manifest was written. Parked threads simply end with the process.
    pub(crate) runtime: ManuallyDrop<Box<dyn Runtime>>,
    /// The runtime's kind, for the commands a cluster's jobs run.
    pub(crate) runtime_kind: RuntimeKind,
    pub(crate) artifacts: ArtifactStore,
    model_catalog: Catalog,
    obs_catalog: Catalog,
}

impl FlowSetup {
    /// Opens what `config` names, with the runtime `requested` on the command line (else the configuration's).
    pub(crate) fn open(config: Config, requested: Option<RuntimeKind>) -> Result<FlowSetup> {
        let settings = config.settings();
        let kind = selected_kind(settings, requested, ci_environment());
        let runtime = ManuallyDrop::new(build_runtime(settings, kind)?);
        let model_catalog = open_catalog(&config, "data_catalog.model")?;
        let obs_catalog = open_catalog(&config, "data_catalog.obs")?;
        let artifacts = ArtifactStore::at(storage_location(&config, "intermediate")?);
        Ok(FlowSetup { config, runtime, runtime_kind: kind, artifacts, model_catalog, obs_catalog })
    }

    /// A task runner for looking, not running: the cache is consulted and nothing is watched (`plan`, `manifests`
    /// ask it for shard counts).
    pub(crate) fn inspector(&self) -> TaskRunner<'_> {
        TaskRunner {
            runtime: self.runtime.as_ref(),
            artifacts: self.artifacts.clone(),
            use_cache: true,
            retry: RetryPolicy::default(),
            progress: &NoProgress,
        }
    }

    /// The flow of the parameter file `file`; its notes (keys the method ignores) go to the log.
    pub(crate) fn prepare(&self, file: &Path) -> Result<PreparedRun> {
        self.prepare_parameters(&read_parameters(file)?, file)
    }

    /// The flow of `parameters`, read from `file`; their notes (keys the method ignores) go to the log.
    pub(crate) fn prepare_parameters(&self, parameters: &RunParameters, file: &Path) -> Result<PreparedRun> {
        let display = file.display().to_string();
        // Keys the method ignores do not stop a run: the original's files carry them. `params validate` shows them.
        for line in parameters.note_lines(&display) {
            tracing::info!("{line}");
        }
        let settings = self.config.settings();
        Ok(downscale_flows::prepare(parameters, &display, settings, &self.model_catalog, &self.obs_catalog)?)
    }
}

/// The run parameters in `file`, or its first problem as one line naming it.
pub(crate) fn read_parameters(file: &Path) -> Result<RunParameters> {
    RunParameters::read(file).map_err(|problems| anyhow::anyhow!(first_problem(&problems)))
}

/// The command a cluster job runs to execute a task of the run of `param_file` (`--task <id>` is added): this
/// program, the same configuration layers and the runtime's kind, so that the job builds the same flow and gets the
/// runtime's budget.
pub(crate) fn task_command(config: &ConfigArgs, param_file: &Path, runtime: RuntimeKind) -> Vec<String> {
    let program = std::env::current_exe().map_or_else(|_| "downscale".to_string(), |p| p.display().to_string());
    let param_file = std::path::absolute(param_file).unwrap_or_else(|_| param_file.to_path_buf());
    let mut command = vec![program];
    command.extend(config.to_args());
    command.extend([
        "task".to_string(),
        "--param-file".to_string(),
        param_file.display().to_string(),
        "--runtime".to_string(),
        runtime.as_str().to_string(),
    ]);
    command
}

/// The location of `storage.<name>` (`intermediate`, `results`): its `uri` with its `options` for the object store,
/// on top of the environment, checked to answer (a missing bucket or refused credentials are one line naming the
/// key, before any work).
pub(crate) fn storage_location(config: &Config, name: &str) -> Result<Location> {
    let uri = config.expand(&format!("storage.{name}.uri"))?;
    let options = config.expand_options(&format!("storage.{name}.options"))?;
    Location::probe(&uri, &options)?.check_reachable().map_err(|error| anyhow::anyhow!("storage.{name}: {error}"))?;
    Ok(Location::parse_with_options(&uri, &options)?)
}

/// The first problem of a parameter file and how many more there are: a run stops at the first, on one line;
/// `params validate` lists every one, a line each.
fn first_problem(problems: &Problems) -> String {
    let mut lines = problems.lines();
    let first = lines.next().unwrap_or_default();
    match lines.count() {
        0 => first,
        more => format!("{first} (and {more} more; `downscale params validate` lists them)"),
    }
}
