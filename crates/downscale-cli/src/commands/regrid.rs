use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::ValueEnum;
use downscale_data::WriteOptions;
use downscale_regrid::weight_file::read_weight_file;
use downscale_regrid::{Grid, RegridMethod, WeightCache, WeightOptions, compute_weights, regrid_array};

use super::{Output, OutputFormat};

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    input: super::Input,
    /// A file on the target grid (its data variable's lat/lon, with bounds when it has them).
    #[arg(long, value_name = "FILE")]
    grid_like: String,
    /// Variable of --grid-like whose grid to use (default: its only data variable).
    #[arg(long, value_name = "VAR")]
    grid_var: Option<String>,
    #[arg(long, value_enum)]
    method: RegridMethodName,
    /// Bilinear: refuse targets outside the source grid instead of taking the nearest source cell.
    #[arg(long)]
    no_extrapolate: bool,
    /// Use these weights (ESMF or SCRIP file, e.g. from xESMF or `cdo gen*`) instead of computing them.
    #[arg(long, value_name = "FILE", conflicts_with = "weights_cache")]
    weights: Option<PathBuf>,
    /// Keep computed weights in this directory and reuse them for the same pair of grids.
    #[arg(long, value_name = "DIR")]
    weights_cache: Option<PathBuf>,
    /// Output file: `.nc` for NetCDF, `.zarr` for a Zarr store.
    #[arg(long, value_name = "FILE")]
    out: String,
    /// Replace a NetCDF file or Zarr store at --out that another program wrote (an output this tool wrote is
    /// replaced without it; a folder or file of anything else never is).
    #[arg(long)]
    overwrite: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum RegridMethodName {
    Bilinear,
    Conservative,
    Nearest,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let output = Output::checked(&args.out, args.overwrite, &[OutputFormat::Netcdf, OutputFormat::Zarr])?;
    let array = args.input.read()?;
    let source = Grid::from_array(&array)?;
    let target = Grid::from_array(&super::read_input(&args.grid_like, args.grid_var.as_deref())?)?;
    let method = match args.method {
        RegridMethodName::Bilinear => RegridMethod::Bilinear,
        RegridMethodName::Conservative => RegridMethod::Conservative,
        RegridMethodName::Nearest => RegridMethod::Nearest,
    };
    let options = WeightOptions { method, extrapolate: !args.no_extrapolate };
    let weights = match (&args.weights, &args.weights_cache) {
        (Some(file), _) => read_weight_file(file, &source, &target, method)?,
        (None, Some(dir)) => WeightCache::new(dir).weights(&source, &target, options)?.0,
        (None, None) => compute_weights(&source, &target, options)?,
    };
    let regridded = regrid_array(&array, &target, &weights)?;
    let provenance = super::command_line_provenance();
    output.write(&regridded, WriteOptions { provenance, ..WriteOptions::default() })?;
    Ok(ExitCode::SUCCESS)
}
