//! The same BCSD done the way a user of the Python stack would do it, next to our run: cdo, xarray and
//! scikit-downscale on one core (`scripts/oracles/bench_bcsd_flow.py`), timed step by step, and its daily output
//! checked against ours, so that the cost compared is the cost of the same result.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use downscale_data::{DataArray, read_variable};
use ndarray::Axis;
use serde_json::{Map, Value};

use super::{Case, Measured};

/// Marks the step whose time the script measured on some model cells and scaled to all of them.
const SAMPLED: &str = "sampled";

/// Runs the Python pipeline on the case and prints both sides' cost per step, per core and per output cell-day,
/// and how far its daily output is from ours (`ours`, the run at `budget`).
pub(super) fn compare_with_python(case: &Case, work: &Path, points: u32, budget: &str, ours: &Measured) -> Result<()> {
    let python = super::super::workspace().join(".venv-skdownscale/bin/python");
    let script = super::super::workspace().join("scripts/oracles/bench_bcsd_flow.py");
    if !python.exists() {
        println!("python pipeline: skipped (no {}; scripts/oracles/generate.sh makes it)", python.display());
        return Ok(());
    }
    if !Command::new("cdo").arg("-V").output().is_ok_and(|o| o.status.success()) {
        println!("python pipeline: skipped (no cdo on the PATH; scripts/setup.sh installs it)");
        return Ok(());
    }
    let years = |y: [i32; 2]| [y[0].to_string(), y[1].to_string()];
    let out_dir = work.join("python");
    let output = Command::new(&python)
        .arg(&script)
        .args([&case.obs_file, &case.hist_file, &case.future_file])
        .args(years(case.train))
        .args(years(case.predict))
        .arg(&out_dir)
        .arg(points.to_string())
        // One core, as the per-core comparison assumes: the libraries would otherwise start a thread per core.
        .env("OMP_NUM_THREADS", "1")
        .env("OPENBLAS_NUM_THREADS", "1")
        .env("CDO_NUM_THREADS", "1")
        .output()
        .context("cannot start the Python pipeline")?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!("the Python pipeline failed: {}", stderr.lines().last().unwrap_or(""));
    }
    let report: Value = serde_json::from_slice(&output.stdout).context("the Python pipeline's report")?;
    let steps = report["steps"].as_object().context("steps in the Python pipeline's report")?;
    let cpu_steps = report["cpu_steps"].as_object().context("cpu_steps in the Python pipeline's report")?;
    let cell_days = report["output_cell_days"].as_u64().context("output_cell_days")?;
    let (points, cells) = (report["points"].as_u64().context("points")?, report["cells"].as_u64().context("cells")?);

    println!("python pipeline (cdo + xarray + scikit-downscale, one core), per step:");
    println!("  {:<34} {:>8} {:>8}", "step", "wall s", "CPU s");
    for (step, wall) in steps {
        let cpu = cpu_steps.get(step).and_then(Value::as_f64).unwrap_or(f64::NAN);
        println!("  {step:<34} {:>8.2} {cpu:>8.2}", wall.as_f64().unwrap_or(f64::NAN));
    }
    let (python_wall, python_cpu) = (total(steps), total(cpu_steps));
    println!("  {:<34} {python_wall:>8.2} {python_cpu:>8.2}", "total");
    if steps.keys().any(|step| step.contains(SAMPLED)) {
        println!(
            "  (the {SAMPLED} step corrected {points} of the {cells} model cells whose coarsened obs cdo left \
             valid, and is scaled to all {cells})"
        );
    }

    println!("ours at {budget}, per task:");
    println!("  {:<34} {:>8} {:>8}", "task", "wall s", "CPU s");
    for (task, wall, cpu) in &ours.tasks {
        println!("  {task:<34} {wall:>8.2} {cpu:>8.2}");
    }
    let cpu = ours.cpu_seconds;
    println!("  {:<34} {:>8.2} {cpu:>8.2}", "the whole process (tasks overlap)", ours.wall_seconds);
    let corrected = corrected_cells(ours)?;
    println!(
        "  (bias_correct corrected {corrected} model cells: our bilinear regrid averages the valid neighbours where \
         cdo's leaves a cell missing, so the python step is scaled to fewer cells than ours did)"
    );

    let (our_daily, python_daily) =
        (read_variable(&ours.daily_output, "tas")?, read_variable(&out_dir.join("daily.nc").to_string_lossy(), "tas")?);
    if our_daily.shape() != python_daily.shape() || our_daily.data.len() as u64 != cell_days {
        bail!(
            "the Python pipeline's daily output has shape {:?} ({cell_days} cell-days), ours {:?}",
            python_daily.shape(),
            our_daily.shape()
        );
    }
    let ns_per_cell_day = |seconds: f64| seconds / cell_days as f64 * 1e9;
    println!("{:>22} {:>9} {:>9} {:>16}", "", "wall s", "CPU s", "CPU ns/cell-day");
    println!("{:>22} {:>9.2} {cpu:>9.2} {:>16.1}", "ours", ours.wall_seconds, ns_per_cell_day(cpu));
    println!("{:>22} {python_wall:>9.2} {python_cpu:>9.2} {:>16.1}", "python pipeline", ns_per_cell_day(python_cpu));
    // CPU against CPU: on one core the Python pipeline's CPU time is its wall time on an idle machine, and unlike
    // wall time it does not grow when another process shares the cores.
    println!(
        "per core: {:.1}x (python CPU seconds / our CPU seconds; goal >= 30); ours {:.1} ns of CPU per output \
         cell-day (goal <= 40; {cell_days} cell-days: {} days x {} x {} cells)",
        python_cpu / cpu,
        ns_per_cell_day(cpu),
        our_daily.shape()[0],
        our_daily.shape()[1],
        our_daily.shape()[2],
    );
    let difference = Difference::between(&our_daily, &python_daily)?;
    println!(
        "python vs ours, daily output where both have values ({} cells x {} days, under the corrected model cells): \
         mean |difference| {:.2e} K, largest {:.2e} K; mean python {:.4} K, ours {:.4} K",
        difference.cells,
        our_daily.shape()[0],
        difference.mean_absolute,
        difference.largest,
        difference.mean_python,
        difference.mean_ours,
    );
    Ok(())
}

/// The sum of a report's step seconds; the sampled step is already scaled to every cell, so it counts as it is.
fn total(steps: &Map<String, Value>) -> f64 {
    steps.values().filter_map(Value::as_f64).sum()
}

/// The model cells our `bias_correct` gave values, from its artifact.
fn corrected_cells(ours: &Measured) -> Result<usize> {
    let corrected = read_variable(&ours.corrected_coarse, "tas")?;
    let valid = corrected.data.map_axis(Axis(0), |series| series.iter().any(|v| !v.is_nan()));
    Ok(valid.iter().filter(|&&v| v).count())
}

/// How far the Python pipeline's daily field is from ours, over the values both have.
struct Difference {
    /// Cells (lat, lon) with a value on some day in both.
    cells: usize,
    /// Mean of |python - ours|, in K.
    mean_absolute: f64,
    /// Largest |python - ours|, in K.
    largest: f64,
    /// Mean of our values, in K.
    mean_ours: f64,
    /// Mean of the Python pipeline's values, in K.
    mean_python: f64,
}

impl Difference {
    fn between(ours: &DataArray, python: &DataArray) -> Result<Difference> {
        let dates = |array: &DataArray| array.time.as_ref().map(|t| t.dates.clone());
        if dates(ours) != dates(python) {
            bail!("the Python pipeline's daily output has other days than ours");
        }
        let both = ndarray::Zip::from(&ours.data).and(&python.data).map_collect(|o, p| !(o.is_nan() || p.is_nan()));
        let (mut count, mut sum, mut largest, mut sum_ours, mut sum_python) = (0usize, 0.0, 0.0f64, 0.0, 0.0);
        ndarray::Zip::from(&ours.data).and(&python.data).and(&both).for_each(|&o, &p, &both| {
            if both {
                let (o, p) = (f64::from(o), f64::from(p));
                count += 1;
                sum += (p - o).abs();
                largest = largest.max((p - o).abs());
                sum_ours += o;
                sum_python += p;
            }
        });
        if count == 0 {
            bail!("the Python pipeline's daily output has no value where ours has one");
        }
        let cells = both.map_axis(Axis(0), |series| series.iter().any(|&b| b)).iter().filter(|&&b| b).count();
        let n = count as f64;
        Ok(Difference { cells, mean_absolute: sum / n, largest, mean_ours: sum_ours / n, mean_python: sum_python / n })
    }
}
