//! `downscale catalog` over a results folder of real runs (the Iberia BCSD examples: historical tas and pr, rcp85
//! pr, and an rcp85 tas run that fails on a damaged model file), one of whose stores then loses a chunk: the
//! intake-esm catalog opens with `intake_esm.esm_datastore(...)` and `.to_dataset_dict()` loads every store it
//! lists; the failed run and the damaged store are not listed; the web catalog lists the same stores; and this
//! crate's own catalog reader opens the collection.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use common::{
    assert_one_line_error, bcsd_example, damaged_model_catalog, downscale, evaluate_python, run_with_shipped_catalogs,
    shipped_catalog_settings,
};
use serde_json::Value;

/// Opens the collection with intake-esm, loads every dataset, and prints one line per listed store's URI.
const LOAD: &str = r#"
import sys, warnings
warnings.filterwarnings("ignore")
import intake_esm
catalog = intake_esm.esm_datastore(sys.argv[1])
datasets = catalog.to_dataset_dict(progressbar=False)
for key, ds in datasets.items():
    ds.load()
    assert ds.sizes["member"] == 1 and ds.sizes["time"] > 0, (key, ds.sizes)
print(f"datasets {len(datasets)}")
for uri in catalog.df["uri"]:
    print(uri)
"#;

#[test]
fn the_catalog_lists_every_valid_store_and_intake_esm_loads_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut published = Vec::new();
    for (variable, scenario) in [("tas", "historical"), ("pr", "historical"), ("pr", "rcp85")] {
        let manifest =
            run_with_shipped_catalogs(dir.path(), "results", &bcsd_example(variable, scenario), &["--runtime", "ci"]);
        published.extend(manifest["datasets"].as_object().unwrap().values().map(|v| v.as_str().unwrap().to_string()));
    }
    let failed = downscale()
        .args(["run", "--runtime", "ci", "--param-file"])
        .arg(bcsd_example("tas", "rcp85"))
        .args(shipped_catalog_settings(dir.path(), "results"))
        .arg("--set")
        .arg(format!("data_catalog.model={}", damaged_model_catalog(dir.path()).display()))
        .output()
        .unwrap();
    assert!(!failed.status.success(), "the run on the damaged file fails");
    // One store loses its only chunk.
    let damaged =
        published.iter().find(|s| s.contains(".month.BCSD.pr.zarr") && s.contains("historical")).unwrap().clone();
    std::fs::remove_file(PathBuf::from(&damaged).join("pr/c/0/0/0")).expect("the chunk exists");

    let output = downscale().arg("catalog").arg("--results").arg(dir.path().join("results")).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("left out {damaged}")), "{stderr}");
    assert!(stderr.contains("8 stores of 3 runs listed, 1 left out"), "{stderr}");
    let collection = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    assert_eq!(collection, dir.path().join("results/catalog/catalog.json"));

    let expected: BTreeSet<String> = published
        .iter()
        .filter(|s| **s != damaged)
        .map(|s| format!("file://{}", std::path::absolute(s).unwrap().display()))
        .collect();
    let load = Command::new(evaluate_python())
        .args(["-c", LOAD])
        .arg(&collection)
        .output()
        .expect("the evaluation venv's python runs");
    let report = String::from_utf8_lossy(&load.stdout);
    assert!(load.status.success(), "{report}{}", String::from_utf8_lossy(&load.stderr));
    let mut lines = report.lines();
    // historical/rcp85 x day/month/year, tas and pr merged in one dataset where both are there.
    assert_eq!(lines.next(), Some("datasets 6"), "{report}");
    let listed: BTreeSet<String> = lines.map(str::to_string).collect();
    assert_eq!(listed, expected, "{report}");

    let web: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("results/catalog/web-catalog.json")).unwrap()).unwrap();
    let web_uris: BTreeSet<String> =
        web["datasets"].as_array().unwrap().iter().map(|d| d["uri"].as_str().unwrap().to_string()).collect();
    assert_eq!(web_uris, expected);
    assert!(
        web["datasets"].as_array().unwrap().iter().all(|d| d["experiment_id"] != "rcp85" || d["variable_id"] == "pr")
    );

    let ours = downscale_catalog::Catalog::open(&collection).expect("this crate's reader opens the collection");
    assert_eq!(ours.len(), expected.len());

    // Building it again replaces the earlier catalogs; a folder holding a user's own catalog.csv is refused whole.
    let again = downscale().arg("catalog").arg("--results").arg(dir.path().join("results")).output().unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let theirs = dir.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    let their_table = "activity_id,source_id,path\nCMIP,CNRM-CM5,/data/tas.zarr\n";
    std::fs::write(theirs.join("catalog.csv"), their_table).unwrap();
    let refused =
        downscale().arg("catalog").arg("--results").arg(dir.path().join("results")).arg("--out").arg(&theirs).output();
    assert_one_line_error(&refused.unwrap(), &["catalog.csv", "columns 'activity,institution,source"]);
    assert_eq!(std::fs::read_to_string(theirs.join("catalog.csv")).unwrap(), their_table);
    assert!(!theirs.join("catalog.json").exists(), "nothing is written");
    // Nor is a JSON document of the user's replaced by the collection.
    std::fs::remove_file(theirs.join("catalog.csv")).unwrap();
    std::fs::write(theirs.join("catalog.json"), r#"{"id": "my-stores"}"#).unwrap();
    let refused =
        downscale().arg("catalog").arg("--results").arg(dir.path().join("results")).arg("--out").arg(&theirs).output();
    assert_one_line_error(&refused.unwrap(), &["catalog.json", "\"downscale-published\" at /id"]);
    assert!(!theirs.join("catalog.csv").exists(), "nothing is written");
}
