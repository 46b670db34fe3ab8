//! `downscale batch`: fills a method × model × scenario × variable matrix by running every parameter file of a
//! folder, several at once if asked, and `downscale batch status`: where each file stands. A batch is meant to be
//! run again until everything is done: each run skips the files done already, so it schedules only what is missing
//! or failed, and tasks shared between files are computed once through the cache.

mod files;
mod run;
mod status;

use std::process::ExitCode;

use anyhow::Result;

use super::ConfigArgs;

/// `downscale batch --param-dir DIR` runs the folder (the same as `batch run`); `batch status DIR` shows it.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: run::RunArgs,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Run the folder's parameter files: what `downscale batch` with the same options does.
    Run(run::RunArgs),
    /// Where each parameter file of a folder stands: done, running, failed (with its error) or missing (never run,
    /// or its outputs are gone).
    Status(status::StatusArgs),
}

pub(crate) fn run(args: Args, config: &ConfigArgs) -> Result<ExitCode> {
    match args.command {
        None => run::run(args.run, config),
        Some(Command::Run(args)) => run::run(args, config),
        Some(Command::Status(args)) => status::run(args, config),
    }
}
