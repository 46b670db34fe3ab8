//! `downscale bench`: timings of the heavy operations on real data, next to the reference tools doing the same work
//! in the same run.

mod adjust;
mod case;
mod dashboard;
mod evaluate;
mod flow;
mod gard;
mod regrid;
mod scale;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// Weight generation (global 1 degree -> ERA5 0.25 degree, and CNRM-CM5 -> E-OBS over Iberia) and weight
    /// application throughput.
    Regrid {
        /// Directory of the sample data (default: `data/samples` of this checkout).
        #[arg(long, value_name = "DIR")]
        samples: Option<PathBuf>,
        /// Days of global data to regrid when timing application.
        #[arg(long, default_value_t = 8)]
        days: usize,
    },
    /// Bias correction of a 48x48-point tile of daily tasmax (30 training + 30 predicted years): EQM, DQM and QDM
    /// (20 quantiles, grouped by time and by month) and BCSD temperature, on 1 and 2 threads, next to xsdba on the
    /// whole tile and scikit-downscale applied point by point (on a subset of points).
    Adjust(adjust::Args),
    /// The BCSD flow end to end on a scaled-up copy of the Iberia tas case, at two memory budgets: wall time next to
    /// the I/O floor (bytes read and written at the disk speed measured in the same run) and peak memory next to
    /// the budget.
    Flow(flow::Args),
    /// The BCSD flow on the scaled-up case at several grid sizes on each runtime of this machine (local, slurm,
    /// dask): wall time, the engines' gap between stages, publishing lag and peak memory per shard.
    Scale(scale::Args),
    /// GARD's parts: its point models (PureRegression, AnalogRegression) on a tile of station series on 1 and 2
    /// threads next to scikit-downscale point by point, and a year of the correlated random fields of its random
    /// effects on a global 0.25° grid.
    Gard(gard::Args),
    /// The dashboard's runs list and run pages on records of 10,000 runs and 1,000,000 log lines modelled on a real
    /// run: p50, p95 and slowest of real HTTP requests over loopback, next to the 100 ms goal.
    Dashboard(dashboard::Args),
    /// `downscale evaluate` of a BCSD run of the scaled-up Iberia tas case next to the same metrics with xarray and
    /// xclim on the same stores: seconds, bytes read against the stores' sizes, and the numbers compared.
    Evaluate(evaluate::Args),
    /// Build the scaled-up copy of the Iberia tas case that `bench flow` runs (inputs, catalogs and a parameter
    /// file) in a directory, and print where they are, to run it by hand.
    Case {
        #[command(flatten)]
        case: case::CaseArgs,
        /// The directory to build it in.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    match args.what {
        What::Regrid { samples, days } => regrid::run(&samples.unwrap_or_else(default_samples), days),
        What::Adjust(args) => adjust::run(args),
        What::Flow(args) => flow::run(args),
        What::Scale(args) => scale::run(args),
        What::Gard(args) => gard::run(args),
        What::Dashboard(args) => dashboard::run(args),
        What::Evaluate(args) => evaluate::run(args),
        What::Case { case, out } => case::run(&case, &out),
    }
}

fn default_samples() -> PathBuf {
    workspace().join("data/samples")
}

/// The checkout this binary was built from (for its sample data and reference-tool venvs).
fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn time<T>(f: impl FnOnce() -> Result<T>) -> Result<(T, Duration)> {
    let start = Instant::now();
    let value = f()?;
    Ok((value, start.elapsed()))
}
