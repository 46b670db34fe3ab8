//! The GARD point models on a tile of real station series, next to scikit-downscale 0.1.5 point by point
//! (`scripts/oracles/bench_gard.py`), on the same numbers: the tile is written as raw little-endian float64 arrays
//! that the script reads, and its predictions come back the same way so the table shows how far apart they are.
//!
//! Point p carries station p mod 3 (NRCan gridded obs as the target, CanESM2 as the predictor), its temperatures
//! shifted by 0.001 K × (p div 3) and its precipitation scaled by 1 + 0.001 × (p div 3), so no two points are equal
//! and each has real seasonality, variability and dry spells.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use downscale_data::DataArray;
use downscale_methods::gard::{AnalogRegression, GardPrediction, Logistic, PureRegression};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde_json::{Value, json};

use super::Args;
use crate::commands::read_input;

/// Both sides run each case this many times and the fastest run counts.
const REPEAT: usize = 3;

#[derive(Clone, Copy)]
enum Model {
    PureRegression { thresh: f64 },
    AnalogRegression { n_analogs: usize },
}

impl Model {
    fn fit_predict(
        self,
        train_x: ArrayView2<'_, f64>,
        train_y: &[f64],
        predict_x: ArrayView2<'_, f64>,
    ) -> Result<GardPrediction> {
        let prediction = match self {
            Model::PureRegression { thresh } => PureRegression { thresh: Some(thresh), logistic: Logistic::default() }
                .fit(train_x, train_y)
                .and_then(|fitted| fitted.predict(predict_x)),
            Model::AnalogRegression { n_analogs } => AnalogRegression { n_analogs, ..AnalogRegression::default() }
                .fit(train_x, train_y)
                .and_then(|fitted| fitted.predict(predict_x)),
        };
        prediction.map_err(|e| anyhow::anyhow!("{e}"))
    }

    fn describe(self) -> Value {
        match self {
            Model::PureRegression { thresh } => json!({"model": "PureRegression", "thresh": thresh}),
            Model::AnalogRegression { n_analogs } => json!({"model": "AnalogRegression", "n_analogs": n_analogs}),
        }
    }
}

/// One benchmark case: per point, training features and target and prediction features (one feature).
struct Case {
    name: &'static str,
    model: Model,
    train_x: Vec<Array2<f64>>,
    train_y: Vec<Vec<f64>>,
    predict_x: Vec<Array2<f64>>,
}

pub(super) fn run(args: &Args) -> Result<()> {
    let samples = args.samples.clone().unwrap_or_else(super::super::default_samples);
    let stations = samples.join("stations_sdba");
    let read = |file: &str, var: &str| read_input(&stations.join(file).to_string_lossy(), Some(var));
    let cbrt_mm_per_day = |v: f64| (v * 86400.0).max(0.0).cbrt();
    let cases = [
        Case::build(
            "pure-regression pr thresh 0",
            Model::PureRegression { thresh: 0.0 },
            [&read("nrcan_1950-2013.nc", "pr")?, &read("CanESM2_1950-2100.nc", "pr")?],
            [[1981, 2010], [2041, 2070]],
            args.points,
            &|value, k| cbrt_mm_per_day(value * (1.0 + 0.001 * k)),
        )?,
        Case::build(
            "analog-regression tasmax 200",
            Model::AnalogRegression { n_analogs: 200 },
            [&read("nrcan_1950-2013.nc", "tasmax")?, &read("CanESM2_1950-2100.nc", "tasmax")?],
            [[1981, 1990], [2041, 2050]],
            args.points,
            &|value, k| value + 0.001 * k,
        )?,
    ];
    let python = args
        .skdownscale_python
        .clone()
        .unwrap_or_else(|| super::super::workspace().join(".venv-skdownscale/bin/python"));
    let temporary = tempfile::tempdir()?;
    let reference_points = args.skdownscale_points.min(args.points).max(1);
    println!(
        "{:<30} {:>6} {:>6} {:>12} {:>12} {:>7} {:>12} {:>9} {:>11}",
        "case", "days", "points", "ours 1 thr", "ours 2 thr", "2 vs 1", "reference", "ratio", "max Δpred"
    );
    for case in &cases {
        let (one, two, ours) = case.time_ours()?;
        let rate = |d: Duration| case.train_x.len() as f64 / d.as_secs_f64();
        let reference = case.time_reference(&python, temporary.path(), reference_points);
        let (reference_text, ratio, difference) = match &reference {
            Ok((seconds, predictions)) => {
                let reference_rate = reference_points as f64 / seconds;
                let difference = predictions
                    .iter()
                    .zip(&ours)
                    .flat_map(|(theirs, ours)| {
                        theirs.iter().zip(&ours.pred).map(|(a, b)| (a - b).abs() / a.abs().max(1.0))
                    })
                    .fold(0.0, f64::max);
                (
                    format!("{reference_rate:.2}"),
                    format!("{:.0}", rate(one) / reference_rate),
                    format!("{difference:.1e}"),
                )
            }
            Err(_) => ("-".into(), "-".into(), "-".into()),
        };
        println!(
            "{:<30} {:>6} {:>6} {:>12.1} {:>12.1} {:>7.2} {reference_text:>12} {ratio:>9} {difference:>11}",
            case.name,
            case.predict_x[0].nrows(),
            case.train_x.len(),
            rate(one),
            rate(two),
            one.as_secs_f64() / two.as_secs_f64(),
        );
        if let Err(e) = reference {
            println!("  scikit-downscale not timed: {e:#}");
        }
    }
    println!(
        "points/s: points fitted and predicted per second; reference: scikit-downscale 0.1.5 point by point on {reference_points} \
         point(s), one core; ratio: ours on 1 thread / reference (goal: ≥ 50 for PureRegression, ≥ 20 for AnalogRegression, \
         2 vs 1 ≥ 1.8)"
    );
    println!(
        "max Δpred: largest difference of `pred` from the reference's, relative to max(1, |pred|). One float32 \
         feature repeats values, so on some days the 200th and 201st analogues tie (13 of 3650 at the first \
         station): the reference's tree picks among them by its layout, this tool the earliest days."
    );
    Ok(())
}

impl Case {
    /// Aligns obs and model on their common dates and builds `points` perturbed copies of the stations.
    fn build(
        name: &'static str,
        model: Model,
        [obs, gcm]: [&DataArray; 2],
        [train, predict]: [[i32; 2]; 2],
        points: usize,
        perturb: &dyn Fn(f64, f64) -> f64,
    ) -> Result<Case> {
        // (index, (year, month, day)) of each step of `source` in the years `[first, last]`.
        type Days = Vec<(usize, (i32, u32, u32))>;
        let days = |source: &DataArray, [first, last]: [i32; 2]| -> Result<Days> {
            let dates = &source.time.as_ref().context("station series have time")?.dates;
            Ok((0..dates.len())
                .filter(|&i| (first..=last).contains(&dates[i].year))
                .map(|i| (i, (dates[i].year, dates[i].month, dates[i].day)))
                .collect())
        };
        let obs_train: HashMap<(i32, u32, u32), usize> = days(obs, train)?.into_iter().map(|(i, d)| (d, i)).collect();
        // Common training dates (the model's calendar has no 29 February).
        let pairs: Vec<(usize, usize)> =
            days(gcm, train)?.into_iter().filter_map(|(g, date)| obs_train.get(&date).map(|&o| (g, o))).collect();
        let predict_days: Vec<usize> = days(gcm, predict)?.into_iter().map(|(i, _)| i).collect();
        let stations = obs.data.shape()[1];
        let (mut train_x, mut train_y, mut predict_x) = (Vec::new(), Vec::new(), Vec::new());
        for point in 0..points {
            let (station, k) = (point % stations, (point / stations) as f64);
            let value = |array: &DataArray, t: usize| perturb(f64::from(array.data[[t, station]]), k);
            train_x.push(Array2::from_shape_fn((pairs.len(), 1), |(i, _)| value(gcm, pairs[i].0)));
            train_y.push(pairs.iter().map(|&(_, o)| value(obs, o)).collect());
            predict_x.push(Array2::from_shape_fn((predict_days.len(), 1), |(i, _)| value(gcm, predict_days[i])));
        }
        Ok(Case { name, model, train_x, train_y, predict_x })
    }

    /// Fits and predicts every point on pools of 1 and 2 threads, alternately, keeping the fastest of each; returns
    /// the predictions too.
    fn time_ours(&self) -> Result<(Duration, Duration, Vec<GardPrediction>)> {
        let pools = [1, 2].map(|threads| rayon::ThreadPoolBuilder::new().num_threads(threads).build());
        let mut fastest = [Duration::MAX; 2];
        let mut predictions = Vec::new();
        for _ in 0..REPEAT {
            for (pool, fastest) in pools.iter().zip(&mut fastest) {
                let pool = pool.as_ref().map_err(|e| anyhow::anyhow!("cannot start a thread pool: {e}"))?;
                let start = Instant::now();
                predictions = pool.install(|| {
                    (0..self.train_x.len())
                        .into_par_iter()
                        .map(|p| {
                            self.model.fit_predict(self.train_x[p].view(), &self.train_y[p], self.predict_x[p].view())
                        })
                        .collect::<Result<Vec<_>>>()
                })?;
                *fastest = (*fastest).min(start.elapsed());
            }
        }
        Ok((fastest[0], fastest[1], predictions))
    }

    /// Writes the first `points` points for `scripts/oracles/bench_gard.py`, runs it on one core and returns its
    /// fastest time and its predictions.
    fn time_reference(&self, python: &Path, dir: &Path, points: usize) -> Result<(f64, Vec<Vec<f64>>)> {
        if !python.exists() {
            bail!("{} not found (create the venvs with scripts/oracles/generate.sh)", python.display());
        }
        let write = |name: &str, values: Vec<f64>| -> Result<()> {
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            std::fs::write(dir.join(name), bytes).with_context(|| format!("cannot write {name}"))
        };
        write("train_x.f64", self.train_x[..points].iter().flat_map(|a| a.iter().copied()).collect())?;
        write("train_y.f64", self.train_y[..points].concat())?;
        write("predict_x.f64", self.predict_x[..points].iter().flat_map(|a| a.iter().copied()).collect())?;
        let mut description = self.model.describe();
        description["points"] = json!(points);
        description["train_days"] = json!(self.train_y[0].len());
        description["predict_days"] = json!(self.predict_x[0].nrows());
        description["repeat"] = json!(REPEAT);
        std::fs::write(dir.join("case.json"), description.to_string())?;
        let script = super::super::workspace().join("scripts/oracles/bench_gard.py");
        let mut command = Command::new(python);
        command.arg(&script).arg(dir);
        for variable in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"] {
            command.env(variable, "1");
        }
        let output = command.output().with_context(|| format!("cannot run {}", python.display()))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            bail!("{} failed: {}", script.display(), stderr.lines().last().unwrap_or(""));
        }
        let timing: Value = serde_json::from_slice(&output.stdout).context("reference timing is not JSON")?;
        let seconds = timing["seconds"].as_f64().context("reference timing has no seconds")?;
        let bytes = std::fs::read(dir.join("pred.f64")).context("the reference wrote no predictions")?;
        let pred: Vec<f64> =
            bytes.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))).collect();
        let days = self.predict_x[0].nrows();
        Ok((seconds, pred.chunks(days).map(<[f64]>::to_vec).collect()))
    }
}
