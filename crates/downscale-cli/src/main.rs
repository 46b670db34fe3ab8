//! `downscale`: the command-line face of the workspace. Argument parsing and printing only; the work lives in the
//! library crates.

mod commands;

use std::process::ExitCode;

use clap::Parser;

/// Downscale and bias-correct climate model output into high-resolution CF-compliant Zarr.
#[derive(Parser)]
#[command(name = "downscale", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(error) => {
            // One line, naming the file and the problem: long jobs over many files are debugged from logs.
            eprintln!("error: {}", format!("{error:#}").replace('\n', " "));
            ExitCode::from(2)
        }
    }
}
