//! `downscale config show`: the effective configuration and where each key came from.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use super::ConfigArgs;

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Print the effective configuration, one key per line with its source (default, a file, the environment or
    /// --set); secrets are redacted.
    Show {
        /// Print JSON instead, for scripts.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(command: Command, config: &ConfigArgs) -> Result<ExitCode> {
    let Command::Show { json } = command;
    let loaded = config.load()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&loaded.show_json())?);
    } else {
        print!("{}", loaded.show_text());
    }
    Ok(ExitCode::SUCCESS)
}
