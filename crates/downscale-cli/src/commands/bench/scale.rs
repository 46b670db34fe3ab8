//! `downscale bench scale`: the BCSD flow on the scaled-up Iberia case (see [`super::case`]) at several grid sizes,
//! on each runtime of this machine (`local`, and `slurm` and `dask` when they answer), to show what running on a
//! cluster engine costs and how the wall time grows with the grid.
//!
//! Each run starts with an empty cache. What is measured comes from the run records and from the states every task
//! and shard leaves beside its artifact (start and end times, peak memory of its process):
//! - the **stage gap**: for each task, the time from its last input's end to its own start; that is the engine's
//!   own cost per stage (noticing the inputs are done, submitting, queueing, starting a process);
//! - the **publish lag** of a sharded task on a cluster: from its last shard's end to the start of the job that
//!   publishes the store;
//! - the **peak RSS** of every shard's (or task's) process, next to the memory each job was given.
//!
//! On `local` tasks run as threads of one process, so its peak RSS is the whole run's, shared by the tasks at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, FixedOffset};
use downscale_config::MemoryLimit;
use downscale_engine::Records;
use serde_json::Value;

use super::case::{Case, CaseArgs};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Copies of the Iberia grid along latitude and longitude, one grid size each.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 2, 3])]
    tiles: Vec<u32>,
    /// Copies of the 20 training and 20 predicted winters.
    #[arg(long, default_value_t = 1)]
    periods: u32,
    /// The runtimes to measure; one that does not answer is reported and skipped.
    #[arg(long, value_delimiter = ',', default_values = ["local", "slurm", "dask"])]
    runtimes: Vec<String>,
    /// Memory of each job (Slurm's `--mem`, each Dask worker's limit) and the budget of the local run.
    #[arg(long, default_value = "1GiB")]
    memory: String,
    /// Where to build the cases and run (default: a temporary directory, removed afterwards).
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let memory = match MemoryLimit::parse(&args.memory) {
        Ok(MemoryLimit::Bytes(bytes)) => bytes,
        _ => bail!("--memory {}: expected a size such as 1GiB", args.memory),
    };
    let temporary = tempfile::tempdir()?;
    let work = args.work_dir.clone().unwrap_or_else(|| temporary.path().to_path_buf());
    println!(
        "BCSD on the Iberia tas pair tiled NxN in space, {}x in time (labelled copies of real data); {} per job, \
         1 CPU per job, 2 Dask workers",
        args.periods, args.memory
    );
    println!(
        "{:>7} {:>5} {:>10} {:>8} {:>8} {:>12} {:>10} {:>10} {:>11} {:>9} {:>8}",
        "runtime",
        "tiles",
        "obs cells",
        "Mcelld",
        "wall s",
        "s/Mcelld",
        "gap mean",
        "gap max",
        "publish lag",
        "peak RSS",
        "RSS/mem"
    );
    let mut skipped: Vec<String> = Vec::new();
    for &tiles in &args.tiles {
        let case_dir = work.join(format!("case-{tiles}"));
        std::fs::create_dir_all(&case_dir)?;
        let case = CaseArgs { tiles, periods: args.periods, samples: None }.build(&case_dir)?;
        let cells = case.obs_shape[1] * case.obs_shape[2];
        let cell_days = (cells * case.obs_shape[0]) as f64 / 1e6;
        let plan = plan_inputs(&case)?;
        for runtime in &args.runtimes {
            if skipped.iter().any(|line| line.starts_with(runtime.as_str())) {
                continue;
            }
            let dir = case_dir.join(runtime);
            let measured = match run_flow(&case, &dir, runtime, &args.memory) {
                Ok(measured) => measured,
                Err(error) => {
                    skipped.push(format!("{runtime}: not measured: {error}"));
                    continue;
                }
            };
            let stages = stage_gaps(&measured, &plan);
            let gap_mean = stages.iter().map(|(_, gap)| gap).sum::<f64>() / stages.len().max(1) as f64;
            let gap_max = stages.iter().map(|(_, gap)| *gap).fold(0.0, f64::max);
            let lags: Vec<f64> = measured.tasks.values().filter_map(TaskTimes::publish_lag).collect();
            let lag = match lags.is_empty() || runtime == "local" {
                true => "-".to_string(),
                false => format!("{:.2}", lags.iter().sum::<f64>() / lags.len() as f64),
            };
            let peak = measured.tasks.values().map(|task| task.peak_rss).max().unwrap_or(0);
            println!(
                "{runtime:>7} {tiles:>5} {cells:>10} {cell_days:>8.2} {:>8.2} {:>12.2} {gap_mean:>10.2} {gap_max:>10.2} \
                 {lag:>11} {:>8.0}M {:>8.2}",
                measured.wall_seconds,
                measured.wall_seconds / cell_days,
                peak as f64 / 1e6,
                peak as f64 / memory as f64,
            );
        }
    }
    for line in skipped {
        println!("{line}");
    }
    if args.runtimes.iter().any(|runtime| runtime == "slurm") {
        match slurm_dependency_latency(&work) {
            Ok(latency) => println!(
                "slurm itself: a job waiting on an instant job starts {latency:.2} s after it (median of 3): the \
                 floor of the gap there"
            ),
            Err(error) => println!("slurm itself: not measured: {error}"),
        }
    }
    println!("Mcelld: million output cell-days (obs cells x days); s/Mcelld: wall seconds per million cell-days");
    println!("gap: a task's start minus its last input's end, over the flow's tasks (goal: <= 1 s on slurm and dask)");
    println!("publish lag: a sharded task's publishing job start minus its last shard's end");
    println!("peak RSS: the largest process of any task or shard (goal: under the memory each job was given)");
    Ok(ExitCode::SUCCESS)
}

/// How long Slurm takes to start a job once the job it depends on (`afterok`) has ended: two trivial jobs that
/// write the time, three times; the median difference. The controller releases dependent jobs on its scheduling
/// passes, so this is the part of a stage's gap that no submitting process can remove.
fn slurm_dependency_latency(work: &Path) -> Result<f64> {
    let mut latencies = Vec::new();
    for round in 0..3 {
        let [first, second] = [0, 1].map(|job| work.join(format!("slurm-latency-{round}-{job}")));
        let submit = |file: &Path, after: Option<&str>| -> Result<String> {
            let mut command = Command::new("sbatch");
            command.args(["--parsable", "--mem=64M", "--output=/dev/null"]);
            if let Some(job) = after {
                command.arg(format!("--dependency=afterok:{job}"));
            }
            let output = command.arg(format!("--wrap=date +%s.%N > '{}'", file.display())).output()?;
            if !output.status.success() {
                bail!("sbatch: {}", String::from_utf8_lossy(&output.stderr).trim());
            }
            Ok(String::from_utf8_lossy(&output.stdout).trim().split(';').next().unwrap_or_default().to_string())
        };
        let job = submit(&first, None)?;
        submit(&second, Some(&job))?;
        let started = Instant::now();
        let read = |file: &Path| std::fs::read_to_string(file).ok()?.trim().parse::<f64>().ok();
        loop {
            if let (Some(a), Some(b)) = (read(&first), read(&second)) {
                latencies.push(b - a);
                break;
            }
            if started.elapsed().as_secs() > 60 {
                bail!("the two jobs did not run within a minute");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    latencies.sort_by(f64::total_cmp);
    Ok(latencies[1])
}

/// Each task's inputs (task ids), from `downscale plan`.
fn plan_inputs(case: &Case) -> Result<HashMap<String, Vec<String>>> {
    let output = Command::new(std::env::current_exe()?)
        .args(["plan", "--param-file"])
        .arg(&case.param_file)
        .args(["--set", &format!("data_catalog.obs={}", case.obs_catalog.display())])
        .args(["--set", &format!("data_catalog.model={}", case.model_catalog.display())])
        .output()?;
    if !output.status.success() {
        bail!("downscale plan failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    let plan: Value = serde_json::from_slice(&output.stdout)?;
    let mut inputs = HashMap::new();
    for task in plan["tasks"].as_array().into_iter().flatten() {
        let id = task["spec"]["id"].as_str().unwrap_or_default().to_string();
        let upstream = task["spec"]["inputs"].as_object().into_iter().flatten();
        inputs.insert(id, upstream.filter_map(|(_, up)| up.as_str().map(str::to_string)).collect());
    }
    Ok(inputs)
}

/// When a task's execution started and ended, and its shards'.
struct TaskTimes {
    start: DateTime<FixedOffset>,
    end: DateTime<FixedOffset>,
    /// The start of the execution that published the store (the whole task's on `local`).
    publish_start: DateTime<FixedOffset>,
    /// `(start, end)` of each shard.
    shards: Vec<(DateTime<FixedOffset>, DateTime<FixedOffset>)>,
    /// The largest peak RSS of its process and its shards' processes.
    peak_rss: u64,
}

impl TaskTimes {
    fn publish_lag(&self) -> Option<f64> {
        let last_shard = self.shards.iter().map(|(_, end)| *end).max()?;
        Some(seconds(self.publish_start - last_shard).max(0.0))
    }
}

struct Measured {
    wall_seconds: f64,
    tasks: HashMap<String, TaskTimes>,
}

/// Runs the case's flow on `runtime` with its storage under `dir`; reads the task and shard states it left.
fn run_flow(case: &Case, dir: &Path, runtime: &str, memory: &str) -> Result<Measured> {
    let records_path = dir.join("runs.sqlite");
    let path_setting = |key: &str, value: &Path| format!("{key}={}", value.display());
    let dask_python = super::workspace().join(".venv-dask/bin/python");
    let mut settings = vec![
        path_setting("storage.intermediate.uri", &dir.join("intermediate")),
        path_setting("storage.results.uri", &dir.join("results")),
        path_setting("storage.scratch.uri", &dir.join("scratch")),
        path_setting("run_records", &records_path),
        path_setting("data_catalog.obs", &case.obs_catalog),
        path_setting("data_catalog.model", &case.model_catalog),
        path_setting("runtimes.slurm.log_dir", &dir.join("slurm-logs")),
        format!("runtimes.local.memory_limit={memory}"),
        "runtimes.slurm.cpus_per_task=1".to_string(),
        format!("runtimes.slurm.memory={memory}"),
        "runtimes.dask.n_workers=2".to_string(),
        "runtimes.dask.threads_per_worker=1".to_string(),
        format!("runtimes.dask.memory_limit={memory}"),
    ];
    if dask_python.exists() {
        settings.push(path_setting("runtimes.dask.python", &dask_python));
    }
    let mut command = Command::new(std::env::current_exe()?);
    command.args(["run", "--quiet", "--runtime", runtime, "--param-file"]).arg(&case.param_file);
    for setting in &settings {
        command.args(["--set", setting]);
    }
    let start = Instant::now();
    let output = command.output().context("cannot start downscale run")?;
    let wall_seconds = start.elapsed().as_secs_f64();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!("{}", stderr.lines().last().unwrap_or("the run failed").trim_start_matches("error: "));
    }
    let records = Records::open(&records_path)?;
    let run = records.runs(1)?.into_iter().next().context("the run left no record")?;
    let mut tasks = HashMap::new();
    for task in records.tasks(run.id)? {
        let folder = dir.join("intermediate").join(&task.name).join(&task.cache_key);
        tasks.insert(task.task_id.clone(), task_times(&folder)?);
    }
    Ok(Measured { wall_seconds, tasks })
}

/// A task's times from the states in its artifact's folder.
fn task_times(folder: &Path) -> Result<TaskTimes> {
    let read = |path: &Path| -> Result<Value> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(serde_json::from_slice(&bytes)?)
    };
    let time = |state: &Value, key: &str| -> Result<DateTime<FixedOffset>> {
        let text = state["report"][key].as_str().unwrap_or_default();
        DateTime::parse_from_rfc3339(text).with_context(|| format!("{key} '{text}' in {}", folder.display()))
    };
    let state = read(&folder.join("state.json"))?;
    let mut peak_rss = state["report"]["peak_rss_bytes"].as_u64().unwrap_or(0);
    let mut shards = Vec::new();
    if let Ok(entries) = std::fs::read_dir(folder.join("shards")) {
        for entry in entries {
            let shard = read(&entry?.path())?;
            peak_rss = peak_rss.max(shard["report"]["peak_rss_bytes"].as_u64().unwrap_or(0));
            shards.push((time(&shard, "started_at")?, time(&shard, "ended_at")?));
        }
    }
    let publish_start = time(&state, "started_at")?;
    let start = shards.iter().map(|(start, _)| *start).min().map_or(publish_start, |s| s.min(publish_start));
    Ok(TaskTimes { start, end: time(&state, "ended_at")?, publish_start, shards, peak_rss })
}

/// Each task with inputs and its gap: its start minus its last input's end.
fn stage_gaps(measured: &Measured, inputs: &HashMap<String, Vec<String>>) -> Vec<(String, f64)> {
    let mut gaps = Vec::new();
    for (task, upstream) in inputs {
        let (Some(times), false) = (measured.tasks.get(task), upstream.is_empty()) else { continue };
        let ready = upstream.iter().filter_map(|up| measured.tasks.get(up)).map(|up| up.end).max();
        if let Some(ready) = ready {
            gaps.push((task.clone(), seconds(times.start - ready).max(0.0)));
        }
    }
    gaps
}

fn seconds(duration: chrono::TimeDelta) -> f64 {
    duration.num_milliseconds() as f64 / 1000.0
}
