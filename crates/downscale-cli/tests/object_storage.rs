//! Runs whose intermediates and results are on object storage, S3 (moto server) and Azure Blob (Azurite), emulators
//! the test starts: the Iberia BCSD flows publish the same bits as on a local disk, the published stores validate
//! there, a run whose tasks are jobs of a Dask LocalCluster publishes them too, and a second run finds every task in
//! the bucket's cache. The S3 client of the runs is configured by `storage.*.options` (`object_store`'s option
//! names), the Azure one by the environment.

mod common;

use common::emulators::{Emulator, Service};
use common::{BCSD_DEFAULT_DIGESTS, digest_of_outputs, downscale, iberia_example, repo};
use downscale_data::Location;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};

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

/// `downscale run` of the Iberia example of `variable` on `runtime` with its cache under `cache` and its results under
/// `results` (prefixes of the emulator's bucket) and its records in `records`.
fn run_command(
    emulator: &Emulator,
    service: Service,
    runtime: &str,
    variable: &str,
    [cache, results]: [&str; 2],
    records: &Path,
) -> Command {
    let settings = [
        ("storage.intermediate.uri", emulator.url("downscale", cache)),
        ("storage.results.uri", emulator.url("downscale", results)),
        ("run_records", records.display().to_string()),
        ("data_catalog.model", repo().join("data/catalog/cmip.json").display().to_string()),
        ("data_catalog.obs", repo().join("data/catalog/obs.json").display().to_string()),
    ];
    let mut command = downscale();
    command.args(["run", "--runtime", runtime, "--param-file"]).arg(iberia_example(variable));
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
    command
}

/// Each task's id and whether it was found in the cache, in the last run recorded in `records`.
fn cache_hits(records: &Path) -> Vec<(String, bool)> {
    let records = downscale_engine::Records::open(records).unwrap();
    let last = records.runs(1).unwrap().remove(0);
    records.tasks(last.id).unwrap().into_iter().map(|t| (t.task_id, t.cache_hit)).collect()
}

fn runs_publish_the_same_bits_and_cache(emulator: &Emulator, service: Service) {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("runs.sqlite");

    // A bucket that does not exist, or credentials the store refuses: one line naming the storage key and what the
    // store said, before any work.
    let missing = match service {
        Service::S3 => (emulator.url("missing-bucket", "intermediate"), "the bucket does not exist (NoSuchBucket)"),
        Service::Azure => {
            (emulator.url("missing-container", "intermediate"), "the container does not exist (ContainerNotFound)")
        }
    };
    let mut refusals = vec![(vec![format!("storage.intermediate.uri={}", missing.0)], missing.1.to_string())];
    if service == Service::Azure {
        let key = "storage.intermediate.options.azure_storage_account_key=d3Jvbmcga2V5IHdyb25nIGtleQ==";
        refusals.push((vec![key.to_string()], "the store refused the credentials (AuthorizationFailure)".into()));
    }
    for (settings, expected) in refusals {
        let mut command = run_command(emulator, service, "ci", "tas", ["intermediate", "results"], &records);
        for setting in settings {
            command.arg("--set").arg(setting);
        }
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!((output.status.code(), stderr.lines().count()), (Some(2), 1), "{service:?}: {stderr}");
        assert!(stderr.starts_with("error: storage.intermediate: ") && stderr.contains(&expected), "{stderr}");
    }
    let run = |variable: &str| {
        let output =
            run_command(emulator, service, "ci", variable, ["intermediate", "results"], &records).output().unwrap();
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

    // The same run as jobs of a Dask LocalCluster: each job gets the store's options on its command line (the
    // run's `--set` values; for Azure its environment), and the bits are the same.
    let dask_python = repo().join(".venv-dask/bin/python");
    let output = run_command(emulator, service, "dask", "tas", ["intermediate-dask", "results-dask"], &records)
        .args(["--set", &format!("runtimes.dask.python={}", dask_python.display())])
        .args(["--set", "runtimes.dask.n_workers=2", "--set", "runtimes.dask.memory_limit=2GiB"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{service:?} on dask: {}", String::from_utf8_lossy(&output.stderr));
    let manifest = String::from_utf8_lossy(&output.stdout).lines().last().unwrap().to_string();
    let bytes = Location::parse(&manifest).unwrap().read_bytes().unwrap().expect("the manifest is in the bucket");
    let manifest: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(digest_of_outputs(&manifest, "tas"), BCSD_DEFAULT_DIGESTS[0].1, "tas on dask and {service:?}");

    // Again: every task is found in the bucket.
    run("tas");
    assert!(cache_hits(&records).iter().all(|(_, hit)| *hit), "{service:?}");

    // Two runs started together on one cache in the bucket: the lock objects make each task computed by one of
    // them, and the other find it complete.
    let runs: Vec<_> = ["a", "b"]
        .iter()
        .map(|name| {
            let records = dir.path().join(format!("{name}.sqlite"));
            let results = format!("results-{name}");
            let child = run_command(emulator, service, "ci", "tas", ["shared-cache", &results], &records)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (child, records)
        })
        .collect();
    let mut hits = Vec::new();
    for (child, records) in runs {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{service:?}: {}", String::from_utf8_lossy(&output.stderr));
        hits.push(cache_hits(&records));
    }
    assert_eq!(hits[0].len(), 10);
    for (first, second) in hits[0].iter().zip(&hits[1]) {
        assert_eq!(first.0, second.0);
        assert!(
            first.1 != second.1,
            "{service:?}, task {}: one run computes it, the other finds it: {hits:?}",
            first.0
        );
    }
}
