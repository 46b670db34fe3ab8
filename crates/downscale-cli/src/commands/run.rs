//! `downscale run`: runs the method flow of each parameter file on the selected runtime, one after another
//! (tasks they share run once), and prints each run's manifest path as a line of stdout, the last one last.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use downscale_config::RuntimeKind;
use downscale_engine::{Engine, Records, RetryPolicy, RunRequest, TaskRunner};
use downscale_prefect::{Mirror, PrefectApi};

use super::ConfigArgs;
use super::flow_setup::{FlowSetup, storage_location, task_command};
use super::progress::TerminalProgress;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// A run parameter file (repeatable: the runs go one after another).
    #[arg(long = "param-file", value_name = "FILE", required = true)]
    param_files: Vec<PathBuf>,
    /// The runtime (default: `runtime` of the configuration, else `ci` when CI=true, else `local`).
    #[arg(long, value_parser = parse_runtime)]
    runtime: Option<RuntimeKind>,
    #[command(flatten)]
    log: LogArgs,
}

/// How a command that runs flows logs on stderr.
#[derive(clap::Args)]
pub(super) struct LogArgs {
    /// Log lines as text for people or JSON for machines (on stderr).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// No progress bars and only errors in the log.
    #[arg(long, short)]
    pub(super) quiet: bool,
    /// More log lines: -v for each task, -vv for everything.
    #[arg(short, action = clap::ArgAction::Count)]
    verbose: u8,
}

impl LogArgs {
    /// Starts the log these options ask for.
    pub(super) fn init(&self) {
        init_logging(self.log_format, self.quiet, self.verbose);
    }

    /// Whether lines meant for people (where the outputs are, how each run went) are wanted on stderr: not with
    /// `--quiet`, and not among JSON log lines, whose readers get the manifests on stdout.
    pub(super) fn for_people(&self) -> bool {
        !self.quiet && matches!(self.log_format, LogFormat::Text)
    }
}

/// How log lines are written.
#[derive(Clone, Copy, clap::ValueEnum)]
pub(super) enum LogFormat {
    Text,
    Json,
}

pub(super) fn parse_runtime(text: &str) -> Result<RuntimeKind, String> {
    RuntimeKind::ALL
        .into_iter()
        .find(|kind| kind.as_str() == text)
        .ok_or_else(|| format!("expected one of {}", RuntimeKind::ALL.map(|k| k.as_str()).join(", ")))
}

pub(crate) fn run(args: Args, config: &ConfigArgs) -> Result<ExitCode> {
    args.log.init();
    let setup = FlowSetup::open(config.load()?, args.runtime)?;
    let settings = setup.config.settings();
    let records_file = std::path::Path::new(&settings.run_records);
    let records = Records::open(records_file)?;
    let prefect = prefect_api(&setup.config)?;
    let results = storage_location(&setup.config, "results")?;
    let progress = TerminalProgress::new(args.log.quiet || !std::io::stderr().is_terminal());
    let engine = Engine {
        tasks: TaskRunner {
            runtime: setup.runtime.as_ref(),
            artifacts: setup.artifacts.clone(),
            use_cache: settings.run_options.use_cache,
            retry: RetryPolicy::default(),
            progress: &progress,
        },
        results,
        records: &records,
    };

    let mut failed = Vec::new();
    for file in &args.param_files {
        let display = file.display().to_string();
        let prepared = setup.prepare(file)?;
        let request = RunRequest {
            run_id: &prepared.run_id,
            flow: &prepared.flow,
            parameters: &prepared.parameters,
            parameter_file: Some(&display),
            attrs: prepared.attrs.clone(),
            outputs: prepared.outputs.clone(),
            task_command: task_command(config, file, setup.runtime_kind),
            batch: None,
        };
        let mirror = prefect.as_ref().map(|api| Mirror::start(api, records_file, &prepared.run_id));
        let outcome = engine.run(&request);
        if let Some(mirror) = mirror {
            mirror.finish();
        }
        let outcome = outcome?;
        match &outcome.failure {
            None => {
                if args.log.for_people() {
                    eprintln!("{}: outputs under {}", prepared.run_id, engine.results.child(&prepared.run_id).display);
                    eprintln!(
                        "  open one with: xarray.open_zarr(\"{}/<name>.zarr\")",
                        engine.results.child(&prepared.run_id).display
                    );
                }
            }
            Some(failure) => {
                eprintln!(
                    "error: {display}: run {} failed in task {}: {} (records: downscale runs show {})",
                    prepared.run_id, failure.task, failure.error, outcome.record
                );
                failed.push(display.clone());
            }
        }
        println!("{}", outcome.manifest);
    }
    // Each failed run has printed its own error line; the status says that at least one failed.
    if !failed.is_empty() {
        if failed.len() > 1 {
            eprintln!("error: {} of {} runs failed: {}", failed.len(), args.param_files.len(), failed.join(", "));
        }
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The Prefect server each run is mirrored to, when `reporting.prefect.api_url` is set: expanded, so that the
/// password of a server's basic authentication can stay in the environment (`http://admin:$PREFECT_PASSWORD@…`).
pub(super) fn prefect_api(config: &downscale_config::Config) -> Result<Option<PrefectApi>> {
    if config.settings().reporting.prefect.api_url.is_none() {
        return Ok(None);
    }
    Ok(Some(PrefectApi::parse(&config.expand("reporting.prefect.api_url")?)?))
}

/// Log lines on stderr: `quiet` keeps only errors, each `verbose` step shows more.
pub(super) fn init_logging(format: LogFormat, quiet: bool, verbose: u8) {
    use tracing_subscriber::filter::LevelFilter;
    let level = match (quiet, verbose) {
        (true, _) => LevelFilter::ERROR,
        (false, 0) => LevelFilter::WARN,
        (false, 1) => LevelFilter::INFO,
        (false, _) => LevelFilter::TRACE,
    };
    // Colour codes only for a terminal: a log file or a pipe gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
