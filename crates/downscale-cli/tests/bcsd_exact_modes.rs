//! BCSD outputs stay bit for bit what they were: the two modes that reproduce a reference (the original system's
//! flow, `run_options.carbonplan_compat: true`, and scikit-downscale's BCSD point models inside this tool's flow),
//! and the default on every runtime and thread count, so that changes to the engine or the flow's wiring that must
//! not change numbers are shown not to. Each run's three published stores are hashed (shape and the float32 bits of
//! every value) and compared with the digests of the outputs when the digests were recorded.

mod common;

use std::path::Path;

use common::{BCSD_DEFAULT_DIGESTS, digest_of_outputs, iberia_example, run_with_shipped_catalogs};
use serde_json::Value;

/// Runs `param_file` (an Iberia example: rcp85 winters 2081-2100 trained on 1983-2002) with `extra` arguments and returns
/// the digest of its daily, monthly and annual stores.
fn digest_of_run(variable: &str, param_file: &Path, extra: &[&str], dir: &Path) -> String {
    digest_of_outputs(&run_with_shipped_catalogs(dir, "results", param_file, extra), variable)
}

/// `(variable, digest)` of the original system's flow.
const CARBONPLAN_COMPAT: [(&str, &str); 2] = [
    ("tas", "ec26fd6cbe84aba04562dea7de49d99d921fcef79576a51f1cf7bcb1168469c0"),
    ("pr", "e5f79d6e1b11680799540ee3cfbc7d77d77a9b92541fc4fb242f12ad9ba6c677"),
];

/// `(variable, digest)` of scikit-downscale's point models in the documented order.
const BCSD_POINT: [(&str, &str); 2] = [
    ("tas", "33a4dcce2d953e31df9b91a03ce9c7c7d4f9b0bb5918691de994845da32924c4"),
    ("pr", "a44fe3bd6e4f9b174173945e4bb8d2f7b8549b359b1213aaae854d28cb013244"),
];

#[test]
fn the_original_flow_under_carbonplan_compat_is_unchanged() {
    for (variable, expected) in CARBONPLAN_COMPAT {
        let dir = tempfile::tempdir().unwrap();
        let digest = digest_of_run(
            variable,
            &iberia_example(variable),
            &["--runtime", "ci", "--set", "run_options.carbonplan_compat=true"],
            dir.path(),
        );
        assert_eq!(digest, expected, "{variable} under carbonplan_compat");
    }
}

#[test]
fn scikit_downscale_point_models_under_bcsd_point_are_unchanged() {
    for (variable, expected) in BCSD_POINT {
        let dir = tempfile::tempdir().unwrap();
        let mut document: Value = serde_json::from_slice(&std::fs::read(iberia_example(variable)).unwrap()).unwrap();
        document["bias_correction_method"] = "bcsd_point".into();
        let param_file = dir.path().join("bcsd_point.json");
        std::fs::write(&param_file, document.to_string()).unwrap();
        let digest = digest_of_run(variable, &param_file, &["--runtime", "ci"], dir.path());
        assert_eq!(digest, expected, "{variable} with the BCSD point models");
    }
}

#[test]
fn the_default_is_the_same_on_every_runtime_and_thread_count() {
    let runtimes: [&[&str]; 3] = [
        &["--runtime", "ci"],
        &["--runtime", "local", "--set", "runtimes.local.threads=1"],
        &["--runtime", "local", "--set", "runtimes.local.threads=2"],
    ];
    for (variable, expected) in BCSD_DEFAULT_DIGESTS {
        for runtime in runtimes {
            let dir = tempfile::tempdir().unwrap();
            let digest = digest_of_run(variable, &iberia_example(variable), runtime, dir.path());
            assert_eq!(digest, expected, "{variable} on {runtime:?}");
            let overlapping = overlapping_tasks(dir.path());
            if runtime.contains(&"runtimes.local.threads=2") {
                // The three reading tasks are ready at once and two run together.
                assert!(!overlapping.is_empty(), "{variable}: two threads run independent tasks at once");
            } else {
                assert!(overlapping.is_empty(), "{variable} on {runtime:?}: one task at a time: {overlapping:?}");
            }
        }
    }
}

/// The pairs of tasks of the run recorded under `dir` whose recorded executions overlap in time.
fn overlapping_tasks(dir: &Path) -> Vec<(String, String)> {
    let records = downscale_engine::Records::open(&dir.join("runs.sqlite")).unwrap();
    let run = records.runs(1).unwrap().remove(0);
    let time = |text: &Option<String>| chrono::DateTime::parse_from_rfc3339(text.as_deref().unwrap()).unwrap();
    let tasks: Vec<_> = records
        .tasks(run.id)
        .unwrap()
        .into_iter()
        .map(|t| (time(&t.started_at), time(&t.ended_at), t.task_id))
        .collect();
    let mut pairs = Vec::new();
    for (i, (start_a, end_a, a)) in tasks.iter().enumerate() {
        for (start_b, end_b, b) in &tasks[i + 1..] {
            if start_a < end_b && start_b < end_a {
                pairs.push((a.clone(), b.clone()));
            }
        }
    }
    pairs
}
