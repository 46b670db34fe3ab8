//! `downscale bench gard`: the costs of GARD's parts.
//!
//! - The point models, fitted and applied at every point of a tile, on 1 and 2 threads, next to scikit-downscale
//!   0.1.5 applied point by point (as the original system's flow applied it) in the same run on the same numbers:
//!   `PureRegression` with a precipitation threshold of 0 (30 training and 30 predicted years) and
//!   `AnalogRegression` with 200 analogues (10 and 10 years; a regression per predicted day).
//! - Drawing a year of the correlated random fields of the random effects on a global 0.25° grid ([`scrf`]).

mod models;
mod scrf;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Days of random field to draw.
    #[arg(long, default_value_t = 365)]
    days: usize,
    /// Points of the model tile.
    #[arg(long, default_value_t = 64)]
    points: usize,
    /// Points timed with scikit-downscale, which takes seconds per point for the analogue model.
    #[arg(long, default_value_t = 2)]
    skdownscale_points: usize,
    /// Python of the scikit-downscale 0.1.5 venv (default: .venv-skdownscale of this checkout).
    #[arg(long, value_name = "PYTHON")]
    skdownscale_python: Option<PathBuf>,
    /// Directory of the sample data (default: `data/samples` of this checkout).
    #[arg(long, value_name = "DIR")]
    samples: Option<PathBuf>,
    /// Only the point models (`models`) or only the random fields (`scrf`).
    #[arg(long, value_name = "PART")]
    only: Option<Part>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Part {
    Models,
    Scrf,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    if args.only != Some(Part::Scrf) {
        models::run(&args)?;
        println!();
    }
    if args.only != Some(Part::Models) {
        scrf::run(args.days)?;
    }
    Ok(ExitCode::SUCCESS)
}
