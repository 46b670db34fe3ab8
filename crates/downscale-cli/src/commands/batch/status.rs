//! `downscale batch status DIR`: where each parameter file of a batch folder stands, from the run records and the
//! published results (see `downscale_engine::status`): `done`, `running`, `failed` with its error, or `missing`.
//! A file the batch cannot run (its parameters do not read, the catalogs lack its data) is `failed` with the error a
//! batch gives it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use downscale_engine::{Records, RunStatus};

use super::super::ConfigArgs;
use super::super::flow_setup::{FlowSetup, storage_location};
use super::files::{BatchFile, parameter_files, prepare_all};

#[derive(clap::Args)]
pub(super) struct StatusArgs {
    /// The folder of parameter files (`*.json`).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Print a JSON array, one object per file: `file`, `run_id`, `state`, `error`, `manifest`.
    #[arg(long)]
    json: bool,
}

/// Where one file stands.
struct FileStatus {
    file: String,
    /// `None` when its parameters do not read.
    run_id: Option<String>,
    /// `done`, `running`, `failed` or `missing`.
    state: &'static str,
    /// Why it failed, or why a run that succeeded counts as missing now (its outputs are gone).
    error: Option<String>,
    /// The manifest of its newest run: a success's, or a failure's with the failed task.
    manifest: Option<String>,
}

pub(super) fn run(args: StatusArgs, config: &ConfigArgs) -> Result<ExitCode> {
    let files = parameter_files(&args.dir, "batch status DIR")?;
    let setup = FlowSetup::open(config.load()?, None)?;
    let records = Records::open(std::path::Path::new(&setup.config.settings().run_records))?;
    let results = storage_location(&setup.config, "results")?;
    let statuses: Vec<FileStatus> = prepare_all(&setup, files)
        .into_iter()
        .map(|file| status_of(file, &records, &results))
        .collect::<Result<_>>()?;
    if args.json {
        let objects: Vec<serde_json::Value> = statuses
            .iter()
            .map(|s| {
                serde_json::json!({
                    "file": s.file, "run_id": s.run_id, "state": s.state, "error": s.error, "manifest": s.manifest,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&objects)?);
    } else {
        print_table(&statuses);
    }
    Ok(ExitCode::SUCCESS)
}

fn status_of(file: BatchFile, records: &Records, results: &downscale_data::Location) -> Result<FileStatus> {
    let BatchFile { display, run_id, run, .. } = file;
    let prepared = match run {
        Ok(prepared) => prepared,
        Err(error) => {
            return Ok(FileStatus { file: display, run_id, state: "failed", error: Some(error), manifest: None });
        }
    };
    let status = RunStatus::of(&prepared.run_id, records, results)?;
    let error = match &status {
        RunStatus::Failed { error, .. } => Some(error.clone()),
        RunStatus::Missing(reason) => reason.clone(),
        RunStatus::Done(_) | RunStatus::Running(_) => None,
    };
    let manifest = status.record().and_then(|record| record.manifest.clone());
    Ok(FileStatus { file: display, run_id, state: status.word(), error, manifest })
}

/// One line per file, `state  file  detail` (the error, else the manifest), and the count of each state.
fn print_table(statuses: &[FileStatus]) {
    let width = statuses.iter().map(|s| s.file.chars().count()).max().unwrap_or(0).max("file".len());
    println!("{:<8} {:<width$}  error or manifest", "state", "file");
    for status in statuses {
        let detail = status.error.as_deref().or(status.manifest.as_deref()).unwrap_or("-");
        println!("{:<8} {:<width$}  {detail}", status.state, status.file);
    }
    let counts: Vec<String> = ["done", "running", "failed", "missing"]
        .into_iter()
        .map(|state| (state, statuses.iter().filter(|s| s.state == state).count()))
        .filter(|&(_, count)| count > 0)
        .map(|(state, count)| format!("{count} {state}"))
        .collect();
    println!("\n{} parameter files: {}", statuses.len(), counts.join(", "));
}
