//! `downscale bench evaluate`: `downscale evaluate` of a BCSD run of the scaled-up Iberia tas case (see
//! [`super::case`]; the run predicts its training winters, so it can be scored), next to the same metrics computed
//! with xarray and xclim on the same stores in the same run (`scripts/oracles/bench_evaluate.py`).
//!
//! The evaluation runs in this process, so the bytes it reads are this process's (`rchar` of `/proc/self/io`: every
//! byte read through a system call, from the disk or the page cache), set against the size of the stores it needs.
//! Both sides' land means are compared, to show they did the same work.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use downscale_data::Location;
use downscale_evaluate::Evaluation;
use serde_json::Value;

use super::case::CaseArgs;
use crate::commands::ConfigArgs;
use crate::commands::evaluate::{Args as EvaluateArgs, evaluate_and_write};

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    case: CaseArgs,
    /// Where to build the case and run (default: a temporary directory, removed afterwards).
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let temporary = tempfile::tempdir()?;
    let work = args.work_dir.clone().unwrap_or_else(|| temporary.path().to_path_buf());
    std::fs::create_dir_all(&work)?;
    let case = args.case.build(&work)?;
    let manifest = run_historical(&case, &work)?;
    let manifest_text = std::fs::read(&manifest)?;
    let stores: Value = serde_json::from_slice(&manifest_text)?;
    let size = |path: &str| Location::parse(path).and_then(|l| l.total_size()).unwrap_or(0);
    let daily = stores["datasets"]["daily"].as_str().context("the manifest's daily store")?;
    let inputs: u64 = ["get_obs", "get_experiment_train", "get_experiment_predict", "land_mask"]
        .iter()
        .filter_map(|task| stores["intermediates"][task].as_str())
        .map(size)
        .sum();
    let (daily_bytes, monthly_bytes, annual_bytes) = (
        size(daily),
        stores["datasets"]["monthly"].as_str().map_or(0, size),
        stores["datasets"]["annual"].as_str().map_or(0, size),
    );

    let out = work.join("evaluation");
    let arguments = EvaluateArgs::of_manifest(&manifest.display().to_string(), &out.display().to_string());
    let read_before = bytes_read()?;
    let start = Instant::now();
    let (evaluation, _) = evaluate_and_write(&arguments, &ConfigArgs::default())?;
    let seconds = start.elapsed().as_secs_f64();
    let read = bytes_read()? - read_before;

    let python = super::workspace().join(".venv-evaluate/bin/python");
    let script = super::workspace().join("scripts/oracles/bench_evaluate.py");
    let reference = Command::new(&python)
        .arg(&script)
        .arg(&manifest)
        .output()
        .with_context(|| format!("cannot run {} (scripts/setup.sh makes the venv)", python.display()))?;
    if !reference.status.success() {
        bail!("the xarray + xclim reference failed: {}", String::from_utf8_lossy(&reference.stderr));
    }
    let reference: Value = serde_json::from_slice(&reference.stdout).context("the reference's JSON line")?;
    let reference_seconds = reference["seconds"].as_f64().context("the reference's seconds")?;

    let skill = evaluation.skill.as_ref().context("the run is scored against the observations")?;
    println!(
        "downscale evaluate of BCSD tas on the Iberia case tiled {0}x{0}, {1}x in time: {2} days of a {3}x{4} grid, \
         3 products (the output and the bilinear and QDM baselines; the reference does the first two); {5} threads",
        args.case.tiles,
        args.case.periods,
        skill.period.days,
        skill.lat.len(),
        skill.lon.len(),
        rayon::current_num_threads()
    );
    println!(
        "stores: daily {:.1} MB, monthly and annual {:.1} MB, its inputs (observations, raw model of both periods, \
         land) {:.1} MB",
        mb(daily_bytes),
        mb(monthly_bytes + annual_bytes),
        mb(inputs)
    );
    println!("{:<34} {:>9} {:>13} {:>8}", "", "seconds", "MB read", "ratio");
    println!("{:<34} {:>9.2} {:>13.1} {:>8}", "downscale evaluate", seconds, mb(read), "1.0");
    println!(
        "{:<34} {:>9.2} {:>13} {:>8.1}",
        "xarray + xclim (same metrics)",
        reference_seconds,
        "",
        reference_seconds / seconds
    );
    let stores_bytes = daily_bytes + monthly_bytes + annual_bytes + inputs;
    let coastlines =
        std::fs::metadata(downscale_regrid::mask::LandPolygons::natural_earth_10m_path()).map_or(0, |m| m.len());
    println!(
        "read {:.1} MB = the stores' {:.1} MB x {:.2} + {:.1} MB of the report's coastlines (land-10m.json)",
        mb(read),
        mb(stores_bytes),
        read.saturating_sub(coastlines) as f64 / stores_bytes as f64,
        mb(coastlines)
    );
    let agreement = largest_difference(&evaluation, &reference["land_means"]);
    println!(
        "largest difference of the {} land means both computed: {agreement:.1e} (K, or 1 for ratios and \
         correlations; xarray sums float32 values in float32)",
        land_means(&reference)
    );
    if agreement > AGREEMENT {
        bail!("the reference computed other numbers: {}", reference["land_means"]);
    }
    Ok(ExitCode::SUCCESS)
}

/// How far the reference's land means may be from ours: xarray reduces float32 arrays in float32, which leaves
/// about 1e-7 of a 280 K mean, and this much of a bias that is a difference of two such means.
const AGREEMENT: f64 = 1e-3;

/// Runs the case's flow for its training winters (a historical run), returning its manifest.
fn run_historical(case: &super::case::Case, work: &Path) -> Result<PathBuf> {
    let mut parameters: Value = serde_json::from_slice(&std::fs::read(&case.param_file)?)?;
    parameters["scenario"] = "historical".into();
    parameters["predict_dates"] = parameters["train_dates"].clone();
    let param_file = work.join("historical.json");
    std::fs::write(&param_file, serde_json::to_vec_pretty(&parameters)?)?;
    let setting = |key: &str, value: &Path| format!("{key}={}", value.display());
    let output = Command::new(std::env::current_exe()?)
        .arg("run")
        .arg("--param-file")
        .arg(&param_file)
        .args(["--runtime", "local", "--quiet"])
        .args(["--set", &setting("storage.intermediate.uri", &work.join("intermediate"))])
        .args(["--set", &setting("storage.results.uri", &work.join("results"))])
        .args(["--set", &setting("storage.scratch.uri", &work.join("scratch"))])
        .args(["--set", &setting("run_records", &work.join("runs.sqlite"))])
        .args(["--set", &setting("data_catalog.obs", &case.obs_catalog)])
        .args(["--set", &setting("data_catalog.model", &case.model_catalog)])
        .output()
        .context("cannot start downscale run")?;
    if !output.status.success() {
        bail!("the run failed: {}", String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or(""));
    }
    let printed = String::from_utf8_lossy(&output.stdout);
    let manifest = printed.lines().last().context("the run printed no manifest")?;
    Ok(PathBuf::from(manifest))
}

/// Bytes this process has read through system calls (`rchar` of `/proc/self/io`).
fn bytes_read() -> Result<u64> {
    let io = std::fs::read_to_string("/proc/self/io").context("/proc/self/io (Linux)")?;
    io.lines()
        .find_map(|line| line.strip_prefix("rchar: "))
        .and_then(|n| n.trim().parse().ok())
        .context("rchar in /proc/self/io")
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn land_means(reference: &Value) -> usize {
    reference["land_means"].as_object().map_or(0, serde_json::Map::len)
}

/// The largest difference between the reference's land means (`<product> <statistic>`) and ours.
fn largest_difference(evaluation: &Evaluation, reference: &Value) -> f64 {
    let Some(skill) = &evaluation.skill else { return f64::INFINITY };
    let Some(reference) = reference.as_object() else { return f64::INFINITY };
    let ours = |product: &str, statistic: &str| -> Option<f64> {
        if statistic == "pattern" {
            return skill.pattern_correlation.get(product).copied();
        }
        if let Some(entry) = skill.statistics.iter().find(|s| s.name == statistic) {
            return entry.products.get(product).map(|p| p.skill.land_mean);
        }
        let entry = skill.paired.iter().find(|s| s.name == statistic)?;
        entry.products.get(product).map(|m| m.land_mean)
    };
    reference
        .iter()
        .map(|(key, value)| {
            let (product, statistic) = key.split_once(' ').unwrap_or((key, ""));
            match (ours(product, statistic), value.as_f64()) {
                (Some(a), Some(b)) => (a - b).abs(),
                _ => f64::INFINITY,
            }
        })
        .fold(0.0, f64::max)
}
