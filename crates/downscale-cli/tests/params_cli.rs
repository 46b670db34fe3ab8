//! `downscale params` and `downscale config` as users run them.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{isolated, repo};

fn fixtures(kind: &str) -> PathBuf {
    repo().join("crates/downscale-params/tests/fixtures").join(kind)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in walk(dir) {
        if entry.extension().is_some_and(|e| e == "json") {
            files.push(entry);
        }
    }
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { paths.extend(walk(&path)) } else { paths.push(path) }
    }
    paths
}

#[test]
fn every_malformed_file_is_rejected_with_one_line_per_problem() {
    let home = tempfile::tempdir().unwrap();
    let dir = fixtures("invalid");
    let expected = std::fs::read_to_string(dir.join("EXPECTED.tsv")).unwrap();
    let mut cases = 0;
    for line in expected.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        let (name, key, fragment) = (fields[0], fields[1], fields[2]);
        let path = dir.join(name);
        let output = isolated(home.path()).args(["params", "validate", "--no-data"]).arg(&path).output().unwrap();
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{name}: {text}");
        assert!(!text.contains("panicked"), "{name}: {text}");
        let mut lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.pop(), Some("1 of 1 parameter files are invalid"), "{name}: {text}");
        // Notes on keys the method ignores may come with the errors, each on its own line.
        let prefix = format!("error: {}: ", path.display());
        let note = format!("note: {}: key `", path.display());
        assert!(lines.iter().all(|l| l.starts_with(&prefix) || l.starts_with(&note)), "{name}: {text}");
        assert!(lines.iter().any(|l| l.starts_with(&prefix)), "{name}: {text}");
        let named = if key == "-" { String::new() } else { format!("key `{key}`: ") };
        assert!(lines.iter().any(|l| l.contains(&named) && l.contains(fragment)), "{name}: {text}");
        cases += 1;
    }
    assert!(cases >= 30);
}

#[test]
fn valid_files_pass_and_print_their_run_ids() {
    let home = tempfile::tempdir().unwrap();
    let files = json_files(&fixtures("valid"));
    let output = isolated(home.path()).args(["params", "validate", "--no-data"]).args(&files).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    assert_eq!(printed.lines().count(), files.len());
    assert!(
        printed.contains("run id gard_ERA5_BCC-CSM2-MR_r1i1p1f1_historical_pr_pr_-90_90_-180_180_1981_2010_1950_2014")
    );
}

#[test]
fn keys_a_method_ignores_pass_with_a_note_naming_the_file_and_the_key() {
    let home = tempfile::tempdir().unwrap();
    let path = fixtures("accepted").join("bcsd_model_type.json");
    let output = isolated(home.path()).args(["params", "validate", "--no-data"]).arg(&path).output().unwrap();
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert_eq!(stdout(&output).lines().count(), 1, "{}", stdout(&output));
    let file = path.display();
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            format!(
                "note: {file}: key `bias_correction_kwargs.detrend`: ignored by `bcsd` (the original's BCSD files \
                 carry it with an empty `bias_correction_method`; it has no effect)"
            ),
            format!(
                "note: {file}: key `model_type`: ignored by `bcsd` (the original's BCSD flow required it; it has no \
                 effect)"
            ),
            format!("note: {file}: key `model_params`: ignored by `bcsd` (model options are GARD's; it has no effect)"),
        ]
    );

    // BCSD's two corrections pass without a note.
    let files =
        [fixtures("accepted").join("bcsd_point.json"), fixtures("accepted").join("bcsd_quantile_delta_mapping.json")];
    let output = isolated(home.path()).args(["params", "validate", "--no-data"]).args(&files).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    assert_eq!(stdout(&output).lines().count(), 2);
}

#[test]
fn a_file_from_before_member_gets_exactly_one_error_line_with_the_keys_to_add() {
    let home = tempfile::tempdir().unwrap();
    let path = fixtures("invalid").join("written_before_member.json");
    let output = isolated(home.path()).args(["params", "validate", "--no-data"]).arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        format!(
            "error: {}: written for an older version of the original system: add `member` (e.g. \"r1i1p1f1\"), \
             `grid_label` (e.g. \"gn\") and `table_id` (\"day\")\n1 of 1 parameter files are invalid\n",
            path.display()
        )
    );
}

/// The examples as `examples/README.md` generates them.
fn generate_examples(home: &Path, out: &Path) {
    for args in [
        &[
            "--obs",
            "E-OBS",
            "--models",
            "CNRM-CM5",
            "--scenarios",
            "historical,rcp85",
            "--variables",
            "tas,pr",
            "--multivariate-predictors",
            "psl,ta850,hus850",
        ][..],
        &["--obs", "ANUSPLIN", "--models", "BNU-ESM", "--variables", "tasmax"][..],
    ] {
        let region = if args[1] == "E-OBS" { "iberia" } else { "nunavut" };
        let years: &[&str] = if region == "iberia" {
            &[
                "--train",
                "1983",
                "2002",
                "--historical",
                "1983",
                "2002",
                "--future",
                "2081",
                "2100",
                "--bbox",
                "35",
                "45",
                "-10",
                "5",
            ]
        } else {
            &["--train", "1970", "1971", "--historical", "1965", "1974", "--bbox", "68", "71", "-94", "-90"]
        };
        let output = isolated(home)
            .args(["params", "generate", "--out"])
            .arg(out.join(region))
            .args(args)
            .args(years)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
    }
}

#[test]
fn generating_from_the_shipped_catalog_gives_the_examples_and_they_validate() {
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    generate_examples(home.path(), out.path());
    let read_all = |root: &Path| -> BTreeMap<PathBuf, String> {
        json_files(root)
            .into_iter()
            .map(|p| (p.strip_prefix(root).unwrap().to_path_buf(), std::fs::read_to_string(&p).unwrap()))
            .collect()
    };
    let generated = read_all(out.path());
    let shipped = read_all(&repo().join("examples"));
    assert_eq!(generated.keys().collect::<Vec<_>>(), shipped.keys().collect::<Vec<_>>());
    assert_eq!(generated, shipped, "examples/ is what the generator writes today");
    // BCSD, GARD, GARD-MV (psl, ta850 and hus850 from E-OBS's predictor product, NCEP-R1) and DeepSD for Iberia
    // tas and pr, historical and rcp85; Nunavut tasmax historical. ANUSPLIN has no predictor product for GARD-MV, and
    // MACA finds no contiguous 1983–2100 data, so neither is written.
    assert_eq!(generated.len(), 19);
    assert!(generated.contains_key(Path::new(
        "iberia/bcsd/bcsd_E-OBS_CNRM-CM5_r1i1p1_rcp85_tas_35_45_-10_5_1983_2002_2081_2100.json"
    )));

    // Validation with the catalogs of the configuration's defaults (the repository's `data/catalog`).
    let files = json_files(out.path());
    let output = isolated(home.path()).args(["params", "validate"]).args(&files).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn years_outside_the_data_name_the_key_and_the_coverage() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let example =
        repo().join("examples/iberia/bcsd/bcsd_E-OBS_CNRM-CM5_r1i1p1_rcp85_tas_35_45_-10_5_1983_2002_2081_2100.json");
    let text = std::fs::read_to_string(example).unwrap();
    let path = dir.path().join("late.json");
    std::fs::write(
        &path,
        text.replace("[\"2081\", \"2100\"]", "[\"2015\", \"2099\"]").replace("\"E-OBS\"", "\"E-0BS\""),
    )
    .unwrap();
    let output = isolated(home.path()).args(["params", "validate"]).arg(&path).output().unwrap();
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("key `obs`: `E-0BS` is not in the observation catalog") && text.contains("did you mean `E-OBS`"),
        "{text}"
    );
    std::fs::write(&path, std::fs::read_to_string(&path).unwrap().replace("E-0BS", "E-OBS")).unwrap();
    let output = isolated(home.path()).args(["params", "validate"]).arg(&path).output().unwrap();
    let text = stderr(&output);
    assert!(
        text.contains("key `predict_dates`: years 2015–2099 are outside the data of CNRM-CM5 r1i1p1 rcp85 `tas` (day, gn), which cover 2080–2100"),
        "{text}"
    );
}

#[test]
fn config_show_reports_each_layer_and_redacts_secrets() {
    let home = tempfile::tempdir().unwrap();
    let user_dir = home.path().join("downscale");
    std::fs::create_dir_all(&user_dir).unwrap();
    std::fs::write(
        user_dir.join("base.yaml"),
        "runtime: local\nrun-options:\n  use-cache: false\nstorage:\n  results:\n    uri: s3://user:hunter2@bucket/results\n    options:\n      azure_storage_connection_string: AccountKey=abc123\n      aws_secret_access_key: $MY_SECRET\n",
    )
    .unwrap();
    let extra = home.path().join("extra.yaml");
    std::fs::write(&extra, "runtimes:\n  local:\n    threads: 3\n").unwrap();
    let output = isolated(home.path())
        .env("DOWNSCALE_RUNTIMES__LOCAL__THREADS", "5")
        .env("DOWNSCALE_RUNTIME", "ci")
        .args(["config", "show", "--config"])
        .arg(&extra)
        .args(["--set", "runtime=slurm"])
        .output()
        .unwrap();
    let text = stdout(&output);
    assert!(output.status.success(), "{}", stderr(&output));
    let line = |key: &str| {
        text.lines().find(|l| l.starts_with(&format!("{key} = "))).unwrap_or_else(|| panic!("{key}: {text}"))
    };
    assert!(line("runtime").contains("\"slurm\"") && line("runtime").contains("--set"), "{text}");
    assert!(
        line("runtimes.local.threads").contains('5')
            && line("runtimes.local.threads").contains("DOWNSCALE_RUNTIMES__LOCAL__THREADS")
    );
    assert!(line("run_options.use_cache").contains("false") && line("run_options.use_cache").contains("base.yaml"));
    assert!(line("run_options.generate_pyramids").contains("default"));
    assert!(!text.contains("hunter2") && !text.contains("abc123"), "{text}");
    assert!(text.contains("$MY_SECRET"), "an environment reference is not a secret: {text}");

    let output = isolated(home.path())
        .args(["config", "show", "--json", "--set", "run_options.use_cache=true"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let keys = json["keys"].as_array().unwrap();
    let use_cache = keys.iter().find(|k| k["key"] == "run_options.use_cache").unwrap();
    assert_eq!(use_cache["value"], true);
    assert!(use_cache["source"].to_string().contains("set"), "{use_cache}");

    let output =
        isolated(home.path()).args(["config", "show", "--set", "run_options.use_cahce=true"]).output().unwrap();
    common::assert_one_line_error(&output, &["run_options.use_cahce", "did you mean `run_options.use_cache`"]);
}
