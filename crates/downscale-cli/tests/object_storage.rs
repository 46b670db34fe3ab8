//! Runs whose intermediates and results are on S3 (a moto server the test starts): the Iberia BCSD flows publish the
//! same bits as on a local disk, a second run finds every task in the bucket's cache, and the published stores
//! validate there.

mod common;

use common::moto::MotoServer;
use common::{BCSD_DEFAULT_DIGESTS, digest_of_outputs, downscale, iberia_example, repo};
use downscale_data::Location;
use serde_json::Value;

#[test]
fn bcsd_with_intermediates_and_results_on_s3_publishes_the_same_bits_and_caches_there() {
    let moto = MotoServer::start();
    moto.create_bucket("downscale");
    // SAFETY: this binary's only test sets these before it starts any thread of its own or reads a location, so no
    // other thread reads the environment meanwhile; the runs below are child processes given them explicitly.
    for (key, value) in moto.environment() {
        unsafe { std::env::set_var(key, value) };
    }
    let dir = tempfile::tempdir().unwrap();
    let run = |variable: &str| {
        let settings = [
            ("storage.intermediate.uri", "s3://downscale/intermediate".to_string()),
            ("storage.results.uri", "s3://downscale/results".to_string()),
            ("run_records", dir.path().join("runs.sqlite").display().to_string()),
            ("data_catalog.model", repo().join("data/catalog/cmip.json").display().to_string()),
            ("data_catalog.obs", repo().join("data/catalog/obs.json").display().to_string()),
        ];
        let mut command = downscale();
        command.args(["run", "--runtime", "ci", "--param-file"]).arg(iberia_example(variable)).envs(moto.environment());
        for (key, value) in settings {
            command.arg("--set").arg(format!("{key}={value}"));
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "{variable}: {}", String::from_utf8_lossy(&output.stderr));
        let manifest = String::from_utf8_lossy(&output.stdout).lines().last().unwrap().to_string();
        assert!(manifest.starts_with("s3://downscale/results/runs/"), "{manifest}");
        let bytes = Location::parse(&manifest).unwrap().read_bytes().unwrap().expect("the manifest is in the bucket");
        serde_json::from_slice::<Value>(&bytes).unwrap()
    };

    for (variable, expected) in BCSD_DEFAULT_DIGESTS {
        let manifest = run(variable);
        assert_eq!(digest_of_outputs(&manifest, variable), expected, "{variable} on S3");
        let daily = manifest["datasets"]["daily"].as_str().unwrap();
        assert!(daily.starts_with("s3://downscale/results/"), "{daily}");
        let validated = downscale().args(["validate", daily]).envs(moto.environment()).output().unwrap();
        assert!(validated.status.success(), "{}", String::from_utf8_lossy(&validated.stdout));
    }

    // Again: every task is found in the bucket.
    run("tas");
    let records = downscale_engine::Records::open(&dir.path().join("runs.sqlite")).unwrap();
    let last = records.runs(1).unwrap().remove(0);
    let tasks = records.tasks(last.id).unwrap();
    assert!(tasks.iter().all(|t| t.state == downscale_engine::TaskState::Cached), "{tasks:?}");
}
