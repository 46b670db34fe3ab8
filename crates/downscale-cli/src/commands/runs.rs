//! `downscale runs list|show`: the run records.

use std::process::ExitCode;

use anyhow::{Result, bail};
use downscale_engine::Records;

use super::ConfigArgs;

#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// The newest runs, one line each.
    List {
        /// How many runs to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// One run: its parameters, its tasks (state, cache hit, attempts, time, memory, bytes) and its log lines.
    Show {
        /// The run's number (from `runs list`) or its run id (the newest run with that id).
        run: String,
        /// Print the run as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(command: Command, config: &ConfigArgs) -> Result<ExitCode> {
    let config = config.load()?;
    let records = Records::open(std::path::Path::new(&config.settings().run_records))?;
    match command {
        Command::List { limit } => {
            println!("{:>5}  {:<10} {:<8} {:<25} {:<25} run id", "run", "state", "runtime", "started", "ended");
            for run in records.runs(limit)? {
                println!(
                    "{:>5}  {:<10} {:<8} {:<25} {:<25} {}",
                    run.id,
                    run.state,
                    run.runtime,
                    run.started_at,
                    run.ended_at.as_deref().unwrap_or("-"),
                    run.run_id
                );
            }
        }
        Command::Show { run, json } => {
            let Some(record) = records.find_run(&run)? else {
                bail!("{}: no run '{run}' (see `downscale runs list`)", config.settings().run_records);
            };
            let tasks = records.tasks(record.id)?;
            let logs = records.logs(record.id)?;
            if json {
                let document = serde_json::json!({"run": record, "tasks": tasks, "logs": logs});
                println!("{}", serde_json::to_string_pretty(&document)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("run {} ({}): {}", record.id, record.run_id, record.state);
            println!(
                "flow {} on {} at {}, {} → {}",
                record.flow,
                record.runtime,
                record.host,
                record.started_at,
                record.ended_at.as_deref().unwrap_or("-")
            );
            if let Some(file) = &record.parameter_file {
                println!("parameter file {file}");
            }
            if let Some(manifest) = &record.manifest {
                println!("manifest {manifest}");
            }
            if let Some(error) = &record.error {
                println!("error {error}");
            }
            println!(
                "\n{:<34} {:<11} {:>5} {:>9} {:>9} {:>10} {:>11} {:>11}",
                "task", "state", "tries", "wall s", "cpu s", "peak RSS", "read", "written"
            );
            for task in &tasks {
                let seconds = |s: Option<f64>| s.map_or("-".into(), |s| format!("{s:.2}"));
                let bytes = |b: Option<u64>| b.map_or("-".into(), human_bytes);
                println!(
                    "{:<34} {:<11} {:>5} {:>9} {:>9} {:>10} {:>11} {:>11}",
                    task.task_id,
                    task.state,
                    task.attempts,
                    seconds(task.wall_seconds),
                    seconds(task.cpu_seconds),
                    bytes(task.peak_rss_bytes),
                    bytes(task.bytes_read),
                    bytes(task.bytes_written)
                );
                if let Some(error) = &task.error {
                    println!("  error: {error}");
                }
            }
            println!("\nlog");
            for line in &logs {
                println!("{} {:<5} {}", line.at, line.level, line.message);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}
