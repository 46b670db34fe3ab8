//! `downscale`: the command-line face of the workspace. Argument parsing and printing only; the work lives in the
//! library crates.

mod commands;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return argument_error(&error),
    };
    match commands::run(cli.command, &cli.config) {
        Ok(code) => code,
        Err(error) => {
            // One line, naming the file and the problem: long jobs over many files are debugged from logs.
            eprintln!("error: {}", downscale_message::one_line(error.as_ref()));
            ExitCode::from(2)
        }
    }
}

/// Help and version go out as clap writes them; a wrong command line is one `error:` line like every other error
/// (clap's own spreads over lines: the problem, a tip, the usage), with a pointer to the subcommand's help.
fn argument_error(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            return ExitCode::from(2);
        }
        _ => {}
    }
    // The problem is clap's first paragraph ("the following required arguments were not provided:" lists them on
    // the lines below it).
    let rendered = error.render().to_string();
    let problem: Vec<&str> = rendered
        .lines()
        .skip_while(|line| line.trim().is_empty())
        .take_while(|line| !line.trim().is_empty())
        .map(str::trim)
        .collect();
    let problem = problem.join(" ");
    let problem = problem.strip_prefix("error: ").unwrap_or(&problem);
    let subcommands: Vec<String> = Cli::command().get_subcommands().map(|c| c.get_name().to_string()).collect();
    let help = match std::env::args().skip(1).find(|arg| subcommands.contains(arg)) {
        Some(subcommand) => format!("downscale {subcommand} --help"),
        None => "downscale --help".to_string(),
    };
    eprintln!("error: {} (see {help})", downscale_message::one_line_text(problem));
    ExitCode::from(2)
}
