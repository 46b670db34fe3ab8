//! `downscale bench adjust`: bias-correction throughput on a 48×48-point tile, on 1 and 2 threads, next to xsdba
//! and scikit-downscale timed in the same run on the same tile.
//!
//! The tile is built from the real station series (REF = NRCan 1981–2010, HIST = CanESM2 1981–2010, SIM = CanESM2
//! 2041–2070): point p carries station p mod 3 shifted by 0.001 K × (p div 3), so that no two points are equal and
//! every point has real seasonality, variability and trends. The tile is written to NetCDF so that the references
//! read exactly the same numbers. Reading files is not timed on either side.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use downscale_data::{CoordValues, Coordinate, DataArray, Location, Replace, write_netcdf};
use downscale_methods::adjust::{BiasCorrection, XsdbaSettings, adjust_points};
use downscale_methods::bcsd::FitOrder;
use downscale_methods::xsdba::{AdjustOptions, Grouping, Kind, TrainOptions};
use ndarray::Array3;
use serde_json::Value;

use super::time;
use crate::commands::adjust_inputs::{AdjustInputs, Years};
use crate::commands::read_input;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Points per side of the tile.
    #[arg(long, default_value_t = 48)]
    side: usize,
    /// Points timed with scikit-downscale (applied point by point, which takes a noticeable time per point).
    #[arg(long, default_value_t = 24)]
    skdownscale_points: usize,
    /// Python of the xsdba 0.7.0 venv (default: .venv-xsdba of this checkout, made by scripts/oracles/generate.sh).
    #[arg(long, value_name = "PYTHON")]
    xsdba_python: Option<PathBuf>,
    /// Python of the scikit-downscale 0.1.5 venv (default: .venv-skdownscale of this checkout).
    #[arg(long, value_name = "PYTHON")]
    skdownscale_python: Option<PathBuf>,
    /// Directory of the sample data (default: `data/samples` of this checkout).
    #[arg(long, value_name = "DIR")]
    samples: Option<PathBuf>,
    /// Times each of our cases this many times on each thread count and keeps the fastest (each reference case
    /// runs twice, after a warm-up, and its fastest run counts). A case takes a few tenths of a second, and on a
    /// shared virtual machine a slow spell can outlast five of them: the default of 10 costs about ten seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// Only the cases whose name contains this text (e.g. `qdm`, `month`).
    #[arg(long, value_name = "TEXT")]
    only: Option<String>,
}

const TRAIN: [i32; 2] = [1981, 2010];
const PREDICT: [i32; 2] = [2041, 2070];

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let samples = args.samples.clone().unwrap_or_else(super::default_samples);
    let temporary = tempfile::tempdir()?;
    let tile = temporary.path();
    write_tile(&samples, tile, args.side)?;
    let path = |name: &str| tile.join(format!("{name}.nc")).to_string_lossy().to_string();
    let inputs = AdjustInputs::read(
        "tasmax",
        [&path("ref"), &path("hist"), &path("sim")],
        Years::new("--train", &TRAIN)?,
        Years::new("--predict", &PREDICT)?,
    )?;
    let points = args.side * args.side;

    let xsdba_python = args.xsdba_python.unwrap_or_else(|| super::workspace().join(".venv-xsdba/bin/python"));
    let skd_python = args.skdownscale_python.unwrap_or_else(|| super::workspace().join(".venv-skdownscale/bin/python"));
    let xsdba = reference_timings(&xsdba_python, &["xsdba", &tile.to_string_lossy()]);
    let skdownscale = reference_timings(
        &skd_python,
        &["skdownscale", &tile.to_string_lossy(), &args.skdownscale_points.min(points).to_string()],
    );

    println!(
        "{:<24} {:>7} {:>14} {:>14} {:>8} {:>26} {:>14} {:>8}",
        "case", "points", "ours 1 thr", "ours 2 thr", "2 vs 1", "reference", "ref points/s", "ratio"
    );
    let selected = |case: &str| args.only.as_ref().is_none_or(|only| case.contains(only.as_str()));
    for (case, method) in cases().into_iter().filter(|(case, _)| selected(case)) {
        let (one, two) = fastest_on_one_and_two_threads(&method, &inputs, args.repeat)?;
        let rate = |d: Duration| points as f64 / d.as_secs_f64();
        let (reference_name, reference) = if case.starts_with("bcsd") {
            ("scikit-downscale 0.1.5", &skdownscale)
        } else {
            ("xsdba 0.7.0 (whole tile)", &xsdba)
        };
        let reference_rate = match reference {
            Ok(timings) => timings.get(case).and_then(|t| Some(t["points"].as_f64()? / t["seconds"].as_f64()?)),
            Err(_) => None,
        };
        let (reference_text, ratio) = match reference_rate {
            Some(r) => (format!("{r:.1}"), format!("{:.1}", rate(one) / r)),
            None => ("-".into(), "-".into()),
        };
        println!(
            "{case:<24} {points:>7} {:>14.1} {:>14.1} {:>8.2} {reference_name:>26} {reference_text:>14} {ratio:>8}",
            rate(one),
            rate(two),
            one.as_secs_f64() / two.as_secs_f64(),
        );
    }
    println!("points/s: points adjusted per second (train + adjust); ratio: ours on 1 thread / reference on 1 core");
    for (name, result) in [("xsdba", &xsdba), ("scikit-downscale", &skdownscale)] {
        if let Err(e) = result {
            println!("{name} not timed: {e}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The benchmarked methods, named as the Python script names its timings.
fn cases() -> Vec<(&'static str, BiasCorrection)> {
    let xsdba = |group| XsdbaSettings {
        train: TrainOptions { nquantiles: 20, kind: Kind::Additive, group, adapt_freq_thresh: None },
        adjust: AdjustOptions::default(),
        jitter_under: None,
    };
    vec![
        ("eqm time", BiasCorrection::Eqm(xsdba(Grouping::Time))),
        ("eqm month", BiasCorrection::Eqm(xsdba(Grouping::Month))),
        ("dqm time", BiasCorrection::Dqm(xsdba(Grouping::Time))),
        ("dqm month", BiasCorrection::Dqm(xsdba(Grouping::Month))),
        ("qdm time", BiasCorrection::Qdm(xsdba(Grouping::Time))),
        ("qdm month", BiasCorrection::Qdm(xsdba(Grouping::Month))),
        ("bcsd-temperature month", BiasCorrection::BcsdTemperature { order: FitOrder::Documented }),
    ]
}

/// Adjusts every point of the tile on pools of 1 and 2 threads, alternately `repeat` times each, and returns the
/// fastest wall time of each. Alternating spreads a slow spell of the machine over both rather than one.
fn fastest_on_one_and_two_threads(
    method: &BiasCorrection,
    inputs: &AdjustInputs,
    repeat: u32,
) -> Result<(Duration, Duration)> {
    let pools = [1, 2].map(|threads| rayon::ThreadPoolBuilder::new().num_threads(threads).build());
    let mut fastest = [Duration::MAX; 2];
    for _ in 0..repeat {
        for (pool, fastest) in pools.iter().zip(&mut fastest) {
            let pool = pool.as_ref().map_err(|e| anyhow::anyhow!("cannot start a thread pool: {e}"))?;
            let (_, elapsed) = pool.install(|| {
                time(|| adjust_points(method, &inputs.point_inputs(), 0).map_err(|e| anyhow::anyhow!("{e}")))
            })?;
            *fastest = (*fastest).min(elapsed);
        }
    }
    Ok((fastest[0], fastest[1]))
}

/// Runs `scripts/oracles/bench_adjust.py` on one core (BLAS and numba limited to one thread) and parses its timings.
fn reference_timings(python: &Path, args: &[&str]) -> Result<serde_json::Map<String, Value>> {
    if !python.exists() {
        bail!("{} not found (create the venvs with scripts/oracles/generate.sh)", python.display());
    }
    let script = super::workspace().join("scripts/oracles/bench_adjust.py");
    let mut command = Command::new(python);
    command.arg(&script).args(args);
    for variable in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"] {
        command.env(variable, "1");
    }
    let output = command.output().with_context(|| format!("cannot run {}", python.display()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!("{} failed: {}", script.display(), stderr.lines().last().unwrap_or(""));
    }
    let value: Value = serde_json::from_slice(&output.stdout).context("reference timings are not JSON")?;
    value.as_object().cloned().context("reference timings are not a JSON object")
}

/// Writes ref.nc, hist.nc and sim.nc: `side`×`side` points of daily tasmax built from the three stations.
fn write_tile(samples: &Path, dir: &Path, side: usize) -> Result<()> {
    let stations = samples.join("stations_sdba");
    let read = |file: &str| read_input(&stations.join(file).to_string_lossy(), Some("tasmax"));
    let nrcan = read("nrcan_1950-2013.nc")?;
    let canesm2 = read("CanESM2_1950-2100.nc")?;
    for (name, source, [first, last]) in [("ref", &nrcan, TRAIN), ("hist", &canesm2, TRAIN), ("sim", &canesm2, PREDICT)]
    {
        let dates = &source.time.as_ref().context("station series have time")?.dates;
        let steps: Vec<usize> = (0..dates.len()).filter(|&i| (first..=last).contains(&dates[i].year)).collect();
        let selected = source.select_time(&steps);
        let station_count = selected.shape()[1];
        let data = Array3::from_shape_fn((steps.len(), side, side), |(t, i, j)| {
            let point = i * side + j;
            selected.data[[t, point % station_count]] + 0.001 * (point / station_count) as f32
        });
        let tile = DataArray {
            dims: vec!["time".into(), "lat".into(), "lon".into()],
            data: data.into_dyn(),
            coords: vec![axis("lat", 45.0, side), axis("lon", -100.0, side)],
            ..selected
        };
        let path = dir.join(format!("{name}.nc"));
        write_netcdf(&tile, &Location::parse(&path.to_string_lossy())?, &Default::default(), Replace::OwnOutputs)?;
    }
    Ok(())
}

/// A regular 0.25° axis of `n` cells starting at `start`.
fn axis(name: &str, start: f64, n: usize) -> Coordinate {
    Coordinate {
        name: name.into(),
        dims: vec![name.into()],
        values: CoordValues::Numbers((0..n).map(|i| start + 0.25 * i as f64).collect()),
        attrs: Default::default(),
        bounds: None,
    }
}
