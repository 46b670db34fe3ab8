//! `downscale bench flow`: the BCSD flow end to end on a scaled-up case, at two memory budgets, next to the I/O
//! floor of the same run.
//!
//! The case is the real Iberia tas pair (E-OBS 0.5°, CNRM-CM5 historical and rcp85) made larger: each field is
//! copied `--tiles` times along latitude and along longitude (the copies continue the grid's regular spacing, so
//! the land mask of the larger box is real land while the values repeat Iberia's), and its 20 winters are repeated
//! `--periods` times, shifted by 20 years (training back in time, prediction forward; 20-year shifts keep every
//! 29 February a leap day). Each budget runs in its own process with empty caches. The I/O floor is the bytes the
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
use downscale_data::calendar::CfDateTime;
use downscale_data::{
    CoordValues, Coordinate, DataArray, Location, Provenance, Replace, TimeAxis, read_variable, write_netcdf,
};
use downscale_engine::{Manifest, Records};
use ndarray::{Array3, Ix3};
use serde_json::json;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Copies of the Iberia grid along latitude and along longitude (at most 5: six copies of its 19 rows would
    /// pass the pole).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=5))]
    tiles: u32,
    /// Copies of the 20 training and 20 predicted winters.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=4))]
    periods: u32,
    /// The two memory budgets of the local runtime (`runtimes.local.memory_limit`).
    #[arg(long, num_args = 2, value_names = ["SMALL", "LARGE"], default_values = ["512MiB", "4GiB"])]
    budgets: Vec<String>,
    /// Directory of the sample data (default: `data/samples` of this checkout).
    #[arg(long, value_name = "DIR")]
    samples: Option<PathBuf>,
    /// Where to build the case and run (default: a temporary directory, removed afterwards).
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
    /// Model cells the Python pipeline corrects with scikit-downscale (its time is scaled to every cell).
    #[arg(long, default_value_t = 40)]
    reference_points: u32,
}

/// The years the copies are shifted by.
const PERIOD_YEARS: i32 = 20;

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let samples = args.samples.clone().unwrap_or_else(super::default_samples);
    let temporary = tempfile::tempdir()?;
    let work = args.work_dir.clone().unwrap_or_else(|| temporary.path().to_path_buf());
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let case = build_case(&samples, &work, args.tiles as usize, args.periods as usize)?;
    let disk = DiskSpeed::measure(&work)?;
    println!(
        "case: Iberia tas tiled {0}x{0} in space and {1}x in time (labelled copies of real data): obs {2:?}, model {3:?}",
        args.tiles, args.periods, case.obs_shape, case.model_shape
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

/// The scaled-up inputs, their catalogs and the parameter file.
struct Case {
    param_file: PathBuf,
    obs_file: PathBuf,
    hist_file: PathBuf,
    future_file: PathBuf,
    train: [i32; 2],
    predict: [i32; 2],
    obs_catalog: PathBuf,
    model_catalog: PathBuf,
    obs_shape: Vec<usize>,
    model_shape: Vec<usize>,
}

fn build_case(samples: &Path, work: &Path, tiles: usize, periods: usize) -> Result<Case> {
    let inputs = work.join("inputs");
    std::fs::create_dir_all(&inputs)?;
    let iberia = samples.join("iberia");
    let scale = |file: &str, variable: &str, shift: i32| -> Result<DataArray> {
        let array = read_variable(&iberia.join(file).to_string_lossy(), variable)?;
        let scaled = scaled_copy(&array, tiles, periods, shift)?;
        let path = inputs.join(Path::new(file).file_name().context("sample file name")?);
        let provenance = Provenance {
            history_entry: format!("downscale bench flow: {file} copied {tiles}x{tiles} in space, {periods}x in time"),
            ..Provenance::default()
        };
        write_netcdf(&scaled, &Location::parse(&path.to_string_lossy())?, &provenance, Replace::OwnOutputs)?;
        Ok(scaled)
    };
    let obs = scale("obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc", "tas", -PERIOD_YEARS)?;
    let hist =
        scale("gcm_CNRM-CM5/tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc", "tas", -PERIOD_YEARS)?;
    let future =
        scale("gcm_CNRM-CM5/tas_day_CNRM-CM5_rcp85_r1i1p1_iberia_DJF_20801201-21000228.nc", "tas", PERIOD_YEARS)?;

    let obs_catalog = write_catalog(
        work,
        "obs",
        "source_id,variable_id,frequency,file_variable,time_range,format,path",
        &[format!(
            "E-OBS,tas,day,tas,{},netcdf,{}",
            time_range(&obs)?,
            inputs.join("tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc").display()
        )],
    )?;
    let model_row = |experiment: &str, array: &DataArray, file: &str| -> Result<String> {
        Ok(format!(
            "CMIP5,CNRM-CERFACS,CNRM-CM5,{experiment},r1i1p1,day,tas,gn,tas,{},netcdf,{}",
            time_range(array)?,
            inputs.join(file).display()
        ))
    };
    let model_catalog = write_catalog(
        work,
        "cmip",
        "activity_id,institution_id,source_id,experiment_id,member_id,table_id,variable_id,grid_label,file_variable,time_range,format,path",
        &[
            model_row("historical", &hist, "tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc")?,
            model_row("rcp85", &future, "tas_day_CNRM-CM5_rcp85_r1i1p1_iberia_DJF_20801201-21000228.nc")?,
        ],
    )?;

    // The box of the scaled obs grid (cell edges), and the years of the repeated winters.
    let edges = |name: &str| -> Result<[f64; 2]> {
        let values = obs.coord(name).and_then(|c| c.values.numbers()).context("obs grid coordinate")?;
        let half = (values[1] - values[0]) / 2.0;
        Ok([values[0] - half, values[values.len() - 1] + half])
    };
    let ([lat0, lat1], [lon0, lon1]) = (edges("lat")?, edges("lon")?);
    let extra_years = PERIOD_YEARS * (periods as i32 - 1);
    let (train, predict) = ([1983 - extra_years, 2002], [2081, 2100 + extra_years]);
    let name = format!(
        "bcsd_E-OBS_CNRM-CM5_rcp85_tas_{lat0}_{lat1}_{lon0}_{lon1}_{}_{}_{}_{}.json",
        train[0], train[1], predict[0], predict[1]
    );
    let param_file = work.join(name);
    let parameters = json!({
        "method": "bcsd", "obs": "E-OBS", "model": "CNRM-CM5", "member": "r1i1p1", "grid_label": "gn",
        "table_id": "day", "scenario": "rcp85", "variable": "tas",
        "latmin": lat0.to_string(), "latmax": lat1.to_string(), "lonmin": lon0.to_string(), "lonmax": lon1.to_string(),
        "train_dates": [train[0].to_string(), train[1].to_string()],
        "predict_dates": [predict[0].to_string(), predict[1].to_string()],
        "bias_correction_method": "bcsd_point",
    });
    std::fs::write(&param_file, serde_json::to_vec_pretty(&parameters)?)?;
    Ok(Case {
        param_file,
        obs_file: inputs.join("tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc"),
        hist_file: inputs.join("tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc"),
        future_file: inputs.join("tas_day_CNRM-CM5_rcp85_r1i1p1_iberia_DJF_20801201-21000228.nc"),
        train,
        predict,
        obs_catalog,
        model_catalog,
        obs_shape: obs.shape().to_vec(),
        model_shape: hist.shape().to_vec(),
    })
}

/// `array` copied `tiles` times along each spatial axis and `periods` times in time, each period shifted by
/// `shift` years from the previous one (the copies are put in time order).
fn scaled_copy(array: &DataArray, tiles: usize, periods: usize, shift: i32) -> Result<DataArray> {
    let data = array.data.view().into_dimensionality::<Ix3>().context("a (time, lat, lon) field")?;
    let (steps, rows, columns) = data.dim();
    let time = array.time.as_ref().context("a time axis")?;
    // The period copies in time order: shifted back by (periods - 1 - p) * |shift|, or forward by p * shift.
    let offsets: Vec<i32> =
        (0..periods as i32).map(|p| if shift < 0 { shift * (periods as i32 - 1 - p) } else { shift * p }).collect();
    let scaled = Array3::from_shape_fn((steps * periods, rows * tiles, columns * tiles), |(t, i, j)| {
        data[[t % steps, i % rows, j % columns]]
    });
    let dates = offsets
        .iter()
        .flat_map(|&years| time.dates.iter().map(move |date| CfDateTime { year: date.year + years, ..*date }))
        .collect();
    let extended = |name: &str, copies: usize| -> Result<Coordinate> {
        let coord = array.coord(name).context("a regular grid coordinate")?;
        let values = coord.values.numbers().context("numeric coordinates")?;
        let step = values[1] - values[0];
        let total = values.len() * copies;
        Ok(Coordinate {
            values: CoordValues::Numbers((0..total).map(|k| values[0] + step * k as f64).collect()),
            bounds: None,
            ..coord.clone()
        })
    };
    Ok(DataArray {
        data: scaled.into_dyn(),
        coords: vec![extended("lat", tiles)?, extended("lon", tiles)?],
        time: Some(TimeAxis { dates, ..time.clone() }),
        ..array.clone()
    })
}

/// The catalog's `time_range` of an array: its first and last days, `YYYYMMDD-YYYYMMDD`.
fn time_range(array: &DataArray) -> Result<String> {
    let dates = &array.time.as_ref().context("a time axis")?.dates;
    let day = |date: &CfDateTime| format!("{:04}{:02}{:02}", date.year, date.month, date.day);
    Ok(format!("{}-{}", day(dates.first().context("time steps")?), day(dates.last().context("time steps")?)))
}

/// Writes `<stem>.csv` with `rows` and `<stem>.json` (the repository's catalog description, pointing at it).
fn write_catalog(work: &Path, stem: &str, header: &str, rows: &[String]) -> Result<PathBuf> {
    let description = super::workspace().join(format!("data/catalog/{stem}.json"));
    let json_path = work.join(format!("{stem}.json"));
    std::fs::copy(&description, &json_path).with_context(|| format!("cannot copy {}", description.display()))?;
    std::fs::write(work.join(format!("{stem}.csv")), format!("{header}\n{}\n", rows.join("\n")))?;
    Ok(json_path)
}

/// What one run of the flow measured.
struct Measured {
    wall_seconds: f64,
    bytes_read: u64,
    bytes_written: u64,
    peak_rss_bytes: u64,
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

    /// The CPU seconds of every task, summed: the process's CPU time inside tasks, which run one at a time.
    fn cpu_seconds(&self) -> f64 {
        self.tasks.iter().map(|(_, _, cpu)| cpu).sum()
    }
}

/// Runs the flow in a child process with its own storage under `dir`, and reads its records.
fn run_flow(case: &Case, dir: &Path, budget: &str) -> Result<Measured> {
    let records_path = dir.join("runs.sqlite");
    let setting = |key: &str, value: &Path| format!("{key}={}", value.display());
    let start = Instant::now();
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
    let wall_seconds = start.elapsed().as_secs_f64();
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
