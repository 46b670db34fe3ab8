//! The records `bench dashboard` serves: a real run of the shipped Iberia BCSD example on the `ci` runtime,
//! replicated through the engine's [`Records`] API into as many runs and log lines as a machine gathers over years,
//! with varied run ids, flows, parameters, batches and outcomes.
//!
//! Each run has the real run's tasks (ids, names, edges and measurements, scaled), states that follow its outcome
//! (mostly succeeded, a re-run of an id already run found in the cache, some failed in one task, the newest few still
//! running), the real run's log lines with per-task lines of every level around them, and resource samples.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use downscale_engine::records::{LogRecord, NewRun, ResourceSample};
use downscale_engine::{LogLevel, Records, RunRecord, TaskRecord, TaskReport, TaskState};
use serde_json::{Value, json};

use super::super::workspace;

/// The shipped example the runs are modelled on.
const EXAMPLE: &str = "examples/iberia/bcsd/bcsd_E-OBS_CNRM-CM5_r1i1p1_rcp85_tas_35_45_-10_5_1983_2002_2081_2100.json";
/// Resource samples recorded per run.
const SAMPLES_PER_RUN: usize = 20;

/// The real run the records are modelled on.
pub(super) struct ModelRun {
    pub(super) run: RunRecord,
    pub(super) tasks: Vec<TaskRecord>,
    logs: Vec<LogRecord>,
    samples: Vec<ResourceSample>,
}

impl ModelRun {
    /// Runs the shipped example on the `ci` runtime in a child process, with its storage and records under `dir`,
    /// and reads back its run, tasks, log lines and samples.
    pub(super) fn run(dir: &Path) -> Result<ModelRun> {
        let records_path = dir.join("runs.sqlite");
        let set = |key: &str, value: &Path| format!("{key}={}", value.display());
        let output = Command::new(std::env::current_exe()?)
            .arg("run")
            .arg("--param-file")
            .arg(workspace().join(EXAMPLE))
            .args(["--runtime", "ci", "--quiet"])
            .args(["--set", &set("storage.intermediate.uri", &dir.join("intermediate"))])
            .args(["--set", &set("storage.results.uri", &dir.join("results"))])
            .args(["--set", &set("storage.scratch.uri", &dir.join("scratch"))])
            .args(["--set", &set("run_records", &records_path)])
            .args(["--set", &set("data_catalog.model", &workspace().join("data/catalog/cmip.json"))])
            .args(["--set", &set("data_catalog.obs", &workspace().join("data/catalog/obs.json"))])
            .output()
            .context("cannot start downscale run")?;
        if !output.status.success() {
            bail!("the example run failed: {}", String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or(""));
        }
        let records = Records::open(&records_path)?;
        let run = records.runs(1)?.into_iter().next().context("the example run left no record")?;
        Ok(ModelRun {
            tasks: records.tasks(run.id)?,
            logs: records.logs(run.id)?,
            samples: records.samples(run.id)?,
            run,
        })
    }
}

/// What [`generate`] wrote.
pub(super) struct Generated {
    pub(super) runs: usize,
    pub(super) failed: usize,
    pub(super) running: usize,
    pub(super) cached: usize,
    pub(super) log_lines: usize,
    pub(super) samples: usize,
    pub(super) seconds: f64,
}

/// Writes `runs` runs modelled on `model` with `log_lines` log lines between them into `records`.
pub(super) fn generate(records: &Records, model: &ModelRun, runs: usize, log_lines: usize) -> Result<Generated> {
    let start = Instant::now();
    let parameters: Value = serde_json::from_str(&model.run.parameters).context("the example run's parameters")?;
    let mut generated = Generated { runs, failed: 0, running: 0, cached: 0, log_lines, samples: 0, seconds: 0.0 };
    let mut seen = HashSet::new();
    // The newest few are still running, as when a batch is under way.
    let first_running = runs - (runs / 2000).max(1).min(runs);
    for index in 0..runs {
        let variant = Variant::new(index, &parameters);
        let outcome = if index >= first_running {
            Outcome::Running(variant.pick(model.tasks.len(), 9))
        } else if variant.pick(12, 10) == 0 {
            Outcome::Failed(variant.pick(model.tasks.len(), 11))
        } else if seen.contains(&variant.run_id) {
            Outcome::Cached
        } else {
            Outcome::Succeeded
        };
        seen.insert(variant.run_id.clone());
        match outcome {
            Outcome::Failed(_) => generated.failed += 1,
            Outcome::Running(_) => generated.running += 1,
            Outcome::Cached => generated.cached += 1,
            Outcome::Succeeded => {}
        }
        let lines = log_lines / runs + usize::from(index < log_lines % runs);
        generated.samples += write_run(records, model, &variant, outcome, lines)?;
    }
    generated.seconds = start.elapsed().as_secs_f64();
    Ok(generated)
}

/// How a generated run ended, with the task it failed in or is running.
#[derive(Clone, Copy)]
enum Outcome {
    Succeeded,
    Cached,
    Failed(usize),
    Running(usize),
}

/// Who a generated run is: the example's parameters with another flow, variable, model, member, scenario, region
/// and periods, the run id the original system would give them, and its batch.
struct Variant {
    seed: u64,
    flow: &'static str,
    run_id: String,
    parameters: String,
    batch: Option<String>,
}

impl Variant {
    fn new(index: usize, example: &Value) -> Variant {
        let seed = mix(index as u64);
        let choose = |options: &[&'static str], salt: u64| options[(mix(seed ^ salt) % options.len() as u64) as usize];
        let flow = choose(&["bcsd", "bcsd", "gard", "gard_multivariate", "deepsd"], 1);
        let model = choose(&["CNRM-CM5", "BNU-ESM", "CanESM2", "GFDL-ESM2M", "MIROC5", "MPI-ESM-LR", "NorESM1-M"], 2);
        let member = choose(&["r1i1p1", "r2i1p1", "r3i1p1"], 3);
        let scenario = choose(&["historical", "rcp45", "rcp85"], 4);
        let variable = choose(&["tas", "pr", "tasmax"], 5);
        let train = [["1983", "2002"], ["1976", "2005"]][(mix(seed ^ 6) % 2) as usize];
        let predict = match scenario {
            "historical" => train,
            _ => [["2021", "2040"], ["2041", "2060"], ["2061", "2080"], ["2081", "2100"]][(mix(seed ^ 7) % 4) as usize],
        };
        // Iberia (the example's), the Alps, Scandinavia and the Balkans.
        let regions =
            [["35", "45", "-10", "5"], ["43", "49", "5", "17"], ["55", "71", "4", "32"], ["39", "47", "13", "30"]];
        let region = regions[(mix(seed ^ 8) % 4) as usize];
        let mut parameters = example.clone();
        for (key, value) in [("method", flow), ("model", model), ("member", member), ("scenario", scenario)] {
            parameters[key] = json!(value);
        }
        for (key, value) in ["latmin", "latmax", "lonmin", "lonmax"].into_iter().zip(region) {
            parameters[key] = json!(value);
        }
        parameters["variable"] = json!(variable);
        parameters["train_dates"] = json!(train);
        parameters["predict_dates"] = json!(predict);
        let text = |key: &str| parameters[key].as_str().unwrap_or_default().to_string();
        let run_id = [
            flow.to_string(),
            text("obs"),
            model.into(),
            member.into(),
            scenario.into(),
            variable.into(),
            text("latmin"),
            text("latmax"),
            text("lonmin"),
            text("lonmax"),
            train[0].into(),
            train[1].into(),
            predict[0].into(),
            predict[1].into(),
        ]
        .join("_");
        // Runs come in batches of 40 parameter files, two batches in three; the rest are run one by one.
        let batch = (index / 40 % 3 != 2).then(|| format!("params/{variable} {}", index / 40));
        Variant { seed, flow, run_id, parameters: parameters.to_string(), batch }
    }

    /// A number below `n` that stays the same for this run and `salt`.
    fn pick(&self, n: usize, salt: u64) -> usize {
        (mix(self.seed ^ salt) % n.max(1) as u64) as usize
    }

    /// How much longer (or shorter) than the example this run's tasks took: 0.5 to 2 times.
    fn scale(&self, salt: u64) -> f64 {
        0.5 + 1.5 * (mix(self.seed ^ (100 + salt)) % 1000) as f64 / 1000.0
    }
}

/// Why a generated run failed, in the words the engine's errors use.
const ERRORS: [&str; 4] = [
    "cannot read chunk 3.0.0 of obs/E-OBS/tas.zarr: connection reset by peer",
    "the task ran out of memory (peak 3.9 GiB of a 4 GiB budget)",
    "model CNRM-CM5 has no data for 2081-01-01 to 2100-12-31 in data/catalog/cmip.json",
    "job 123456 was cancelled by the cluster (TIMEOUT)",
];

/// Writes one run with its tasks, `lines` log lines and samples; returns how many samples.
fn write_run(records: &Records, model: &ModelRun, variant: &Variant, outcome: Outcome, lines: usize) -> Result<usize> {
    let run = records.start_run(&NewRun {
        run_id: &variant.run_id,
        flow: variant.flow,
        parameter_file: Some(&format!("params/{}.json", variant.run_id)),
        parameters: &variant.parameters,
        runtime: model.run.runtime.as_str(),
        batch: variant.batch.as_deref(),
    })?;
    for (index, task) in model.tasks.iter().enumerate() {
        let inputs: Vec<&str> = task.inputs.iter().map(String::as_str).collect();
        let key = format!("{:016x}{:016x}", mix(variant.seed ^ 13), mix(variant.seed ^ mix(index as u64)));
        records.plan_task(run, &task.task_id, &task.name, &key, &inputs)?;
    }
    // The tasks that ended (in the order the example ran them) and the one that failed or runs.
    let (ended, stopped) = match outcome {
        Outcome::Succeeded | Outcome::Cached => (model.tasks.len(), None),
        Outcome::Failed(at) | Outcome::Running(at) => (at, Some(at)),
    };
    let error = match outcome {
        Outcome::Failed(_) => Some(ERRORS[variant.pick(ERRORS.len(), 12)]),
        _ => None,
    };
    for (index, task) in model.tasks.iter().enumerate().take(ended) {
        records.task_started(run, &task.task_id)?;
        let state = if matches!(outcome, Outcome::Cached) { TaskState::Cached } else { TaskState::Succeeded };
        records.task_finished(run, &task.task_id, &report(task, state, variant.scale(index as u64), None))?;
    }
    if let Some(at) = stopped {
        let task = &model.tasks[at];
        records.task_started(run, &task.task_id)?;
        match error {
            Some(error) => records.task_finished(
                run,
                &task.task_id,
                &report(task, TaskState::Failed, variant.scale(at as u64), Some(error.to_string())),
            )?,
            None => records.task_tiles(run, &task.task_id, 3, 8)?,
        }
    }
    let ran = &model.tasks[..stopped.map_or(ended, |at| at + 1)];
    let messages = log_lines(model, variant, (ran, stopped.is_some()), error, lines);
    let borrowed: Vec<(Option<&str>, LogLevel, &str)> =
        messages.iter().map(|(task, level, message)| (task.as_deref(), *level, message.as_str())).collect();
    records.log_many(run, &borrowed)?;
    let samples = model.samples.iter().cycle().take(SAMPLES_PER_RUN);
    let mut written = 0;
    for (index, sample) in samples.enumerate() {
        records.sample(run, sample.cpu_cores * variant.scale(index as u64 + 20), sample.rss_bytes)?;
        written += 1;
    }
    if !matches!(outcome, Outcome::Running(_)) {
        let failure = error.zip(stopped).map(|(error, at)| format!("task {}: {error}", model.tasks[at].task_id));
        records.finish_run(run, error.is_none(), model.run.manifest.as_deref(), failure.as_deref())?;
    }
    Ok(written)
}

/// The example task's measurements, `scale` times longer, ending as `state`.
fn report(task: &TaskRecord, state: TaskState, scale: f64, error: Option<String>) -> TaskReport {
    let cached = state == TaskState::Cached;
    let measured = |value: Option<f64>| if cached { 0.0 } else { value.unwrap_or(0.0) * scale };
    TaskReport {
        state,
        attempts: match state {
            TaskState::Cached => 0,
            TaskState::Failed => 4,
            _ => 1,
        },
        wall_seconds: measured(task.wall_seconds),
        cpu_seconds: measured(task.cpu_seconds),
        peak_rss_bytes: task.peak_rss_bytes,
        bytes_read: if cached { 0 } else { task.bytes_read.unwrap_or(0) },
        bytes_written: task.bytes_written.unwrap_or(0),
        error,
        started_at: task.started_at.clone().unwrap_or_default(),
        ended_at: task.ended_at.clone().unwrap_or_default(),
    }
}

/// `count` log lines of a run: the example's first line (the run starting) with this run's id, then for each task
/// that ran, lines about its tiles (every seventh a warning of a retried read) ending with the example's line about
/// it (an error line for the task the run `stopped` at if it failed, none if it runs), and the last line about how
/// the run ended.
fn log_lines(
    model: &ModelRun,
    variant: &Variant,
    (ran, stopped): (&[TaskRecord], bool),
    error: Option<&str>,
    count: usize,
) -> Vec<(Option<String>, LogLevel, String)> {
    let example_run = &model.run.run_id;
    let about = |task: &str| model.logs.iter().find(|line| line.task_id.as_deref() == Some(task));
    let first = model.logs.first().map_or_else(|| "run started".to_string(), |line| line.message.clone());
    let mut lines = vec![(None, LogLevel::Info, first.replace(example_run, &variant.run_id))];
    let last = match (error, ran.last()) {
        (Some(error), Some(task)) => {
            Some((Some(task.task_id.clone()), LogLevel::Error, format!("run failed in task {}: {error}", task.task_id)))
        }
        (None, _) if !stopped => {
            let line = model.logs.last().filter(|line| line.task_id.is_none());
            let message = line.map_or_else(|| "run succeeded".to_string(), |line| line.message.clone());
            Some((None, LogLevel::Info, message))
        }
        _ => None,
    };
    let room = count.saturating_sub(lines.len() + usize::from(last.is_some()));
    let per_task = room / ran.len().max(1);
    for (index, task) in ran.iter().enumerate() {
        let id = &task.task_id;
        let mine = per_task + usize::from(index < room % ran.len().max(1));
        // The running task's lines are all about tiles; the others' end with how the task ended.
        let stopped = stopped && index + 1 == ran.len();
        let tiles = if stopped && error.is_none() { mine + 1 } else { mine };
        for tile in 1..tiles {
            let (level, message) = if tile % 7 == 0 {
                (LogLevel::Warn, format!("{id}: reading tile {tile} failed (connection reset by peer), retrying"))
            } else {
                (LogLevel::Info, format!("{id}: tile {tile} written"))
            };
            lines.push((Some(id.clone()), level, message));
        }
        if mine > 0 && !(stopped && error.is_none()) {
            let (level, message) = match about(id) {
                _ if stopped => (LogLevel::Error, format!("{id}: failed after 4 attempts: {}", error.unwrap_or(""))),
                Some(line) => (line.level, line.message.clone()),
                None => (LogLevel::Info, format!("{id}: done")),
            };
            lines.push((Some(id.clone()), level, message));
        }
    }
    lines.extend(last);
    lines.truncate(count);
    lines
}

/// A 64-bit mix (splitmix64's finaliser): every run's choices from its index, the same on every machine.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49eb_133b_b133);
    x ^ (x >> 31)
}
