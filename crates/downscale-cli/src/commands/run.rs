//! `downscale run`: runs the method flow of each parameter file on the selected runtime, one after another
//! (tasks they share run once), and prints each run's manifest path as a line of stdout, the last one last.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use downscale_config::RuntimeKind;
use downscale_data::Location;
use downscale_engine::{
    ArtifactStore, Engine, Records, RetryPolicy, RunRequest, build_runtime, ci_environment, selected_kind,
};
use downscale_params::{Problems, RunParameters};

use super::progress::TerminalProgress;
use super::{ConfigArgs, open_catalog};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// A run parameter file (repeatable: the runs go one after another).
    #[arg(long = "param-file", value_name = "FILE", required = true)]
    param_files: Vec<PathBuf>,
    /// The runtime (default: `runtime` of the configuration, else `ci` when CI=true, else `local`).
    #[arg(long, value_parser = parse_runtime)]
    runtime: Option<RuntimeKind>,
    /// Log lines as text for people or JSON for machines (on stderr).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// No progress bars and only errors in the log.
    #[arg(long, short)]
    quiet: bool,
    /// More log lines: -v for each task, -vv for everything.
    #[arg(short, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn parse_runtime(text: &str) -> Result<RuntimeKind, String> {
    RuntimeKind::ALL
        .into_iter()
        .find(|kind| kind.as_str() == text)
        .ok_or_else(|| format!("expected one of {}", RuntimeKind::ALL.map(|k| k.as_str()).join(", ")))
}

pub(crate) fn run(args: Args, config: &ConfigArgs) -> Result<ExitCode> {
    init_logging(&args);
    let config = config.load()?;
    let settings = config.settings();
    let kind = selected_kind(settings, args.runtime, ci_environment());
    // Never dropped: dropping the pool stops its threads while the process exits, and a thread's exit-time OpenSSL
    // cleanup (libcrypto is loaded with libnetcdf's libcurl) raced the process's own and crashed about one run in 30
    // after the manifest was written. Parked threads simply end with the process.
    let runtime = std::mem::ManuallyDrop::new(build_runtime(settings, kind)?);
    let model_catalog = open_catalog(&config, "data_catalog.model")?;
    let obs_catalog = open_catalog(&config, "data_catalog.obs")?;
    let records = Records::open(std::path::Path::new(&settings.run_records))?;
    let artifacts = ArtifactStore::new(&config.expand("storage.intermediate.uri")?)?;
    let results = Location::parse(&config.expand("storage.results.uri")?)?;
    let progress = TerminalProgress::new(args.quiet || !std::io::stderr().is_terminal());
    let engine = Engine {
        runtime: runtime.as_ref(),
        artifacts,
        results,
        records: &records,
        use_cache: settings.run_options.use_cache,
        retry: RetryPolicy::default(),
        progress: &progress,
    };

    let mut failed = Vec::new();
    for file in &args.param_files {
        let display = file.display().to_string();
        let parameters = RunParameters::read(file).map_err(|problems| anyhow::anyhow!(first_problem(&problems)))?;
        // Keys the method ignores do not stop a run: the original's files carry them. `params validate` shows them.
        for line in parameters.note_lines(&display) {
            tracing::info!("{line}");
        }
        let prepared = downscale_flows::prepare(&parameters, &display, settings, &model_catalog, &obs_catalog)?;
        let request = RunRequest {
            run_id: &prepared.run_id,
            flow: &prepared.flow,
            parameters: &prepared.parameters,
            parameter_file: Some(&display),
            attrs: prepared.attrs.clone(),
            outputs: prepared.outputs.clone(),
        };
        let outcome = engine.run(&request)?;
        match &outcome.failure {
            None => {
                // For people only: machines reading JSON logs on stderr get the manifest on stdout.
                if !args.quiet && matches!(args.log_format, LogFormat::Text) {
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

fn init_logging(args: &Args) {
    use tracing_subscriber::filter::LevelFilter;
    let level = match (args.quiet, args.verbose) {
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
    let _ = match args.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
