//! Runs whose intermediates and results are on object storage, S3 (moto server) and Azure Blob (Azurite), emulators
//! the test starts: the Iberia BCSD flows publish the same bits as on a local disk, the published stores validate
//! there, and a second run finds every task in the bucket's cache. The S3 client of the runs is configured by
//! `storage.*.options` (`object_store`'s option names), the Azure one by the environment.

mod common;

use common::emulators::{Emulator, Service};
use common::{BCSD_DEFAULT_DIGESTS, digest_of_outputs, downscale, iberia_example, repo};
use downscale_data::Location;
use serde_json::Value;

#[test]
fn bcsd_with_intermediates_and_results_on_s3_and_azure_publishes_the_same_bits_and_caches_there() {
    // One test for both stores, in turn: each sets its client's environment in this process (to read what the runs
    // publish), which no other test of this binary could then read at the same time.
    for service in [Service::S3, Service::Azure] {
        let emulator = Emulator::start(service);
        emulator.create_bucket("downscale");
        // SAFETY: this binary's only test sets these from its one thread, before reading any location; the runs
        // are child processes given them explicitly.
        for (key, value) in emulator.environment() {
            unsafe { std::env::set_var(key, value) };
        }
        runs_publish_the_same_bits_and_cache(&emulator, service);
    }
}

fn runs_publish_the_same_bits_and_cache(emulator: &Emulator, service: Service) {
    let dir = tempfile::tempdir().unwrap();
    let run = |variable: &str| {
        let settings = [
            ("storage.intermediate.uri", emulator.url("downscale", "intermediate")),
            ("storage.results.uri", emulator.url("downscale", "results")),
            ("run_records", dir.path().join("runs.sqlite").display().to_string()),
            ("data_catalog.model", repo().join("data/catalog/cmip.json").display().to_string()),
            ("data_catalog.obs", repo().join("data/catalog/obs.json").display().to_string()),
        ];
        let mut command = downscale();
        command.args(["run", "--runtime", "ci", "--param-file"]).arg(iberia_example(variable));
        for (key, value) in settings {
            command.arg("--set").arg(format!("{key}={value}"));
        }
        match service {
            // Options named as object_store names them (its environment variables, lower-cased).
            Service::S3 => {
                for (key, value) in emulator.environment() {
                    // Not inherited from this process, which has them to read what the run publishes.
                    command.env_remove(key);
                    for storage in ["intermediate", "results"] {
                        command.arg("--set").arg(format!("storage.{storage}.options.{}={value}", key.to_lowercase()));
                    }
                }
            }
            Service::Azure => {
                command.envs(emulator.environment());
            }
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "{service:?}, {variable}: {}", String::from_utf8_lossy(&output.stderr));
        let manifest = String::from_utf8_lossy(&output.stdout).lines().last().unwrap().to_string();
        assert!(manifest.starts_with(&emulator.url("downscale", "results/runs/")), "{manifest}");
        let bytes = Location::parse(&manifest).unwrap().read_bytes().unwrap().expect("the manifest is in the bucket");
        serde_json::from_slice::<Value>(&bytes).unwrap()
    };

    for (variable, expected) in BCSD_DEFAULT_DIGESTS {
        let manifest = run(variable);
        assert_eq!(digest_of_outputs(&manifest, variable), expected, "{variable} on {service:?}");
        let daily = manifest["datasets"]["daily"].as_str().unwrap();
        assert!(daily.starts_with(&emulator.url("downscale", "results/")), "{daily}");
        let validated = downscale().args(["validate", daily]).envs(emulator.environment()).output().unwrap();
        assert!(validated.status.success(), "{}", String::from_utf8_lossy(&validated.stdout));
    }

    // Again: every task is found in the bucket.
    run("tas");
    let records = downscale_engine::Records::open(&dir.path().join("runs.sqlite")).unwrap();
    let last = records.runs(1).unwrap().remove(0);
    let tasks = records.tasks(last.id).unwrap();
    assert!(tasks.iter().all(|t| t.state == downscale_engine::TaskState::Cached), "{service:?}: {tasks:?}");
}
