//! `downscale bench flow`: the BCSD flow end to end on a scaled-up case, at two memory budgets, next to the I/O
//! floor of the same run.
//!
//! The case is the real Iberia tas pair made larger (see [`super::case`]). Each budget runs in its own process with
//! empty caches. The I/O floor is the bytes the
//! run records say were read and written, at the disk speed measured in the same directory just before.
//!
//! The flow runs BCSD with scikit-downscale's point models (`bias_correction_method: bcsd_point`), so that the same
//! steps can be done the way a user of the Python stack would, in the same run, by
//! `scripts/oracles/bench_bcsd_flow.py` (cdo `remapbil` for the regrids, xarray for the anomalies and summaries,
//! scikit-downscale's `BcsdTemperature` per model cell) on one core; their cost is compared per core and per output
//! cell-day, and the Python pipeline's daily output is checked against ours, so that both costs are of one result.

mod python;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use downscale_config::MemoryLimit;
use downscale_engine::{Manifest, Records};

use super::case::{Case, CaseArgs};

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    case: CaseArgs,
    /// The two memory budgets of the local runtime (`runtimes.local.memory_limit`).
    #[arg(long, num_args = 2, value_names = ["SMALL", "LARGE"], default_values = ["512MiB", "4GiB"])]
    budgets: Vec<String>,
    /// Where to build the case and run (default: a temporary directory, removed afterwards).
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
    /// Model cells the Python pipeline corrects with scikit-downscale (its time is scaled to every cell).
    #[arg(long, default_value_t = 40)]
    reference_points: u32,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let temporary = tempfile::tempdir()?;
    let work = args.work_dir.clone().unwrap_or_else(|| temporary.path().to_path_buf());
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let case = args.case.build(&work)?;
    let disk = DiskSpeed::measure(&work)?;
    println!(
        "case: Iberia tas tiled {0}x{0} in space and {1}x in time (labelled copies of real data): obs {2:?}, model {3:?}",
        args.case.tiles, args.case.periods, case.obs_shape, case.model_shape
    );
    let [slowest, _, fastest] = disk.write_measurements.map(|speed| speed / 1e6);
    println!(
        "disk ({}): write {:.0} MB/s (with fsync; median of {slowest:.0} to {fastest:.0}), read {:.0} MB/s",
        work.display(),
        disk.write_bytes_per_second / 1e6,
        disk.read_bytes_per_second / 1e6
    );
    println!(
        "{:>10} {:>9} {:>10} {:>11} {:>10} {:>9} {:>11} {:>11}",
        "budget", "wall s", "read MB", "written MB", "I/O floor", "ratio", "peak RSS", "RSS/budget"
    );
    let mut slowest_lines = Vec::new();
    let mut last = None;
    for (index, budget) in args.budgets.iter().enumerate() {
        let limit = MemoryLimit::parse(budget).map_err(|e| anyhow::anyhow!("--budgets {budget}: {e}"))?;
        let budget_bytes = limit.bytes_for(downscale_engine::resources::total_ram().unwrap_or(0));
        let run_dir = work.join(format!("run-{index}"));
        let measured = run_flow(&case, &run_dir, budget)?;
        let floor = measured.bytes_read as f64 / disk.read_bytes_per_second
            + measured.bytes_written as f64 / disk.write_bytes_per_second;
        println!(
            "{budget:>10} {:>9.2} {:>10.1} {:>11.1} {:>9.2}s {:>9.2} {:>10.0}M {:>11.2}",
            measured.wall_seconds,
            measured.bytes_read as f64 / 1e6,
            measured.bytes_written as f64 / 1e6,
            floor,
            measured.wall_seconds / floor,
            measured.peak_rss_bytes as f64 / 1e6,
            measured.peak_rss_bytes as f64 / budget_bytes as f64,
        );
        let slowest: Vec<String> = measured.slowest().iter().map(|(task, s)| format!("{task} {s:.2}s")).collect();
        slowest_lines.push(format!("{budget}: {}", slowest.join(", ")));
        last = Some((budget, measured));
    }
    println!("I/O floor: bytes read and written at the measured disk speeds; ratio: wall / floor (goal <= 2)");
    println!("peak RSS: the largest of the tasks' peaks in the run records (goal: under the budget)");
    for line in slowest_lines {
        println!("slowest tasks at {line}");
    }
    if let Some((budget, measured)) = last {
        python::compare_with_python(&case, &work, args.reference_points, budget, &measured)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// What one run of the flow measured.
struct Measured {
    wall_seconds: f64,
    bytes_read: u64,
    bytes_written: u64,
    peak_rss_bytes: u64,
    /// CPU seconds of the whole `downscale run` process: tasks that run at once share the process, so their own
    /// readings overlap and do not add up to it.
    cpu_seconds: f64,
    /// Every task with its wall and CPU seconds, in the order they ran.
    tasks: Vec<(String, f64, f64)>,
    /// The published daily store, from the run's manifest.
    daily_output: String,
    /// The artifact of `bias_correct`, the corrected field on the model grid.
    corrected_coarse: String,
}

impl Measured {
    /// The three tasks that took longest, with their wall seconds.
    fn slowest(&self) -> Vec<(String, f64)> {
        let mut slowest: Vec<(String, f64)> = self.tasks.iter().map(|(task, wall, _)| (task.clone(), *wall)).collect();
        slowest.sort_by(|a, b| b.1.total_cmp(&a.1));
        slowest.truncate(3);
        slowest
    }
}

/// Runs the flow in a child process with its own storage under `dir`, and reads its records.
fn run_flow(case: &Case, dir: &Path, budget: &str) -> Result<Measured> {
    let records_path = dir.join("runs.sqlite");
    let setting = |key: &str, value: &Path| format!("{key}={}", value.display());
    let (start, cpu_before) = (Instant::now(), downscale_engine::resources::children_cpu_seconds());
    let output = Command::new(std::env::current_exe()?)
        .arg("run")
        .arg("--param-file")
        .arg(&case.param_file)
        .args(["--runtime", "local", "--quiet"])
        .args(["--set", &setting("storage.intermediate.uri", &dir.join("intermediate"))])
        .args(["--set", &setting("storage.results.uri", &dir.join("results"))])
        .args(["--set", &setting("storage.scratch.uri", &dir.join("scratch"))])
        .args(["--set", &setting("run_records", &records_path)])
        .args(["--set", &setting("data_catalog.obs", &case.obs_catalog)])
        .args(["--set", &setting("data_catalog.model", &case.model_catalog)])
        .args(["--set", &format!("runtimes.local.memory_limit={budget}")])
        .output()
        .context("cannot start downscale run")?;
    let (wall_seconds, cpu_seconds) =
        (start.elapsed().as_secs_f64(), downscale_engine::resources::children_cpu_seconds() - cpu_before);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!("the flow failed with budget {budget}: {}", stderr.lines().last().unwrap_or(""));
    }
    let records = Records::open(&records_path)?;
    let run = records.runs(1)?.into_iter().next().context("the run left no record")?;
    let tasks = records.tasks(run.id)?;
    let manifest_path = run.manifest.context("the run left no manifest")?;
    let manifest: Manifest = serde_json::from_slice(&std::fs::read(&manifest_path)?)
        .with_context(|| format!("the run's manifest {manifest_path}"))?;
    let location = |map: &std::collections::BTreeMap<String, String>, key: &str| {
        map.get(key).cloned().with_context(|| format!("{key} in the run's manifest {manifest_path}"))
    };
    Ok(Measured {
        daily_output: location(&manifest.datasets, "daily")?,
        corrected_coarse: location(&manifest.intermediates, "bias_correct")?,
        tasks: tasks
            .iter()
            .map(|t| (t.task_id.clone(), t.wall_seconds.unwrap_or(0.0), t.cpu_seconds.unwrap_or(0.0)))
            .collect(),
        wall_seconds,
        cpu_seconds,
        bytes_read: tasks.iter().filter_map(|t| t.bytes_read).sum(),
        bytes_written: tasks.iter().filter_map(|t| t.bytes_written).sum(),
        peak_rss_bytes: tasks.iter().filter_map(|t| t.peak_rss_bytes).max().unwrap_or(0),
    })
}

/// Sequential write (ending with fsync) and read speeds of a 256 MB file in the work directory, each the median of
/// three measurements: on a shared virtual disk one measurement swung between 300 and 1000 MB/s within an hour,
/// which moved the floor as much. The read comes back from the page cache when memory allows, as the flow's reads
/// of files it has just written do.
struct DiskSpeed {
    write_bytes_per_second: f64,
    read_bytes_per_second: f64,
    /// The three write speeds, in bytes per second, ascending.
    write_measurements: [f64; 3],
}

impl DiskSpeed {
    fn measure(dir: &Path) -> Result<DiskSpeed> {
        let mut writes = [0.0; 3];
        let mut reads = [0.0; 3];
        for (write, read) in writes.iter_mut().zip(&mut reads) {
            (*write, *read) = Self::measure_once(dir)?;
        }
        writes.sort_by(f64::total_cmp);
        reads.sort_by(f64::total_cmp);
        Ok(DiskSpeed { write_bytes_per_second: writes[1], read_bytes_per_second: reads[1], write_measurements: writes })
    }

    /// One write and read, in bytes per second.
    fn measure_once(dir: &Path) -> Result<(f64, f64)> {
        const BLOCK: usize = 4 << 20;
        const BLOCKS: usize = 64;
        let path = dir.join("disk-speed.bin");
        let block: Vec<u8> = (0..BLOCK).map(|i| (i * 31 % 251) as u8).collect();
        let start = Instant::now();
        let mut file = std::fs::File::create(&path)?;
        for _ in 0..BLOCKS {
            file.write_all(&block)?;
        }
        file.sync_all()?;
        let write = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let mut buffer = vec![0u8; BLOCK];
        let mut file = std::fs::File::open(&path)?;
        while file.read(&mut buffer)? > 0 {}
        let read = start.elapsed().as_secs_f64();
        std::fs::remove_file(&path)?;
        let bytes = (BLOCK * BLOCKS) as f64;
        Ok((bytes / write, bytes / read))
    }
}
