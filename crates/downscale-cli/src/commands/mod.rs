//! The subcommands, one module each; this module dispatches and holds what they share.

mod adjust;
mod adjust_inputs;
mod batch;
mod bench;
mod catalog;
mod config;
mod convert;
mod dashboard;
pub(crate) mod evaluate;
mod extract;
mod flow_setup;
mod inspect;
mod manifests;
mod params;
mod plan;
mod plot;
mod progress;
mod regrid;
mod run;
mod runs;
mod task;
mod validate;

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use downscale_data::decode::{data_variables, decode_variable};
use downscale_data::{
    DataArray, Location, OutputKind, Provenance, Replace, WriteOptions, backend, check_destination, write_netcdf,
    write_zarr,
};

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Show variables, dimensions, coordinate ranges and direction, calendar, units and missing values of NetCDF
    /// files or Zarr stores.
    Inspect(inspect::Args),
    /// Convert a variable of a NetCDF file or Zarr store to a CF-1.8 Zarr store, written atomically.
    Convert(convert::Args),
    /// Regrid a variable onto the grid of another file (bilinear, conservative or nearest) and write it as NetCDF
    /// or Zarr.
    Regrid(regrid::Args),
    /// Bias-correct a variable against observations with one of the quantile-mapping methods (scikit-downscale's
    /// and xsdba's algorithms, reproduced exactly), every point independently and in parallel.
    Adjust(Box<adjust::Args>),
    /// Time the heavy operations on real data, next to reference tools doing the same work.
    Bench(bench::Args),
    /// Check or generate run parameter files.
    #[command(subcommand)]
    Params(params::Command),
    /// Show the effective configuration.
    #[command(subcommand)]
    Config(config::Command),
    /// Run the method flow of parameter files on a runtime; prints each run's manifest path.
    Run(run::Args),
    /// Run every parameter file of a folder, skipping those done already and up to N at once, or show where each
    /// stands (`batch status DIR`).
    Batch(batch::Args),
    /// Show the flow a parameter file makes, as JSON: each task's spec and cache key, in order, and the outputs.
    Plan(plan::Args),
    /// Execute one task of a run in this process (its inputs must be complete in the cache), as a cluster node
    /// does; prints its state as JSON.
    Task(task::Args),
    /// Print the manifests that run one task of a run on a cluster manager other than the runtimes (Kubernetes).
    #[command(subcommand)]
    Manifests(manifests::Command),
    /// Show the run records: runs, their tasks and log lines.
    #[command(subcommand)]
    Runs(runs::Command),
    /// Serve the web dashboard of the run records: runs, task graphs and states, logs, resources and maps of the
    /// outputs, updated live while runs are in progress.
    Dashboard(dashboard::Args),
    /// Draw a map (a day, or the mean of a month, a year or the whole record) or the domain-mean series of a
    /// variable of a Zarr store or NetCDF file, as PNG or SVG.
    Plot(plot::Args),
    /// Score a finished run against the observations (bias, spread, quantiles, Wasserstein distance, persistence,
    /// precipitation occurrence and spells, ETCCDI extremes, pattern correlation) and check its output's quality
    /// (gaps on land, impossible values, missing days, stores that do not validate); writes evaluation.json.
    Evaluate(evaluate::Args),
    /// Write the daily series at named places (a CSV of points, or the shipped large cities) of a run's output or
    /// a store, as a CSV with a column per place, each place at its nearest cell holding data.
    Extract(extract::Args),
    /// Build the catalogs of the stores the runs of a results folder published (intake-esm JSON and CSV, and the
    /// web catalog JSON), newest run per run id, stores that do not validate left out.
    Catalog(catalog::Args),
    /// Check that a Zarr store is complete (every chunk present, metadata consistent) and count missing values.
    /// Exits with 1 when the store is incomplete.
    Validate(validate::Args),
}

pub(crate) fn run(command: Command, config: &ConfigArgs) -> Result<ExitCode> {
    match command {
        Command::Params(command) => params::run(command, config),
        Command::Config(command) => config::run(command, config),
        Command::Run(args) => run::run(args, config),
        Command::Batch(args) => batch::run(args, config),
        Command::Plan(args) => plan::run(args, config),
        Command::Task(args) => task::run(args, config),
        Command::Manifests(command) => manifests::run(command, config),
        Command::Runs(command) => runs::run(command, config),
        Command::Dashboard(args) => dashboard::run(args, config),
        Command::Evaluate(args) => evaluate::run(args, config),
        Command::Catalog(args) => catalog::run(args, config),
        Command::Extract(args) => extract::run(args, config),
        Command::Adjust(args) => adjust::run(*args),
        Command::Bench(args) => bench::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Regrid(args) => regrid::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Plot(args) => plot::run(args),
    }
}

/// The configuration layers given on the command line, on top of the files and the environment.
#[derive(clap::Args, Default)]
pub(crate) struct ConfigArgs {
    /// A YAML configuration file, above the system, user and $DOWNSCALE_CONFIG files (repeatable; later wins).
    #[arg(long = "config", id = "config_files", global = true, value_name = "FILE")]
    config_files: Vec<std::path::PathBuf>,
    /// Set a configuration key, e.g. --set run_options.use_cache=false (repeatable; the highest layer).
    #[arg(long = "set", id = "config_overrides", global = true, value_name = "KEY=VALUE")]
    config_overrides: Vec<String>,
}

impl ConfigArgs {
    /// These layers as command-line arguments for another `downscale` process (a cluster job), with the files'
    /// paths made absolute: the job runs in this working directory, but its command is also read by people.
    pub(crate) fn to_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        for file in &self.config_files {
            let file = std::path::absolute(file).unwrap_or_else(|_| file.clone());
            args.extend(["--config".to_string(), file.display().to_string()]);
        }
        for setting in &self.config_overrides {
            args.extend(["--set".to_string(), setting.clone()]);
        }
        args
    }

    /// The configuration as it is now: read when a command needs it, never earlier. Settings that will not be used
    /// as written (a thread count above the cores) are reported on stderr, one line each.
    pub(crate) fn load(&self) -> Result<downscale_config::Config> {
        let sources = downscale_config::Sources::from_process(self.config_files.clone(), self.config_overrides.clone());
        let config = downscale_config::load(&sources)?;
        for warning in config.warnings() {
            eprintln!("warning: {warning}");
        }
        Ok(config)
    }
}

/// Opens the catalog the configuration names at `key` (`data_catalog.model` or `data_catalog.obs`). A catalog that
/// cannot be read is one line naming the key, the path once and where the value came from; when that is the
/// built-in default, which names the repository's sample catalogs relative to the working directory, a command run
/// from anywhere else fails here, so the line says how to point at the catalogs.
fn open_catalog(config: &downscale_config::Config, key: &str) -> Result<downscale_catalog::Catalog> {
    use downscale_catalog::{Catalog, CatalogError};
    let path = config.expand(key)?;
    Catalog::open(&path).map_err(|error| {
        let origin = config.path_origin(key);
        match error {
            CatalogError::Read { catalog, file, detail } if catalog == file => {
                let default =
                    config.get(key).is_some_and(|entry| entry.source == downscale_config::ValueOrigin::Default);
                let hint = if default {
                    format!("; {}", downscale_config::Config::how_to_set(key, "PATH"))
                } else {
                    String::new()
                };
                anyhow::anyhow!("{key}: cannot read {catalog} ({origin}): {detail}{hint}")
            }
            other => anyhow::anyhow!("{key} ({origin}): {other}"),
        }
    })
}

/// The variable a command reads.
#[derive(clap::Args)]
struct Input {
    /// Input NetCDF file or Zarr store (path or URL).
    #[arg(long = "in", value_name = "FILE")]
    input: String,
    /// Variable to read (default: the only data variable).
    #[arg(long)]
    var: Option<String>,
}

impl Input {
    fn read(&self) -> Result<DataArray> {
        read_input(&self.input, self.var.as_deref())
    }
}

/// Opens `input` and decodes `var`, or its only data variable when `var` is not given.
fn read_input(input: &str, var: Option<&str>) -> Result<DataArray> {
    let location = Location::parse(input)?;
    let dataset = backend::open(&location)?;
    let name = match var {
        Some(v) => v.to_string(),
        None => {
            let names = data_variables(dataset.as_ref());
            match names.as_slice() {
                [one] => one.clone(),
                _ => anyhow::bail!(
                    "{}: choose a variable with --var (data variables: {})",
                    location.display,
                    names.join(", ")
                ),
            }
        }
    };
    Ok(decode_variable(dataset.as_ref(), &name)?)
}

/// Provenance recording the command line that produced an output.
fn command_line_provenance() -> Provenance {
    Provenance { history_entry: std::env::args().collect::<Vec<_>>().join(" "), ..Provenance::default() }
}

/// What a command's `--out` names: a Zarr store or a NetCDF file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OutputFormat {
    Zarr,
    Netcdf,
}

/// Where a command publishes its result, checked before any work is done.
struct Output {
    location: Location,
    format: OutputFormat,
    replace: Replace,
}

impl Output {
    /// Parses `out` and refuses at once what publishing must not replace there (another program's store or file
    /// without `--overwrite`; a folder or file of anything else, ever), so a long computation does not end in that
    /// error. `formats` are what the command writes; with both, the name's `.nc` or `.zarr` ending chooses.
    fn checked(out: &str, overwrite: bool, formats: &[OutputFormat]) -> Result<Output> {
        let name = out.trim_end_matches('/');
        let format = match formats {
            [only] => *only,
            _ if name.ends_with(".nc") => OutputFormat::Netcdf,
            _ if name.ends_with(".zarr") => OutputFormat::Zarr,
            _ => anyhow::bail!("{out}: --out must end in .nc (NetCDF) or .zarr (Zarr store)"),
        };
        let location = Location::parse(out)?;
        let replace = if overwrite { Replace::AnyDataset } else { Replace::OwnOutputs };
        let kind = match format {
            OutputFormat::Zarr => OutputKind::ZarrStore,
            OutputFormat::Netcdf => OutputKind::NetcdfFile,
        };
        check_destination(&location, replace, kind)?;
        Ok(Output { location, format, replace })
    }

    /// Publishes `array` with `options` (whose `replace` is this output's).
    fn write(&self, array: &DataArray, options: WriteOptions) -> Result<()> {
        match self.format {
            OutputFormat::Netcdf => write_netcdf(array, &self.location, &options.provenance, self.replace)?,
            OutputFormat::Zarr => {
                write_zarr(array, &self.location, &WriteOptions { replace: self.replace, ..options })?
            }
        }
        println!("{}", self.location.display);
        Ok(())
    }
}
