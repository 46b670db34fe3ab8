//! `downscale`: the command-line face of the workspace. Argument parsing and printing only; the work lives in the
//! library crates.

mod commands;

use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "downscale",
    version,
    about = "Downscale and bias-correct climate model output into high-resolution, CF-compliant Zarr",
    after_help = "Examples:\n  \
        downscale inspect tas_day_CNRM-CM5_historical_r1i1p1_iberia.nc\n  \
        downscale convert --in pr_day_E-OBS_iberia.nc --var pr --out pr_E-OBS.zarr\n  \
        downscale convert --in tasmax_day_HadGEM2-CC_2095.nc --to-standard-calendar --out tasmax.zarr\n  \
        downscale validate pr_E-OBS.zarr\n\n\
        Files and stores are local paths or URLs (file://; object-store URLs through the same layer)."
)]
struct Cli {
    #[command(subcommand)]
    command: commands::Command,
    #[command(flatten)]
    config: commands::ConfigArgs,
}

fn main() -> ExitCode {
    // Run again to open one NetCDF-4 file's metadata, where a damaged file may crash HDF5 (see
    // `downscale_data::backend::isolate_netcdf4_opens`): the answer is the exit status.
    if let Some(path) = std::env::var_os(downscale_data::backend::PROBE_VARIABLE) {
        return ExitCode::from(downscale_data::backend::probe_here(std::path::Path::new(&path)));
    }
    if let Ok(program) = std::env::current_exe() {
        downscale_data::backend::isolate_netcdf4_opens(program);
    }
    let cli = Cli::parse();
    match commands::run(cli.command, &cli.config) {
        Ok(code) => code,
        Err(error) => {
            // One line, naming the file and the problem: long jobs over many files are debugged from logs.
            eprintln!("error: {}", downscale_message::one_line(error.as_ref()));
            ExitCode::from(2)
        }
    }
}
