//! `downscale evaluate` on real runs of the shipped examples (BCSD over Iberia, historical winters, tas and pr):
//! every statistic of the output and of the bilinear baseline, per cell and over land, agrees with an independent numpy/scipy/xclim computation from the
//! same stores (`scripts/oracles/evaluate_check.py`) to 1e-5 relative, and so does the change signal of the
//! scenario run (2081–2100) against the raw model's; quality checks name each defect planted in an output (a block of
//! missing values on land, a negative amount, a missing day, a deleted chunk) and `--strict` fails on them; bad
//! input is one line.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{
    assert_one_line_error, bcsd_example, downscale, evaluate_python, manifest_file, repo, run_with_shipped_catalogs,
};
use serde_json::Value;

/// `downscale evaluate` of a manifest file with `extra` arguments.
fn evaluate(manifest: &Path, extra: &[&str]) -> std::process::Output {
    downscale().arg("evaluate").arg(manifest).args(extra).output().unwrap()
}

/// Runs the independent check of an evaluation; prints its summary.
fn check_independently(label: &str, manifest_path: &Path, json_path: &str) {
    let check = Command::new(evaluate_python())
        .arg(repo().join("scripts/oracles/evaluate_check.py"))
        .arg(manifest_path)
        .arg(json_path)
        .output()
        .expect("the evaluation venv's python runs");
    let report = String::from_utf8_lossy(&check.stdout);
    println!("{label}: {report}");
    assert!(check.status.success(), "{label}: {report}{}", String::from_utf8_lossy(&check.stderr));
}

/// `downscale evaluate --strict` of a manifest file, which must pass; returns the evaluation and its path.
fn evaluate_clean(label: &str, manifest_path: &Path) -> (Value, String, String) {
    let output = evaluate(manifest_path, &["--strict", "--keep-baselines"]);
    assert!(output.status.success(), "{label}: {}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let json_path = stdout.lines().last().unwrap().to_string();
    let evaluation: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    assert!(evaluation["qa"]["defects"].as_array().unwrap().is_empty(), "{label}: {}", evaluation["qa"]);
    (evaluation, json_path, stdout)
}

/// A statistic's entry of an evaluation's skill or change signal.
fn entry<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array().unwrap().iter().find(|s| s["name"] == name).unwrap()
}

#[test]
fn every_statistic_matches_numpy_scipy_and_xclim() {
    for variable in ["tas", "pr"] {
        let dir = tempfile::tempdir().unwrap();
        // The historical run, then the scenario run beside it, whose change is measured from it.
        let historical = run_with_shipped_catalogs(
            dir.path(),
            "results",
            &bcsd_example(variable, "historical"),
            &["--runtime", "ci"],
        );
        let future =
            run_with_shipped_catalogs(dir.path(), "results", &bcsd_example(variable, "rcp85"), &["--runtime", "ci"]);

        let manifest_path = manifest_file(dir.path(), &historical);
        let (evaluation, json_path, stdout) = evaluate_clean(variable, &manifest_path);
        let skill = &evaluation["skill"];
        assert_eq!(skill["period"]["index_year_start_month"], 12, "winters are the index years");
        assert_eq!(
            skill["period"]["index_years"].as_array().unwrap().len(),
            19,
            "the complete winters 1983/84..2001/02"
        );
        assert!(evaluation["change_signal"].is_null(), "a historical run has no change to measure");
        // What a scientist expects of BCSD against its own training observations: the mean and spread kept ...
        let comparison = |name: &str, product: &str| {
            entry(&skill["statistics"], name)["products"][product]["skill"]["land_mean"].as_f64().unwrap()
        };
        let (mean_tolerance, sd_tolerance) = if variable == "tas" { (0.05, 0.05) } else { (0.05, 0.15) };
        assert!(
            comparison("mean", "downscaled").abs() < mean_tolerance,
            "{variable}: {}",
            comparison("mean", "downscaled")
        );
        assert!(
            (comparison("sd", "downscaled") - 1.0).abs() < sd_tolerance,
            "{variable}: {}",
            comparison("sd", "downscaled")
        );
        assert!(skill["pattern_correlation"]["downscaled"].as_f64().unwrap() > 0.99);
        // ... and better than the raw model interpolated, and than it bias-corrected at its own scale and
        // interpolated: the baselines computed in the same evaluation.
        assert_eq!(skill["products"], serde_json::json!(["downscaled", "bilinear", "qdm_bilinear"]));
        let baseline = skill["pattern_correlation"]["bilinear"].as_f64().unwrap();
        assert!(baseline < 0.95, "{variable}: the bilinear baseline's pattern correlation {baseline}");
        let corrected = skill["pattern_correlation"]["qdm_bilinear"].as_f64().unwrap();
        assert!(corrected < skill["pattern_correlation"]["downscaled"].as_f64().unwrap(), "{variable}: {corrected}");
        assert!(comparison("mean", "bilinear").abs() > comparison("mean", "downscaled").abs());
        assert!(stdout.contains("wasserstein"), "{stdout}");
        check_independently(&format!("{variable} historical"), &manifest_path, &json_path);

        // The scenario run: no observed day to score, its change measured against the raw model's.
        let manifest_path = manifest_file(dir.path(), &future);
        let (evaluation, json_path, _) = evaluate_clean(variable, &manifest_path);
        assert!(evaluation["skill"].is_null());
        assert!(evaluation["skill_skipped"].as_str().unwrap().contains("share no day"));
        let change = &evaluation["change_signal"];
        assert_eq!(change["downscaled_historical"], historical["datasets"]["daily"]);
        if variable == "tas" {
            // Quantile delta mapping keeps the model's change of the mean: within 0.1 K over land (3.3 K of warming).
            let mean = entry(&change["statistics"], "mean");
            assert!(mean["model"]["land_mean"].as_f64().unwrap() > 2.0, "{mean}");
            assert!(mean["departure"]["land_mean"].as_f64().unwrap().abs() < 0.1, "{mean}");
        }
        let checks: Vec<&str> =
            evaluation["qa"]["values"].as_array().unwrap().iter().map(|v| v["check"].as_str().unwrap()).collect();
        let bound = if variable == "tas" { "temperature outside [180, 340] K" } else { "negative precipitation" };
        assert_eq!(checks, ["missing on land", bound]);
        check_independently(&format!("{variable} rcp85"), &manifest_path, &json_path);
    }
}

/// Plants four defects in the daily store of `manifest` with xarray and zarr: the store rewritten without
/// 1990-01-15 and in 10 x 15 cell chunks, a block of missing values on land, one negative amount, and the chunk at
/// (lat block 1, lon block 1) deleted.
fn plant_defects(store: &str) {
    let script = r#"
import shutil, sys
import numpy as np, xarray as xr
store = sys.argv[1]
ds = xr.open_zarr(store).load()
ds = ds.drop_sel(time=np.datetime64("1990-01-15"))
pr = ds["pr"].values
pr[100:130, 8:12, 9:13] = np.nan    # lat 39.25..40.75, lon -5.25..-3.75: central Spain
pr[200, 9, 20] = -2.5               # lat 39.75, lon 0.25
ds["pr"].values = pr
for name in ds.variables:
    ds[name].encoding = {}
shutil.rmtree(store)
ds.to_zarr(store, zarr_format=3, encoding={"pr": {"chunks": (ds.sizes["time"], 10, 15)}}, consolidated=True)
"#;
    let output = Command::new(evaluate_python()).args(["-c", script, store]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    std::fs::remove_file(Path::new(store).join("pr/c/0/1/1")).expect("the chunk to delete exists");
}

#[test]
fn quality_checks_name_each_planted_defect() {
    let dir = tempfile::tempdir().unwrap();
    let manifest =
        run_with_shipped_catalogs(dir.path(), "results", &bcsd_example("pr", "historical"), &["--runtime", "ci"]);
    let manifest_path = manifest_file(dir.path(), &manifest);
    let daily = manifest["datasets"]["daily"].as_str().unwrap().to_string();
    plant_defects(&daily);

    let lenient = evaluate(&manifest_path, &["--out", dir.path().join("lenient").to_str().unwrap()]);
    assert!(lenient.status.success(), "{}", String::from_utf8_lossy(&lenient.stderr));
    let output = evaluate(&manifest_path, &["--strict"]);
    assert_eq!(output.status.code(), Some(1), "--strict fails on defects");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let json_path = String::from_utf8_lossy(&output.stdout).lines().last().unwrap().to_string();
    let evaluation: Value = serde_json::from_slice(&std::fs::read(json_path).unwrap()).unwrap();
    let defects: Vec<String> =
        evaluation["qa"]["defects"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_string()).collect();
    let named = |what: &str| defects.iter().find(|d| d.contains(what)).cloned();
    let missing = named("missing on land").expect("the NaN block is found");
    assert!(missing.contains("lat 39.25") || missing.contains("lat 35.25"), "{missing}");
    let negative = named("negative precipitation").expect("the negative amount is found");
    assert!(negative.contains("1 value in 1 cell") && negative.contains("lat 39.75, lon 0.25"), "{negative}");
    let day = named("missing from the predicted period").expect("the missing day is found");
    assert!(day.starts_with("1 day missing") && day.contains("1990-01-15"), "{day}");
    let chunk = named("does not validate").expect("the deleted chunk is found");
    assert!(chunk.contains("c/0/1/1") || chunk.contains("missing"), "{chunk}");
    for defect in &defects {
        assert!(stderr.contains(defect.as_str()), "QA lines go to stderr: {defect}");
    }
    // The NaN block: 30 days x 16 cells on land, plus the deleted chunk's land cells every day.
    let values = evaluation["qa"]["values"].as_array().unwrap();
    let missing_count = values.iter().find(|v| v["check"] == "missing on land").unwrap()["count"].as_u64().unwrap();
    assert!(missing_count >= 30 * 16, "{missing_count}");
}

#[test]
fn bad_input_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere.json");
    assert_one_line_error(&evaluate(&missing, &[]), &["nowhere.json", "no such manifest"]);
    // A user's own page where the report would go is refused, and left as it was.
    let example = bcsd_example("tas", "historical");
    let manifest = run_with_shipped_catalogs(dir.path(), "results", &example, &["--runtime", "ci"]);
    let mine = dir.path().join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("report.html"), "<html>my notes</html>").unwrap();
    let refused = evaluate(&manifest_file(dir.path(), &manifest), &["--out", mine.to_str().unwrap()]);
    assert_one_line_error(&refused, &["report.html", "not a page this tool wrote"]);
    assert_eq!(std::fs::read_to_string(mine.join("report.html")).unwrap(), "<html>my notes</html>");
    assert!(!mine.join("evaluation.json").exists(), "nothing written beside it");
    let not_a_manifest = dir.path().join("notes.json");
    std::fs::write(&not_a_manifest, b"{\"hello\": 1}").unwrap();
    assert_one_line_error(&evaluate(&not_a_manifest, &[]), &["notes.json", "not a run manifest"]);
    let unknown_run = downscale()
        .args(["evaluate", "no_such_run", "--set"])
        .arg(format!("storage.results.uri={}", dir.path().join("results").display()))
        .output()
        .unwrap();
    assert_one_line_error(&unknown_run, &["no_such_run", "no successful run"]);
}

#[test]
fn the_flow_evaluates_its_run_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let arguments = ["--runtime", "ci", "--set", "run_options.evaluate=true"];
    let manifest = run_with_shipped_catalogs(dir.path(), "results", &bcsd_example("pr", "historical"), &arguments);
    let published = |dataset: &str| PathBuf::from(manifest["datasets"][dataset].as_str().unwrap());
    let daily = published("daily");
    let stem = daily.to_str().unwrap().trim_end_matches(".zarr").to_string();
    assert_eq!(published("evaluation"), PathBuf::from(format!("{stem}.evaluation.json")));
    assert_eq!(published("report"), PathBuf::from(format!("{stem}.report.html")));
    let in_flow: Value = serde_json::from_slice(&std::fs::read(published("evaluation")).unwrap()).unwrap();
    let page = std::fs::read_to_string(published("report")).unwrap();
    assert!(
        page.contains("<meta name=\"generator\" content=\"downscale\">") && page.contains("data:image/png;base64,")
    );

    // The same numbers as the command's evaluation of the published store.
    let (command, _, _) = evaluate_clean("pr", &manifest_file(dir.path(), &manifest));
    for (ours, theirs) in in_flow["skill"]["statistics"]
        .as_array()
        .unwrap()
        .iter()
        .zip(command["skill"]["statistics"].as_array().unwrap())
    {
        assert_eq!(ours["name"], theirs["name"]);
        for product in ["downscaled", "bilinear", "qdm_bilinear"] {
            let value = |e: &Value| e["products"][product]["skill"]["land_mean"].as_f64().unwrap();
            assert!((value(ours) - value(theirs)).abs() <= 1e-12 * value(theirs).abs().max(1.0), "{}", ours["name"]);
        }
    }
    assert_eq!(in_flow["qa"]["defects"], serde_json::json!([]));

    // A second run of the run id publishes again over its own documents.
    let again = run_with_shipped_catalogs(dir.path(), "results", &bcsd_example("pr", "historical"), &arguments);
    assert_eq!(again["datasets"], manifest["datasets"]);
}
