//! `downscale batch` end to end on the shipped sample data: a folder of Iberia BCSD parameter files (tas and pr, three
//! prediction periods each) with one that fails is run, reported and shown by `batch status`, then fixed and run again;
//! runs at once share their tasks; and folders or files that cannot be run are one line naming them.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{BCSD_DEFAULT_DIGESTS, assert_one_line_error, digest_of_outputs, iberia_example, isolated};
use serde_json::{Value, json};

/// Prediction periods the sample data covers (its rcp85 winters are 2081-2100): the examples' own, and its halves.
const PERIODS: [(&str, &str); 3] = [("2081", "2100"), ("2081", "2090"), ("2091", "2100")];

/// The error the failing file's runs end with: its model data start in 2080.
const OUTSIDE_THE_DATA: &str = "years 2050-2060 are outside the data, which cover 2080-2100";

/// Writes the Iberia example of `variable` predicting the years `from..=to` as `<dir>/<name>`.
fn parameter_file(dir: &Path, name: &str, variable: &str, (from, to): (&str, &str)) -> PathBuf {
    let mut document: Value = serde_json::from_slice(&std::fs::read(iberia_example(variable)).unwrap()).unwrap();
    document["predict_dates"] = json!([from, to]);
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(&document).unwrap()).unwrap();
    path
}

/// A folder `<dir>/params` with tas and pr over each of [`PERIODS`]; returns it and the files.
fn matrix(dir: &Path) -> (PathBuf, Vec<PathBuf>) {
    let params = dir.join("params");
    std::fs::create_dir(&params).unwrap();
    let files = ["tas", "pr"]
        .iter()
        .flat_map(|variable| PERIODS.map(|period| (variable, period)))
        .map(|(variable, period)| {
            parameter_file(&params, &format!("{variable}_{}_{}.json", period.0, period.1), variable, period)
        })
        .collect();
    (params, files)
}

/// `downscale batch ARGS` with the shipped catalogs and the cache, results and records under `dir`, and no
/// configuration of this machine in the way.
fn batch(dir: &Path, args: &[&str]) -> Output {
    let mut command = isolated(&dir.join("home"));
    command.arg("batch").args(args).args(common::shipped_catalog_settings(dir, "results"));
    command.output().expect("the binary runs")
}

/// `(parameter file, state)` of every recorded run, oldest first, read from the records file itself.
fn recorded_runs(dir: &Path) -> Vec<(String, String)> {
    let records = rusqlite::Connection::open(dir.join("runs.sqlite")).unwrap();
    let mut statement = records.prepare("SELECT parameter_file, state FROM runs ORDER BY id").unwrap();
    statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap().map(Result::unwrap).collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// `batch status --json`, by file.
fn status_json(dir: &Path, params: &Path) -> BTreeMap<String, Value> {
    let output = batch(dir, &["status", params.to_str().unwrap(), "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let statuses: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    statuses.into_iter().map(|status| (status["file"].as_str().unwrap().to_string(), status)).collect()
}

/// Whether every output a successful run's manifest names is a published Zarr store.
fn outputs_published(manifest: &Value) -> bool {
    let datasets = manifest["datasets"].as_object().unwrap();
    datasets.len() == 3 && datasets.values().all(|store| Path::new(store.as_str().unwrap()).join("zarr.json").is_file())
}

#[test]
fn a_batch_runs_every_file_reports_the_one_that_fails_and_once_fixed_runs_only_it() {
    let dir = tempfile::tempdir().unwrap();
    let (params, good) = matrix(dir.path());
    let failing = parameter_file(&params, "tas_more.json", "tas", ("2050", "2060"));
    let shown = |file: &Path| file.display().to_string();

    let output = batch(dir.path(), &["--param-dir", params.to_str().unwrap(), "--runtime", "ci"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|line| line.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].starts_with(&format!("error: {}: run ", shown(&failing))), "{stderr}");
    assert!(errors[0].contains(OUTSIDE_THE_DATA) && errors[0].contains("(2 attempts;"), "{stderr}");
    for file in &good {
        assert!(stderr.lines().any(|line| line.starts_with(&format!("{}: done (run ", shown(file)))), "{stderr}");
    }

    // A manifest per file on stdout, in the files' order (pr before tas, `tas_more` last): the good ones' outputs are
    // published, and the examples' own periods give the outputs `downscale run` gives them.
    let manifests: Vec<String> = text(&output.stdout).lines().map(str::to_string).collect();
    assert_eq!(manifests.len(), 7, "{manifests:?}");
    let read = |path: &str| -> Value { serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap() };
    let mut in_order = good.clone();
    in_order.sort();
    for (file, manifest) in in_order.iter().zip(&manifests) {
        let manifest = read(manifest);
        assert!(manifest["failure"].is_null() && outputs_published(&manifest), "{}: {manifest}", shown(file));
    }
    for (variable, digest) in BCSD_DEFAULT_DIGESTS {
        let index = in_order.iter().position(|f| f.ends_with(format!("{variable}_2081_2100.json"))).unwrap();
        assert_eq!(digest_of_outputs(&read(&manifests[index]), variable), digest, "{variable}");
    }
    assert!(manifests[6].contains("/results/failed-runs/"), "{}", manifests[6]);
    assert!(read(&manifests[6])["failure"]["error"].as_str().unwrap().contains(OUTSIDE_THE_DATA));

    // One run each, and two for the failing file: it was run once more before it counted as failed.
    let runs = recorded_runs(dir.path());
    let runs_of =
        |file: &Path| runs.iter().filter(|(f, _)| *f == shown(file)).map(|(_, s)| s.as_str()).collect::<Vec<_>>();
    for file in &good {
        assert_eq!(runs_of(file), vec!["succeeded"], "{}", shown(file));
    }
    assert_eq!(runs_of(&failing), vec!["failed", "failed"]);

    let table = batch(dir.path(), &["status", params.to_str().unwrap()]);
    assert!(table.status.success(), "{}", text(&table.stderr));
    let table = text(&table.stdout);
    let row = |file: &Path| {
        table.lines().find(|line| line.contains(&format!(" {} ", shown(file)))).unwrap_or_else(|| panic!("{table}"))
    };
    for file in &good {
        assert!(row(file).starts_with("done "), "{table}");
    }
    assert!(row(&failing).starts_with("failed ") && row(&failing).contains(OUTSIDE_THE_DATA), "{table}");
    assert!(table.ends_with("7 parameter files: 6 done, 1 failed\n"), "{table}");

    let statuses = status_json(dir.path(), &params);
    assert_eq!(statuses.len(), 7);
    for (file, manifest) in in_order.iter().zip(&manifests) {
        let status = &statuses[&shown(file)];
        assert_eq!(
            (&status["state"], &status["error"], &status["manifest"]),
            (&json!("done"), &Value::Null, &json!(manifest))
        );
    }
    let failed = &statuses[&shown(&failing)];
    assert_eq!(failed["state"], "failed");
    assert!(failed["run_id"].as_str().unwrap().ends_with("_1983_2002_2050_2060"), "{failed}");
    assert!(failed["error"].as_str().unwrap().contains(OUTSIDE_THE_DATA), "{failed}");
    assert_eq!(failed["manifest"], json!(manifests[6]));

    // Fixed, the file runs, alone: every other one is done.
    parameter_file(&params, "tas_more.json", "tas", ("2085", "2094"));
    let output = batch(dir.path(), &["--param-dir", params.to_str().unwrap(), "--runtime", "ci"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.lines().any(|line| line.starts_with("error")), "{stderr}");
    assert_eq!(stderr.matches(": done already, skipped (run ").count(), 6, "{stderr}");
    let new_runs = recorded_runs(dir.path()).split_off(runs.len());
    assert_eq!(new_runs, [(shown(&failing), "succeeded".to_string())]);
    let manifests_again: Vec<String> = text(&output.stdout).lines().map(str::to_string).collect();
    assert_eq!(manifests_again[..6], manifests[..6], "the skipped files' manifests are their earlier runs'");
    let statuses = status_json(dir.path(), &params);
    assert!(statuses.values().all(|status| status["state"] == "done"), "{statuses:?}");
    assert!(outputs_published(&read(statuses[&shown(&failing)]["manifest"].as_str().unwrap())));
}

#[test]
fn runs_at_once_compute_their_shared_tasks_once_and_a_run_whose_outputs_are_gone_runs_again() {
    let dir = tempfile::tempdir().unwrap();
    let (params, files) = matrix(dir.path());
    let args = ["--param-dir", params.to_str().unwrap(), "--runtime", "local", "--max-concurrent", "3"];
    let output = batch(dir.path(), &args);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));

    let records = rusqlite::Connection::open(dir.path().join("runs.sqlite")).unwrap();
    // Runs did overlap: one started before another ended.
    let spans: Vec<(String, String)> = records
        .prepare("SELECT started_at, ended_at FROM runs")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(spans.len(), 6);
    let overlapping = spans.iter().enumerate().any(|(i, a)| spans[i + 1..].iter().any(|b| a.0 < b.1 && b.0 < a.1));
    assert!(overlapping, "{spans:?}");
    // Each task was executed by one run; the others that need it found it in the cache, waiting for it if it was
    // being computed. A variable's three runs share their training tasks.
    let executions: Vec<(String, i64, i64)> = records
        .prepare("SELECT cache_key, SUM(state = 'succeeded'), COUNT(*) FROM tasks GROUP BY cache_key")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(executions.iter().all(|&(_, executed, _)| executed == 1), "{executions:?}");
    assert!(executions.iter().filter(|&&(_, _, runs)| runs >= 3).count() >= 2, "{executions:?}");

    // An output removed: its file is missing, and is the only one the batch runs again.
    let removed = &files[1];
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(status_json(dir.path(), &params)[&removed.display().to_string()]["manifest"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let daily = manifest["datasets"]["daily"].as_str().unwrap();
    std::fs::remove_dir_all(daily).unwrap();
    let status = status_json(dir.path(), &params).remove(&removed.display().to_string()).unwrap();
    assert_eq!(status["state"], "missing");
    assert!(status["error"].as_str().unwrap().ends_with(&format!("its output {daily} is gone")), "{status}");
    let before = recorded_runs(dir.path()).len();
    let output = batch(dir.path(), &args);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let new_runs = recorded_runs(dir.path()).split_off(before);
    assert_eq!(new_runs, [(removed.display().to_string(), "succeeded".to_string())]);
    assert!(Path::new(daily).join("zarr.json").is_file());
}

#[test]
fn a_folder_that_is_missing_or_holds_no_parameter_file_is_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-folder");
    let empty = dir.path().join("notes");
    std::fs::create_dir_all(empty.join("old.json")).unwrap();
    std::fs::write(empty.join("README.txt"), "parameter files go here").unwrap();
    let file = empty.join("README.txt");
    let cases = [(&missing, "no such folder"), (&empty, "holds no parameter file"), (&file, "not a folder")];
    for (folder, problem) in cases {
        let folder = folder.to_str().unwrap();
        let output = batch(dir.path(), &["--param-dir", folder]);
        assert_eq!(output.status.code(), Some(2));
        assert_one_line_error(&output, &[&format!("{folder}: --param-dir: {problem}"), "*.json"]);
        let output = batch(dir.path(), &["status", folder, "--json"]);
        assert_eq!(output.status.code(), Some(2));
        assert_one_line_error(&output, &[&format!("{folder}: batch status DIR: {problem}")]);
        assert!(output.stdout.is_empty());
    }
    let output = batch(dir.path(), &["--param-dir", empty.to_str().unwrap(), "--max-concurrent", "0"]);
    assert_eq!(output.status.code(), Some(2));
    assert_one_line_error(&output, &["--max-concurrent", "'0'"]);
    // Refused before anything was opened or written.
    assert!(!dir.path().join("runs.sqlite").exists() && !dir.path().join("results").exists());
}

#[test]
fn files_that_cannot_run_fail_on_their_own_with_their_error() {
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("params");
    std::fs::create_dir(&params).unwrap();
    let good = parameter_file(&params, "a_tas.json", "tas", ("2091", "2100"));
    let twin = parameter_file(&params, "b_tas_again.json", "tas", ("2091", "2100"));
    let broken = params.join("c_broken.json");
    std::fs::write(&broken, "{\"method\": \"bcsd\",").unwrap();
    let shown = |file: &Path| file.display().to_string();

    let output = batch(dir.path(), &["--param-dir", params.to_str().unwrap(), "--runtime", "ci"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|line| line.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 3, "{stderr}");
    assert!(errors[0].starts_with(&format!("error: {}: {} has its run id ", shown(&twin), shown(&good))), "{stderr}");
    assert!(errors[1].starts_with(&format!("error: {}: not valid JSON", shown(&broken))), "{stderr}");
    assert_eq!(errors[2], format!("error: 2 of 3 parameter files in {} failed", params.display()));
    assert_eq!(recorded_runs(dir.path()), [(shown(&good), "succeeded".to_string())]);
    assert_eq!(text(&output.stdout).lines().count(), 1, "only the file that ran has a manifest");

    let statuses = status_json(dir.path(), &params);
    assert_eq!(statuses[&shown(&good)]["state"], "done");
    for (file, problem) in [(&twin, "a batch runs each run id once"), (&broken, "not valid JSON")] {
        let status = &statuses[&shown(file)];
        assert_eq!(status["state"], "failed", "{status}");
        assert!(status["error"].as_str().unwrap().contains(problem), "{status}");
    }
    assert_eq!(statuses[&shown(&broken)]["run_id"], Value::Null);
}
