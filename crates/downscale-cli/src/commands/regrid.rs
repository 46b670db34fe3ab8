use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::ValueEnum;
use downscale_data::{Location, WriteOptions, write_netcdf, write_zarr};
use downscale_regrid::weight_file::read_weight_file;
use downscale_regrid::{Grid, Method, WeightCache, WeightOptions, compute_weights, regrid_array};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: super::Input,
    /// A file on the target grid (its data variable's lat/lon, with bounds when it has them).
    #[arg(long, value_name = "FILE")]
    grid_like: String,
    /// Variable of --grid-like whose grid to use (default: its only data variable).
    #[arg(long, value_name = "VAR")]
    grid_var: Option<String>,
    #[arg(long, value_enum)]
    method: RegridMethod,
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
}

#[derive(Clone, Copy, ValueEnum)]
enum RegridMethod {
    Bilinear,
    Conservative,
    Nearest,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let array = args.input.read()?;
    let source = Grid::from_array(&array)?;
    let target = Grid::from_array(&super::read_input(&args.grid_like, args.grid_var.as_deref())?)?;
    let method = match args.method {
        RegridMethod::Bilinear => Method::Bilinear,
        RegridMethod::Conservative => Method::Conservative,
        RegridMethod::Nearest => Method::Nearest,
    };
    let options = WeightOptions { method, extrapolate: !args.no_extrapolate };
    let weights = match (&args.weights, &args.weights_cache) {
        (Some(file), _) => read_weight_file(file, &source, &target, method)?,
        (None, Some(dir)) => WeightCache::new(dir).weights(&source, &target, options)?.0,
        (None, None) => compute_weights(&source, &target, options)?,
    };
    let regridded = regrid_array(&array, &target, &weights)?;
    let destination = Location::parse(&args.out)?;
    let provenance = super::command_line_provenance();
    if args.out.trim_end_matches('/').ends_with(".nc") {
        write_netcdf(&regridded, &destination, &provenance)?;
    } else if args.out.trim_end_matches('/').ends_with(".zarr") {
        write_zarr(&regridded, &destination, &WriteOptions { provenance, ..WriteOptions::default() })?;
    } else {
        anyhow::bail!("{}: --out must end in .nc (NetCDF) or .zarr (Zarr store)", args.out);
    }
    println!("{}", destination.display);
    Ok(ExitCode::SUCCESS)
}
