//! `downscale dashboard`: serve the web dashboard of the run records until interrupted.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use downscale_dashboard::{Dashboard, DashboardOptions, StorageRoots};

use super::ConfigArgs;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The address to listen on. Any address other than loopback needs a token.
    #[arg(long, default_value = "127.0.0.1:8765", value_name = "ADDRESS:PORT")]
    bind: SocketAddr,
    /// The run records to show [default: the configuration's `run_records`].
    #[arg(long, value_name = "PATH")]
    records: Option<PathBuf>,
    /// The token every request must carry [default: the configuration's `dashboard.token`]. Pages are opened as
    /// `http://ADDRESS:PORT/?token=TOKEN`; other tools send `Authorization: Bearer TOKEN`.
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
}

pub(crate) fn run(args: Args, config: &ConfigArgs) -> Result<ExitCode> {
    let config = config.load()?;
    let settings = config.settings();
    // Each root with its object-store options, as the runs wrote there.
    let mut roots = Vec::new();
    for name in ["results", "intermediate"] {
        roots.push((
            config.expand(&format!("storage.{name}.uri"))?,
            config.expand_options(&format!("storage.{name}.options"))?,
        ));
    }
    // Expanded, so the token can stay in the environment (`dashboard.token: $DASHBOARD_TOKEN`).
    let configured_token = match settings.dashboard.token {
        Some(_) => Some(config.expand("dashboard.token")?),
        None => None,
    };
    // Records named on the command line must exist: a mistyped path would otherwise show an empty new file. The
    // configured file is made when missing, so a fresh installation shows "no runs yet".
    if let Some(records) = &args.records
        && !records.is_file()
    {
        anyhow::bail!("--records {}: no such file (the run records `downscale run` writes)", records.display());
    }
    let dashboard = Dashboard::bind(DashboardOptions {
        bind: args.bind,
        records: args.records.unwrap_or_else(|| PathBuf::from(&settings.run_records)),
        token: args.token.or(configured_token),
        roots: StorageRoots::with_options(roots.iter().map(|(uri, options)| (uri.as_str(), options.clone()))),
    })?;
    // The first line says where it listens (with the port chosen for port 0), for people and for scripts.
    println!("dashboard at http://{}/", dashboard.address()?);
    std::io::stdout().flush()?;
    dashboard.serve()?;
    Ok(ExitCode::SUCCESS)
}
