//! BCSD outputs stay bit for bit what they were: the two modes that reproduce a reference (the original system's
//! flow, `run_options.carbonplan_compat: true`, and scikit-downscale's BCSD point models inside this tool's flow),
//! and the default on every runtime and thread count, so that changes to the engine or the flow's wiring that must
//! not change numbers are shown not to. Each run's three published stores are hashed (shape and the float32 bits of
//! every value) and compared with the digests of the outputs when the digests were recorded.

mod common;

use std::path::{Path, PathBuf};

use blake2::{Blake2s256, Digest};
use common::{repo, run_with_shipped_catalogs};
use downscale_data::read_variable;
use serde_json::Value;

/// Runs `param_file` (an Iberia example: rcp85 winters 2081-2100 trained on 1983-2002) with `extra` arguments and returns
/// the digest of its daily, monthly and annual stores.
fn digest_of_run(variable: &str, param_file: &Path, extra: &[&str], dir: &Path) -> String {
    let manifest = run_with_shipped_catalogs(dir, "results", param_file, extra);
    let mut hasher = Blake2s256::new();
    for dataset in ["daily", "monthly", "annual"] {
        let array = read_variable(manifest["datasets"][dataset].as_str().unwrap(), variable).unwrap();
        for &length in array.shape() {
            hasher.update((length as u64).to_le_bytes());
        }
        for value in &array.data {
            hasher.update(value.to_bits().to_le_bytes());
        }
    }
    format!("{:x}", hasher.finalize())
}

fn example(variable: &str) -> PathBuf {
    repo().join(format!(
        "examples/iberia/bcsd/bcsd_E-OBS_CNRM-CM5_r1i1p1_rcp85_{variable}_35_45_-10_5_1983_2002_2081_2100.json"
    ))
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
            &example(variable),
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
        let mut document: Value = serde_json::from_slice(&std::fs::read(example(variable)).unwrap()).unwrap();
        document["bias_correction_method"] = "bcsd_point".into();
        let param_file = dir.path().join("bcsd_point.json");
        std::fs::write(&param_file, document.to_string()).unwrap();
        let digest = digest_of_run(variable, &param_file, &["--runtime", "ci"], dir.path());
        assert_eq!(digest, expected, "{variable} with the BCSD point models");
    }
}

/// `(variable, digest)` of the default (quantile delta mapping per month).
const DEFAULT: [(&str, &str); 2] = [
    ("tas", "e74a2ac85b77f7ecc464a39dd0189feb42465b9e82914e58b96e1937d845552c"),
    ("pr", "937df70cefe97cdda5c8557c1c4765b4141d0648bb10759dc184391644c16384"),
];

#[test]
fn the_default_is_the_same_on_every_runtime_and_thread_count() {
    let runtimes: [&[&str]; 3] = [
        &["--runtime", "ci"],
        &["--runtime", "local", "--set", "runtimes.local.threads=1"],
        &["--runtime", "local", "--set", "runtimes.local.threads=2"],
    ];
    for (variable, expected) in DEFAULT {
        for runtime in runtimes {
            let dir = tempfile::tempdir().unwrap();
            let digest = digest_of_run(variable, &example(variable), runtime, dir.path());
            assert_eq!(digest, expected, "{variable} on {runtime:?}");
        }
    }
}
