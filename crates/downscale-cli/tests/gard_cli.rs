//! GARD runs as a user meets them: another seed draws another realisation from the same (cached) model, the same
//! seed the same one; and parameter files GARD cannot run are refused in one line naming the file and the key.

mod common;

use std::path::Path;

use common::{assert_one_line_error, downscale, repo, run_with_shipped_catalogs, shipped_catalog_settings};
use downscale_data::read_variable;
use serde_json::{Value, json};

/// A GARD-SV tas file on the shipped catalogs (perfect prognosis from NCEP-R1), with `changes` applied.
fn param_file(dir: &Path, name: &str, changes: Value) -> std::path::PathBuf {
    let mut document = json!({
        "method": "gard", "obs": "E-OBS", "model": "CNRM-CM5", "member": "r1i1p1", "grid_label": "gn",
        "table_id": "day", "scenario": "rcp85", "features": ["tas"], "variable": "tas",
        "latmin": "35", "latmax": "45", "lonmin": "-10", "lonmax": "5",
        "bias_correction_method": "quantile_mapper", "bias_correction_kwargs": {"tas": {"detrend": true}},
        "model_type": "PureRegression", "model_params": {},
        "train_dates": ["1983", "1992"], "predict_dates": ["2081", "2085"],
    });
    for (key, value) in changes.as_object().unwrap() {
        document[key] = value.clone();
    }
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, document.to_string()).unwrap();
    path
}

/// The float32 bits of a published variable (so that missing values compare equal).
fn values(manifest: &Value, dataset: &str, variable: &str) -> Vec<u32> {
    read_variable(manifest["datasets"][dataset].as_str().unwrap(), variable)
        .unwrap()
        .data
        .iter()
        .map(|v| v.to_bits())
        .collect()
}

#[test]
fn another_seed_draws_another_realisation_of_the_same_model() {
    let dir = tempfile::tempdir().unwrap();
    let file = param_file(dir.path(), "tas", json!({}));
    let first = run_with_shipped_catalogs(dir.path(), "first", &file, &["--runtime", "ci"]);
    let other =
        run_with_shipped_catalogs(dir.path(), "other", &file, &["--runtime", "ci", "--set", "run_options.seed=7"]);
    assert_eq!(
        values(&first, "model", "pred"),
        values(&other, "model", "pred"),
        "the model does not depend on the seed"
    );
    let (a, b) = (values(&first, "daily", "tas"), values(&other, "daily", "tas"));
    let finite = |bits: &u32| f32::from_bits(*bits).is_finite();
    let differing = a.iter().zip(&b).filter(|(x, y)| finite(x) && x != y).count();
    assert!(differing > a.iter().filter(|x| finite(x)).count() * 9 / 10, "{differing} values differ");

    // The same seed in a fresh place draws the same field.
    let fresh = tempfile::tempdir().unwrap();
    let again =
        run_with_shipped_catalogs(fresh.path(), "again", &file, &["--runtime", "ci", "--set", "run_options.seed=7"]);
    assert!(values(&again, "daily", "tas") == b, "the same seed draws the same realisation");
    let attrs = read_variable(other["datasets"]["daily"].as_str().unwrap(), "tas").unwrap().global_attrs;
    assert_eq!(attrs.get("random_field_seed").map(ToString::to_string).as_deref(), Some("7"));
    // The run's manifest, which its record points to, carries the same attributes.
    assert_eq!(other["attrs"]["random_field_seed"], 7);
    assert_eq!(other["attrs"]["random_field_length_km"], 428.6);
    let records = downscale_engine::Records::open(&dir.path().join("runs.sqlite")).unwrap();
    let run = records.runs(1).unwrap().remove(0);
    let recorded: Value = serde_json::from_slice(&std::fs::read(run.manifest.unwrap()).unwrap()).unwrap();
    assert_eq!(recorded["attrs"]["random_field_seed"], 7);

    // What a user opens: the daily store and the model dataset's three variables, with no arguments.
    let python = std::env::var("DOWNSCALE_PYTHON").unwrap_or_else(|_| "python3".into());
    for (dataset, variable) in
        [("daily", "tas"), ("model", "pred"), ("model", "prediction_error"), ("model", "exceedance_prob")]
    {
        let raw = dir.path().join(format!("{variable}.f32"));
        let output = std::process::Command::new(&python)
            .arg(repo().join("scripts/xarray_read.py"))
            .args([other["datasets"][dataset].as_str().unwrap(), variable, raw.to_str().unwrap()])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {python}: {e} (set DOWNSCALE_PYTHON to a Python with xarray)"));
        assert!(output.status.success(), "xarray: {dataset} {variable}: {}", String::from_utf8_lossy(&output.stderr));
        let bytes = std::fs::read(&raw).unwrap();
        let seen: Vec<u32> = bytes.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        assert!(seen == values(&other, dataset, variable), "xarray reads other values of {dataset} {variable}");
    }
}

fn refused(name: &str, changes: Value, what: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let file = param_file(dir.path(), name, changes);
    let output = downscale()
        .args(["run", "--runtime", "ci", "--param-file"])
        .arg(&file)
        .args(shipped_catalog_settings(dir.path(), "results"))
        .output()
        .unwrap();
    let mut expected = vec![format!("{name}.json")];
    expected.extend(what.iter().map(|s| s.to_string()));
    assert_one_line_error(&output, &expected.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!dir.path().join("results").exists() || common::snapshot(&dir.path().join("results")).is_empty());
}

#[test]
fn a_predictor_no_catalog_supplies_is_refused() {
    let kwargs = json!({"ua": {"detrend": false}, "tas": {"detrend": true}});
    refused(
        "no_ua",
        json!({"method": "gard_multivariate", "features": ["ua", "tas"], "bias_correction_kwargs": kwargs}),
        &["features[0]", "`ua`", "predictors_for"],
    );
}

#[test]
fn a_threshold_on_a_temperature_is_refused() {
    refused("thresh", json!({"model_params": {"thresh": 0}}), &["model_params.thresh", "`tas` is not an amount"]);
}

#[test]
fn options_of_other_models_and_unknown_kinds_are_refused() {
    refused("kind", json!({"model_params": {"kind": "mean_analogs"}}), &["model_params.kind", "only PureAnalog"]);
    refused(
        "bad_kind",
        json!({"model_type": "PureAnalog", "model_params": {"kind": "median_analogs"}}),
        &["model_params.kind", "best_analog"],
    );
    refused("bad_type", json!({"model_type": "PureRegresion"}), &["model_type", "PureRegression"]);
    refused(
        "logistic",
        json!({"model_params": {"logistic_kwargs": {"solver": "saga"}}}),
        &["model_params.logistic_kwargs", "`solver`"],
    );
}

#[test]
fn a_correction_gard_does_not_run_is_refused() {
    refused(
        "zscore",
        json!({"bias_correction_method": "z_score", "bias_correction_kwargs": {}}),
        &["bias_correction_method", "quantile_mapper"],
    );
}

#[test]
fn the_shipped_examples_validate() {
    let folders = ["examples/iberia/gard", "examples/iberia/gard_multivariate"];
    for entry in folders.iter().flat_map(|folder| std::fs::read_dir(repo().join(folder)).unwrap()) {
        let path = entry.unwrap().path();
        let output = downscale().current_dir(repo()).args(["params", "validate"]).arg(&path).output().unwrap();
        assert!(output.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&output.stderr));
    }
}

#[test]
fn a_random_field_length_that_is_not_positive_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = param_file(dir.path(), "tas", json!({}));
    let output = downscale()
        .args(["run", "--runtime", "ci", "--param-file"])
        .arg(&file)
        .args(shipped_catalog_settings(dir.path(), "results"))
        .args(["--set", "gard.random_fields.temperature.length_days=0"])
        .output()
        .unwrap();
    assert_one_line_error(&output, &["gard.random_fields.temperature.length_days", "positive"]);
    assert!(!dir.path().join("intermediate").exists(), "nothing ran");
}

#[test]
fn the_analogue_models_run_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    for (name, model_type, params) in [
        ("analog_regression", "AnalogRegression", json!({"n_analogs": 100, "analog_distance": "normalised"})),
        ("pure_analog", "PureAnalog", json!({"kind": "sample_analogs", "n_analogs": 20})),
    ] {
        let file = param_file(dir.path(), name, json!({"model_type": model_type, "model_params": params}));
        let manifest = run_with_shipped_catalogs(dir.path(), name, &file, &["--runtime", "ci"]);
        let pred: Vec<f32> = values(&manifest, "model", "pred").into_iter().map(f32::from_bits).collect();
        let finite: Vec<f32> = pred.iter().copied().filter(|v| v.is_finite()).collect();
        assert!(finite.len() > pred.len() / 2, "{name}: {} of {} values", finite.len(), pred.len());
        assert!(finite.iter().all(|v| (230.0..320.0).contains(v)), "{name}: a temperature out of range");
    }
}
