//! `downscale run` end to end on the shipped sample data (BCSD, E-OBS and CNRM-CM5 over Iberia): the outputs'
//! properties, caching across runs, partial re-runs, two runs at once on one cache, kills, and a failing task.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{damaged_model_catalog, downscale, sample, snapshot};
use downscale_data::read_variable;
use downscale_regrid::Grid;
use downscale_regrid::mask::{LandPolygons, land_from_polygons, land_from_valid_cells};
use serde_json::Value;

const TAS_RUN: &str = "bcsd_E-OBS_CNRM-CM5_r1i1p1_rcp85_tas_35_45_-10_5_1983_2002_2081_2100";

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `downscale run` with every storage location inside `dir` and the given catalogs.
fn run_in(dir: &Path, catalogs: [&Path; 2], param_file: &Path, extra: &[&str]) -> Output {
    run_command(dir, catalogs, param_file, extra).output().expect("the binary runs")
}

fn run_command(dir: &Path, catalogs: [&Path; 2], param_file: &Path, extra: &[&str]) -> std::process::Command {
    let set = |key: &str, value: &Path| format!("{key}={}", value.display());
    let mut command = downscale();
    command
        .arg("run")
        .arg("--param-file")
        .arg(param_file)
        .args(["--runtime", "ci", "--set"])
        .arg(set("storage.intermediate.uri", &dir.join("intermediate")))
        .arg("--set")
        .arg(set("storage.results.uri", &dir.join("results")))
        .arg("--set")
        .arg(set("run_records", &dir.join("runs.sqlite")))
        .arg("--set")
        .arg(set("data_catalog.model", catalogs[0]))
        .arg("--set")
        .arg(set("data_catalog.obs", catalogs[1]))
        .args(extra);
    command
}

fn shipped_catalogs() -> [PathBuf; 2] {
    [workspace().join("data/catalog/cmip.json"), workspace().join("data/catalog/obs.json")]
}

fn example(name: &str) -> PathBuf {
    workspace().join("examples/iberia/bcsd").join(format!("{name}.json"))
}

/// The run's record, tasks and log lines: `downscale runs show --json`.
fn run_record(dir: &Path, run: &str) -> Value {
    let output = downscale()
        .args(["runs", "show", run, "--json", "--set"])
        .arg(format!("run_records={}", dir.join("runs.sqlite").display()))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The run's tasks as `(id, state)` from `downscale runs show --json`.
fn task_states(dir: &Path, run: &str) -> Vec<(String, String)> {
    run_record(dir, run)["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["task_id"].as_str().unwrap().to_string(), t["state"].as_str().unwrap().to_string()))
        .collect()
}

fn last_line(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).lines().last().unwrap_or_default().to_string()
}

#[test]
fn bcsd_tas_over_iberia_end_to_end_with_caching() {
    let dir = tempfile::tempdir().unwrap();
    let [model, obs] = shipped_catalogs();
    let output = run_in(dir.path(), [&model, &obs], &example(TAS_RUN), &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let manifest_path = last_line(&output);
    let manifest: Value = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    assert_eq!(manifest["run_id"], TAS_RUN);
    assert_eq!(manifest["parameters"]["method"], "bcsd");
    let dataset = |name: &str| manifest["datasets"][name].as_str().unwrap().to_string();
    assert!(dataset("daily").ends_with("/CMIP5.CNRM-CERFACS.CNRM-CM5.rcp85.r1i1p1.day.BCSD.tas.zarr"));

    // On the obs grid, over the predict period's days (DJF 2081-2100 of the model's standard calendar).
    let daily = read_variable(&dataset("daily"), "tas").unwrap();
    let observed =
        read_variable(&sample("iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc"), "tas")
            .unwrap();
    for dim in ["lat", "lon"] {
        assert_eq!(daily.coord(dim).unwrap().values, observed.coord(dim).unwrap().values, "{dim}");
    }
    let model_future = read_variable(
        &sample("iberia/gcm_CNRM-CM5/tas_day_CNRM-CM5_rcp85_r1i1p1_iberia_DJF_20801201-21000228.nc"),
        "tas",
    )
    .unwrap();
    // Stamped at midnight, as the observations are (the model stamps its days at noon).
    let expected_days: Vec<_> = model_future
        .time
        .as_ref()
        .unwrap()
        .dates
        .iter()
        .filter(|d| (2081..=2100).contains(&d.year))
        .map(|d| downscale_data::calendar::CfDateTime::ymd(d.year, d.month, d.day))
        .collect();
    assert_eq!(daily.time.as_ref().unwrap().dates, expected_days);
    assert_eq!(daily.units(), Some("K"));
    let global = |key: &str| daily.global_attrs.get(key).and_then(|v| v.as_text()).map(str::to_string);
    assert_eq!(global("run_id").as_deref(), Some(TAS_RUN));
    // What was downscaled, from the catalogs; none of the model file's own attributes (its `product` says
    // "CMIP5 GCM output"); one history entry for the run above the model file's history.
    assert_eq!(global("driving_source_id").as_deref(), Some("CNRM-CM5"));
    assert_eq!(global("driving_experiment_id").as_deref(), Some("rcp85"));
    assert_eq!(global("observations_source_id").as_deref(), Some("E-OBS"));
    assert!(model_future.global_attrs.contains_key("product") && global("product").is_none());
    let history = global("history").unwrap();
    assert_eq!(history.matches("downscale run (BCSD)").count(), 1, "{history}");

    // NaN exactly off the land mask: Natural Earth land buffered by 1°, where the observations have data.
    let grid = Grid::from_array(&observed).unwrap();
    let land = land_from_polygons(&grid, &LandPolygons::natural_earth_10m().unwrap(), 1.0);
    let observed_cells = land_from_valid_cells(&observed).unwrap();
    let (n_time, n_lat, n_lon) = (daily.shape()[0], daily.shape()[1], daily.shape()[2]);
    for i in 0..n_lat {
        for j in 0..n_lon {
            let masked = !(land[[i, j]] && observed_cells[[i, j]]);
            let missing = (0..n_time).filter(|&t| daily.data[[t, i, j]].is_nan()).count();
            assert_eq!(missing, if masked { n_time } else { 0 }, "cell ({i}, {j})");
        }
    }
    // A warmer future, and values a winter in Iberia can have (K).
    let future_mean = daily.valid_mean().unwrap();
    let observed_mean = observed.valid_mean().unwrap() + 273.15;
    assert!(future_mean > observed_mean && future_mean < observed_mean + 8.0, "{future_mean} vs {observed_mean}");

    // The monthly summary is the mean of the month's days.
    let monthly = read_variable(&dataset("monthly"), "tas").unwrap();
    let (i, j) = (0..n_lat)
        .flat_map(|i| (0..n_lon).map(move |j| (i, j)))
        .find(|&(i, j)| !daily.data[[0, i, j]].is_nan())
        .unwrap();
    let january: Vec<f64> = (0..31).map(|t| f64::from(daily.data[[t, i, j]])).collect();
    let mean = january.iter().sum::<f64>() / 31.0;
    assert!((f64::from(monthly.data[[0, i, j]]) - mean).abs() < 1e-4, "float32 of an f64 mean");
    let annual = read_variable(&dataset("annual"), "tas").unwrap();
    assert_eq!(annual.shape()[0], 20);

    // xarray opens every output.
    let python = std::env::var("DOWNSCALE_PYTHON").unwrap_or_else(|_| "python3".into());
    for name in ["daily", "monthly", "annual"] {
        let opened = std::process::Command::new(&python)
            .args([
                "-c",
                "import sys, xarray; ds = xarray.open_zarr(sys.argv[1]); print(ds['tas'].shape)",
                &dataset(name),
            ])
            .output()
            .unwrap();
        assert!(opened.status.success(), "{name}: {}", String::from_utf8_lossy(&opened.stderr));
    }

    // The default coarse step is `downscale adjust --method qdm` per month on the same coarse inputs, to the bit.
    let intermediate = |task: &str| manifest["intermediates"][task].as_str().unwrap().to_string();
    let adjusted = dir.path().join("adjusted.zarr");
    let adjust = common::run(&[
        "adjust",
        "--method",
        "qdm",
        "--kind",
        "additive",
        "--group",
        "month",
        "--nquantiles",
        "50",
        "--interp",
        "linear",
        "--var",
        "tas",
        "--ref",
        &intermediate("coarsen_obs"),
        "--hist",
        &intermediate("get_experiment_train"),
        "--sim",
        &intermediate("get_experiment_predict"),
        "--train",
        "1983",
        "2002",
        "--predict",
        "2081",
        "2100",
        "--out",
        adjusted.to_str().unwrap(),
    ]);
    assert!(adjust.status.success(), "{}", String::from_utf8_lossy(&adjust.stderr));
    let by_adjust = read_variable(adjusted.to_str().unwrap(), "tas").unwrap();
    let by_flow = read_variable(&intermediate("bias_correct"), "tas").unwrap();
    assert_eq!(by_adjust.shape(), by_flow.shape());
    assert!(by_adjust.data.iter().zip(by_flow.data.iter()).all(|(a, b)| a.to_bits() == b.to_bits()));

    // The same run again executes nothing.
    let again = run_in(dir.path(), [&model, &obs], &example(TAS_RUN), &[]);
    assert!(again.status.success());
    let states = task_states(dir.path(), "2");
    assert_eq!(states.len(), 10, "the BCSD flow's tasks");
    assert!(states.iter().all(|(_, state)| state == "cached"), "{states:?}");

    // Another prediction period re-runs only the tasks that depend on it.
    let text = std::fs::read_to_string(example(TAS_RUN)).unwrap();
    let shorter = dir.path().join("shorter.json");
    std::fs::write(&shorter, text.replace("\"2081\"", "\"2091\"")).unwrap();
    let document: Value = serde_json::from_str(&std::fs::read_to_string(&shorter).unwrap()).unwrap();
    assert_ne!(document["predict_dates"], serde_json::from_str::<Value>(&text).unwrap()["predict_dates"]);
    // Two parameter files in one command run one after another and share the cached tasks.
    let both = run_in(dir.path(), [&model, &obs], &example(TAS_RUN), &["--param-file", shorter.to_str().unwrap()]);
    assert!(both.status.success(), "{}", String::from_utf8_lossy(&both.stderr));
    let manifests: Vec<String> = String::from_utf8_lossy(&both.stdout).lines().map(str::to_string).collect();
    assert_eq!(manifests.len(), 2, "one manifest line per run");
    assert!(task_states(dir.path(), "3").iter().all(|(_, state)| state == "cached"));
    let states = task_states(dir.path(), "4");
    let reran: Vec<&str> = states.iter().filter(|(_, s)| s == "succeeded").map(|(t, _)| t.as_str()).collect();
    assert_eq!(reran, ["get_experiment_predict", "bias_correct", "postprocess", "summary_month", "summary_year"]);
    assert!(states.iter().all(|(_, s)| s == "succeeded" || s == "cached"));
}

#[test]
fn a_failing_run_leaves_its_output_folder_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let output_folder = dir.path().join("results").join(TAS_RUN);
    std::fs::create_dir_all(&output_folder).unwrap();
    std::fs::write(output_folder.join("README"), b"my notes on this run").unwrap();
    let before = snapshot(&output_folder);

    // A task fails (a damaged input).
    let (model, obs) = (damaged_model_catalog(dir.path()), workspace().join("data/catalog/obs.json"));
    let output = run_in(dir.path(), [&model, &obs], &example(TAS_RUN), &[]);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(snapshot(&output_folder), before);

    // A folder of the user's where an output goes: refused before any task runs, and left alone.
    let in_the_way = output_folder.join("CMIP5.CNRM-CERFACS.CNRM-CM5.rcp85.r1i1p1.day.BCSD.tas.zarr");
    std::fs::create_dir(&in_the_way).unwrap();
    std::fs::write(in_the_way.join("figure.png"), b"not a store").unwrap();
    let before = snapshot(&output_folder);
    let [model, obs] = shipped_catalogs();
    let output = run_in(dir.path(), [&model, &obs], &example(TAS_RUN), &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("failed in task publish") && stderr.contains("figure.png"), "{stderr}");
    assert_eq!(snapshot(&output_folder), before);
    let states = task_states(dir.path(), TAS_RUN);
    assert!(states.iter().all(|(_, state)| state == "pending"), "no task ran: {states:?}");
}

#[test]
fn a_failing_task_fails_the_run_and_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let catalog_dir = workspace().join("data/catalog");
    damaged_model_catalog(dir.path());
    let output =
        run_in(dir.path(), [&dir.path().join("cmip.json"), &catalog_dir.join("obs.json")], &example(TAS_RUN), &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"));
    // Said once: one `error:` line (the engine's own log lines about the failure are below the default level),
    // plain text on a pipe, and each cause in it once.
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("failed in task get_experiment_predict") && errors[0].contains("tas_rcp85_damaged.nc"),
        "{stderr}"
    );
    assert!(errors[0].contains("damaged or incomplete file"), "{stderr}");
    assert!(!stderr.contains("Some(") && !stderr.contains('\u{1b}'), "{stderr}");
    let segments: Vec<&str> = errors[0].split(": ").collect();
    assert!(segments.windows(2).all(|pair| pair[0] != pair[1]), "a cause said twice: {stderr}");

    let manifest_path = last_line(&output);
    assert!(manifest_path.contains(&format!("/results/failed-runs/{TAS_RUN}/")), "{manifest_path}");
    let manifest: Value = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    assert_eq!(manifest["failure"]["task"], "get_experiment_predict");
    let published: Vec<String> = std::fs::read_dir(dir.path().join("results"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(published, ["failed-runs"]);
    let states = task_states(dir.path(), TAS_RUN);
    let state = |id: &str| states.iter().find(|(t, _)| t == id).unwrap().1.clone();
    assert_eq!(state("get_experiment_predict"), "failed");
    assert_eq!(state("bias_correct"), "pending");

    // A cut-short file is damaged for good: one attempt, no retry.
    let record = run_record(dir.path(), TAS_RUN);
    let failed = record["tasks"].as_array().unwrap().iter().find(|t| t["state"] == "failed").unwrap();
    assert_eq!(failed["task_id"], "get_experiment_predict");
    assert_eq!(failed["attempts"], 1, "{failed}");
    assert!(failed["error"].as_str().unwrap().contains("damaged or incomplete file"), "{failed}");
    let retries: Vec<&Value> = record["logs"].as_array().unwrap().iter().filter(|l| l["level"] == "warn").collect();
    assert!(retries.is_empty(), "{retries:?}");
}

/// The data of the three published outputs of a finished run in `dir`.
fn published_data(dir: &Path) -> Vec<Vec<u32>> {
    ["day", "month", "year"]
        .iter()
        .map(|timescale| {
            let store = dir
                .join(format!("results/{TAS_RUN}/CMIP5.CNRM-CERFACS.CNRM-CM5.rcp85.r1i1p1.{timescale}.BCSD.tas.zarr"));
            read_variable(store.to_str().unwrap(), "tas").unwrap().data.iter().map(|v| v.to_bits()).collect()
        })
        .collect()
}

#[test]
fn two_runs_started_together_on_one_cache_compute_each_task_once() {
    let [model, obs] = shipped_catalogs();
    let shared = tempfile::tempdir().unwrap();
    let cache = format!("storage.intermediate.uri={}", shared.path().join("intermediate").display());
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let children: Vec<_> = dirs
        .iter()
        .map(|dir| {
            run_command(dir.path(), [&model, &obs], &example(TAS_RUN), &["--set", &cache])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    // Whichever started a task first computed it; the other waited for it and found it in the cache.
    let states = dirs.each_ref().map(|dir| task_states(dir.path(), TAS_RUN));
    assert_eq!(states[0].len(), 10);
    for (first, second) in states[0].iter().zip(&states[1]) {
        assert_eq!(first.0, second.0);
        let computed = [first, second].iter().filter(|(_, state)| state == "succeeded").count();
        assert_eq!(computed, 1, "task {}: {states:?}", first.0);
    }
    assert!(published_data(dirs[0].path()) == published_data(dirs[1].path()));
}

#[test]
fn a_run_killed_at_any_point_resumes_to_the_same_outputs() {
    let [model, obs] = shipped_catalogs();
    let uninterrupted = tempfile::tempdir().unwrap();
    assert!(run_in(uninterrupted.path(), [&model, &obs], &example(TAS_RUN), &[]).status.success());
    let expected = published_data(uninterrupted.path());
    // Kill points spread over the run (about 10 s in a debug build): inputs, regridding, correction, postprocess.
    for delay in [400, 1500, 3500, 6500] {
        let dir = tempfile::tempdir().unwrap();
        let mut child = run_command(dir.path(), [&model, &obs], &example(TAS_RUN), &[])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Whatever the kill left, nothing under a final name is partial: every marked artifact and every
        // published store reads whole.
        for task in std::fs::read_dir(dir.path().join("intermediate")).into_iter().flatten() {
            for folder in std::fs::read_dir(task.unwrap().path()).unwrap() {
                let folder = folder.unwrap().path();
                let store = folder.join("data.zarr");
                if folder.join("complete.json").exists() && store.exists() {
                    let validate = common::run(&["validate", store.to_str().unwrap()]);
                    assert!(
                        validate.status.success(),
                        "{}: {}",
                        store.display(),
                        String::from_utf8_lossy(&validate.stdout)
                    );
                }
            }
        }
        let published = dir.path().join("results").join(TAS_RUN);
        for store in std::fs::read_dir(&published).into_iter().flatten() {
            let store = store.unwrap().path();
            if !store.file_name().unwrap().to_string_lossy().starts_with('.') {
                assert!(common::run(&["validate", store.to_str().unwrap()]).status.success(), "{}", store.display());
            }
        }
        let resumed = run_in(dir.path(), [&model, &obs], &example(TAS_RUN), &[]);
        assert!(resumed.status.success(), "after a kill at {delay} ms: {}", String::from_utf8_lossy(&resumed.stderr));
        assert!(published_data(dir.path()) == expected, "outputs differ after a kill at {delay} ms");
    }
}

#[test]
fn bcsd_tasmax_over_nunavut_reproduces_the_observed_monthly_climatology_over_the_training_years() {
    // BNU-ESM on a 365_day calendar with 0-360 longitudes against ANUSPLIN on the standard calendar, full annual
    // cycle; predicting the training years themselves.
    let dir = tempfile::tempdir().unwrap();
    let name = "bcsd_ANUSPLIN_BNU-ESM_r1i1p1_historical_tasmax_68_71_-94_-90_1970_1971_1965_1974";
    let text = std::fs::read_to_string(workspace().join("examples/nunavut/bcsd").join(format!("{name}.json"))).unwrap();
    let same_years = dir.path().join("nunavut.json");
    std::fs::write(&same_years, text.replace("[\"1965\", \"1974\"]", "[\"1970\", \"1971\"]")).unwrap();
    let [model, obs] = shipped_catalogs();
    let output = run_in(dir.path(), [&model, &obs], &same_years, &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let manifest: Value = serde_json::from_slice(&std::fs::read(last_line(&output)).unwrap()).unwrap();
    let daily = read_variable(manifest["datasets"]["daily"].as_str().unwrap(), "tasmax").unwrap();
    let monthly = read_variable(manifest["datasets"]["monthly"].as_str().unwrap(), "tasmax").unwrap();
    let observed =
        read_variable(&sample("nunavut_climdown/tiny_obs.nc"), "tasmax").unwrap().select_years(1970, 1971).unwrap();

    // Every standard-calendar day of 1970-1971, on the observation grid.
    let days = daily.time.as_ref().unwrap().dates.clone();
    assert_eq!(days, observed.time.as_ref().unwrap().dates);
    assert_eq!(days.len(), 730);
    assert_eq!(daily.coord("lon").unwrap().values, observed.coord("lon").unwrap().values);

    // The climatology of each calendar month at each cell (over both years) against the observations' (degC → K).
    // BCSD maps each month's distribution over the training years onto the observed one, so single months of single
    // years keep the model's year-to-year sequence (they differ by up to ~6 K here), but the climatology must be
    // the observed one. Tolerance 0.25 K: quantile delta mapping interpolates its factors between 50 quantiles (of
    // about 60 values a month here) and holds them constant beyond the outer ones, and the corrected coarse field
    // (not the coarse observations) is interpolated back; together these stay under 0.05 K here (the BCSD point
    // models, with their 9-sample trend shift, under 0.13 K).
    assert_eq!(monthly.shape()[0], 24, "one step per month of 1970-1971");
    let (n_lat, n_lon) = (observed.shape()[1], observed.shape()[2]);
    let mut worst: f64 = 0.0;
    let mut compared = 0;
    for month in 1..=12 {
        let steps: Vec<usize> = (0..days.len()).filter(|&t| days[t].month == month).collect();
        for i in 0..n_lat {
            for j in 0..n_lon {
                let values: Vec<f64> =
                    steps.iter().map(|&t| f64::from(observed.data[[t, i, j]])).filter(|v| !v.is_nan()).collect();
                let modelled: Vec<f64> = steps.iter().map(|&t| f64::from(daily.data[[t, i, j]])).collect();
                if values.len() == steps.len() && modelled.iter().all(|v| !v.is_nan()) {
                    let observed_mean = values.iter().sum::<f64>() / values.len() as f64 + 273.15;
                    let modelled_mean = modelled.iter().sum::<f64>() / modelled.len() as f64;
                    worst = worst.max((modelled_mean - observed_mean).abs());
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 12 * 500, "{compared} cell-months compared");
    assert!(worst < 0.25, "largest difference of monthly climatologies {worst} K");
}

#[test]
fn bcsd_pr_over_iberia_is_never_negative_and_keeps_dry_days() {
    // E-OBS daily amounts in mm against CNRM-CM5 fluxes in kg m-2 s-1: both become mm day-1.
    let dir = tempfile::tempdir().unwrap();
    let [model, obs] = shipped_catalogs();
    let name = "bcsd_E-OBS_CNRM-CM5_r1i1p1_rcp85_pr_35_45_-10_5_1983_2002_2081_2100";
    let output = run_in(dir.path(), [&model, &obs], &example(name), &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let manifest: Value = serde_json::from_slice(&std::fs::read(last_line(&output)).unwrap()).unwrap();
    let daily = read_variable(manifest["datasets"]["daily"].as_str().unwrap(), "pr").unwrap();
    let monthly = read_variable(manifest["datasets"]["monthly"].as_str().unwrap(), "pr").unwrap();
    assert_eq!((daily.units(), monthly.units()), (Some("mm day-1"), Some("mm")));
    assert_eq!(
        daily.global_attrs.get("bcsd_variant").and_then(|v| v.as_text()),
        Some("quantile_delta_mapping"),
        "the outputs say which BCSD made them"
    );
    // The default's skill and its change signal against the model's are scored cell by cell in `bcsd_skill.rs`.
    // Never negative, and dry days stay dry.
    let values: Vec<f32> = daily.data.iter().copied().filter(|v| !v.is_nan()).collect();
    assert!(values.iter().all(|&v| v >= 0.0));
    let dry = values.iter().filter(|&&v| v == 0.0).count() as f64 / values.len() as f64;
    assert!(dry > 0.4, "{dry} of the days are dry");
    // Monthly sums are sums of the days, NaN-free cells only.
    let (n_lat, n_lon) = (daily.shape()[1], daily.shape()[2]);
    let (i, j) = (0..n_lat)
        .flat_map(|i| (0..n_lon).map(move |j| (i, j)))
        .find(|&(i, j)| !daily.data[[0, i, j]].is_nan())
        .unwrap();
    let january: f64 = (0..31).map(|t| f64::from(daily.data[[t, i, j]])).sum();
    assert!((f64::from(monthly.data[[0, i, j]]) - january).abs() < 1e-3 * january.abs().max(1.0));
}

#[test]
fn json_logs_are_one_object_per_line_naming_each_task() {
    let dir = tempfile::tempdir().unwrap();
    let [model, obs] = shipped_catalogs();
    let output = run_in(dir.path(), [&model, &obs], &example(TAS_RUN), &["--log-format", "json", "-v"]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<Value> =
        stderr.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    let tasks: Vec<&str> = lines.iter().filter_map(|l| l["fields"]["task"].as_str()).collect();
    assert!(tasks.contains(&"bias_correct") && tasks.contains(&"summary_year"), "{stderr}");
    assert!(lines.iter().all(|l| l["level"].is_string() && l["timestamp"].is_string()));
}

#[test]
fn asking_for_the_default_correction_and_the_original_flow_at_once_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let [model, obs] = shipped_catalogs();
    let mut document: Value = serde_json::from_slice(&std::fs::read(example(TAS_RUN)).unwrap()).unwrap();
    document["bias_correction_method"] = "quantile_delta_mapping".into();
    let param_file = dir.path().join("both.json");
    std::fs::write(&param_file, document.to_string()).unwrap();
    let output =
        run_in(dir.path(), [&model, &obs], &param_file, &["--set", "run_options.carbonplan_compat=true", "-q"]);
    common::assert_one_line_error(&output, &["both.json", "quantile_delta_mapping", "carbonplan_compat"]);
    assert!(!dir.path().join("results").exists(), "nothing published");
}
