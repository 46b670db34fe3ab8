//! Running a batch: every parameter file of the folder that is not done yet, up to `--max-concurrent` at once in
//! this process, each run that fails run once more; then a line per file on stderr and its manifest on stdout, in
//! the files' order.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Result;
use downscale_config::RuntimeKind;
use downscale_engine::{
    Engine, NoProgress, Records, RetryPolicy, RunOutcome, RunRecord, RunRequest, RunStatus, RuntimeShare, TaskRunner,
};
use downscale_flows::PreparedRun;
use downscale_message::one_line;
use downscale_prefect::{Mirror, PrefectApi};

use super::super::ConfigArgs;
use super::super::flow_setup::{FlowSetup, storage_location, task_command};
use super::super::run::{LogArgs, parse_runtime, prefect_api};
use super::files::{BatchFile, parameter_files, prepare_all};

/// Attempts of a run before its file counts as failed. The second goes through the whole flow again, finding every
/// task the first completed in the cache: it is for what the tasks' own retries do not cover (a node lost, storage
/// or records unreachable for a while).
const RUN_ATTEMPTS: usize = 2;

#[derive(clap::Args)]
pub(super) struct RunArgs {
    /// The folder whose parameter files (`*.json`) run, in the order of their names.
    #[arg(long = "param-dir", value_name = "DIR", required = true)]
    param_dir: Option<PathBuf>,
    /// The runtime (default: `runtime` of the configuration, else `ci` when CI=true, else `local`).
    #[arg(long, value_parser = parse_runtime)]
    runtime: Option<RuntimeKind>,
    /// How many runs go at once, sharing the runtime's threads and memory budget.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    max_concurrent: u32,
    #[command(flatten)]
    log: LogArgs,
}

/// How a file of the batch went.
enum FileOutcome {
    /// It could not run: its one-line error, naming it.
    NotRunnable(String),
    /// Its run was done already: the newest run of its run id.
    AlreadyDone(Box<RunRecord>),
    /// It ran: how its last attempt ended (an `Err` is a failure of the records or the storage themselves, as one
    /// line), and how many attempts it took.
    Ran { last: Result<RunOutcome, String>, attempts: usize },
}

pub(super) fn run(args: RunArgs, config: &ConfigArgs) -> Result<ExitCode> {
    let Some(dir) = args.param_dir else {
        anyhow::bail!("--param-dir: expected the folder of parameter files to run");
    };
    let files = parameter_files(&dir, "--param-dir")?;
    args.log.init();
    let setup = FlowSetup::open(config.load()?, args.runtime)?;
    let records_file = PathBuf::from(&setup.config.settings().run_records);
    let records = Records::open(&records_file)?;
    let results = storage_location(&setup.config, "results")?;
    let batch = prepare_all(&setup, files);

    let mut outcomes: Vec<Option<FileOutcome>> = Vec::with_capacity(batch.len());
    let mut to_run = Vec::new();
    for (index, file) in batch.iter().enumerate() {
        outcomes.push(match &file.run {
            Err(error) => Some(FileOutcome::NotRunnable(error.clone())),
            Ok(prepared) => match RunStatus::of(&prepared.run_id, &records, &results)? {
                RunStatus::Done(record) => Some(FileOutcome::AlreadyDone(Box::new(record))),
                // Missing, failed, or running still: another process running it, or one that died on another host,
                // which only that host can tell. Running it here is safe either way, as the cache holds each task
                // for one process at a time.
                _ => {
                    to_run.push(Scheduled { index, file, prepared });
                    None
                }
            },
        });
    }
    // The records group a batch's runs under one name: the folder and when this invocation started.
    let batch_name = format!("{} {}", dir.display(), chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"));
    let prefect = prefect_api(&setup.config)?;
    let runs = Runs {
        setup: &setup,
        records_file: &records_file,
        results: &results,
        config,
        batch: &batch_name,
        prefect: prefect.as_ref(),
    };
    for (index, outcome) in runs.execute(&to_run, args.max_concurrent as usize)? {
        outcomes[index] = Some(outcome);
    }

    let mut failed = 0;
    for (file, outcome) in batch.iter().zip(outcomes) {
        let Some(outcome) = outcome else { continue };
        if !report(file, &outcome, args.log.for_people()) {
            failed += 1;
        }
    }
    // Each failed file has its own error line; more than one are counted, so a long log says how many at its end.
    if failed > 1 {
        eprintln!("error: {failed} of {} parameter files in {} failed", batch.len(), dir.display());
    }
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// A file of the batch that runs: its place in the batch, the file and its run.
struct Scheduled<'b> {
    index: usize,
    file: &'b BatchFile,
    prepared: &'b PreparedRun,
}

/// What the runs of a batch share.
struct Runs<'a> {
    setup: &'a FlowSetup,
    records_file: &'a Path,
    results: &'a downscale_data::Location,
    config: &'a ConfigArgs,
    /// The name the records group this batch's runs under.
    batch: &'a str,
    /// The Prefect server each attempt of a run is mirrored to, as a flow run of its own.
    prefect: Option<&'a PrefectApi>,
}

impl Runs<'_> {
    /// Runs the `scheduled` files, up to `at_once` at a time, each on its own thread with its own connection to the
    /// records (a connection serves one thread) and an equal share of the runtime. Returns each file's place in the
    /// batch with how it went. A task two runs need is computed once: whichever reaches it second waits for the
    /// first's hold on it and then finds it in the cache.
    fn execute(&self, scheduled: &[Scheduled], at_once: usize) -> Result<Vec<(usize, FileOutcome)>> {
        let workers = at_once.min(scheduled.len());
        let share = RuntimeShare::new(self.setup.runtime.as_ref(), workers);
        let next = AtomicUsize::new(0);
        let worker = || -> Result<Vec<(usize, FileOutcome)>> {
            let records = Records::open(self.records_file)?;
            let engine = Engine {
                tasks: TaskRunner {
                    runtime: &share,
                    artifacts: self.setup.artifacts.clone(),
                    use_cache: self.setup.config.settings().run_options.use_cache,
                    retry: RetryPolicy::default(),
                    progress: &NoProgress,
                },
                results: self.results.clone(),
                records: &records,
            };
            let mut done = Vec::new();
            while let Some(file) = scheduled.get(next.fetch_add(1, Ordering::Relaxed)) {
                done.push((file.index, self.run_file(&engine, file.file, file.prepared)));
            }
            Ok(done)
        };
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers).map(|_| scope.spawn(worker)).collect();
            let mut outcomes = Vec::new();
            for handle in handles {
                outcomes.extend(handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?);
            }
            Ok(outcomes)
        })
    }

    /// Runs one file, a second time if the first fails.
    fn run_file(&self, engine: &Engine, file: &BatchFile, prepared: &PreparedRun) -> FileOutcome {
        // Every line the engine logs for this run says which file it is about, as runs at once interleave. At the
        // error level so that it is there whatever the verbosity.
        let _file = tracing::error_span!("batch", file = %file.display).entered();
        let request = RunRequest {
            run_id: &prepared.run_id,
            flow: &prepared.flow,
            parameters: &prepared.parameters,
            parameter_file: Some(&file.display),
            attrs: prepared.attrs.clone(),
            outputs: prepared.outputs.clone(),
            task_command: task_command(self.config, &file.path, self.setup.runtime_kind),
            batch: Some(self.batch),
        };
        let mut attempts = 0;
        loop {
            attempts += 1;
            let mirror = self.prefect.map(|api| Mirror::start(api, self.records_file, &prepared.run_id));
            let last = engine.run(&request).map_err(|error| one_line(&error));
            if let Some(mirror) = mirror {
                mirror.finish();
            }
            let why = match &last {
                Ok(RunOutcome { failure: None, .. }) => return FileOutcome::Ran { last, attempts },
                Ok(RunOutcome { failure: Some(failure), .. }) => format!("task {}: {}", failure.task, failure.error),
                Err(error) => error.clone(),
            };
            if attempts == RUN_ATTEMPTS {
                return FileOutcome::Ran { last, attempts };
            }
            // At info, as the engine logs a failure: the file's `error:` line says it if the second attempt fails.
            tracing::info!("run {} failed ({why}); running it once more", prepared.run_id);
        }
    }
}

/// Prints how `file` went: its line on stderr (an `error:` line for a failure, always; the others when
/// `for_people`) and its manifest, when it has one, on stdout. Returns whether the file is done.
fn report(file: &BatchFile, outcome: &FileOutcome, for_people: bool) -> bool {
    let shown = &file.display;
    let run_id = file.run_id.as_deref().unwrap_or_default();
    let (done, line, manifest) = match outcome {
        FileOutcome::NotRunnable(error) => (false, format!("error: {error}"), None),
        FileOutcome::AlreadyDone(record) => (
            true,
            format!("{shown}: done already, skipped (run {run_id}; records: downscale runs show {})", record.id),
            record.manifest.clone(),
        ),
        FileOutcome::Ran { last: Ok(outcome), attempts } => {
            let records = format!("records: downscale runs show {}", outcome.record);
            let line = match &outcome.failure {
                None if *attempts > 1 => format!("{shown}: done on attempt {attempts} (run {run_id}; {records})"),
                None => format!("{shown}: done (run {run_id}; {records})"),
                Some(failure) => format!(
                    "error: {shown}: run {run_id} failed in task {}: {} ({attempts} attempts; {records})",
                    failure.task, failure.error
                ),
            };
            (outcome.failure.is_none(), line, Some(outcome.manifest.clone()))
        }
        FileOutcome::Ran { last: Err(error), attempts } => {
            (false, format!("error: {shown}: run {run_id}: {error} ({attempts} attempts)"), None)
        }
    };
    if !done || for_people {
        eprintln!("{line}");
    }
    if let Some(manifest) = manifest {
        println!("{manifest}");
    }
    done
}
