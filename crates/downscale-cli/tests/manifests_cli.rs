//! `downscale manifests kubernetes`: the ConfigMap and Indexed Job that run one task of a run on Kubernetes. No
//! cluster runs here, so the manifests are checked against a golden file (`tests/golden/`; regenerate it with
//! `DOWNSCALE_UPDATE_GOLDEN=1` after a deliberate change and read the difference), for the six-shard postprocess of
//! the scaled-up case with its cache on S3 (moto server).

mod common;

use common::case::Case;
use common::emulators::{Emulator, Service};
use common::repo;

#[test]
fn a_sharded_task_becomes_an_indexed_job_with_one_index_per_shard() {
    let emulator = Emulator::start(Service::S3);
    emulator.create_bucket("downscale");
    let dir = tempfile::tempdir().unwrap();
    let case = Case::build(dir.path());
    let storage = [
        format!("storage.intermediate.uri={}", emulator.url("downscale", "intermediate")),
        format!("storage.results.uri={}", emulator.url("downscale", "results")),
        format!("run_records={}", dir.path().join("k8s.sqlite").display()),
    ];
    let with_storage = |args: &[&str]| {
        let mut command = case.command(args);
        for setting in &storage {
            command.args(["--set", setting]);
        }
        command.envs(emulator.environment());
        command
    };
    // The shards of postprocess are known once its inputs are complete: run the case first.
    let output = with_storage(&["run", "--runtime", "ci"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let output = with_storage(&["manifests", "kubernetes", "--task", "postprocess", "--image", "downscale:0.1.0"])
        .args(["--cpus", "2", "--memory", "6GiB", "--parallelism", "4"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    // The case's folder is a fresh temporary one: its path is the one thing that changes from run to run.
    let manifests = String::from_utf8(output.stdout).unwrap().replace(&dir.path().display().to_string(), "<case>");
    assert!(manifests.contains("completions: 6") && manifests.contains("$(JOB_COMPLETION_INDEX)"), "{manifests}");

    let golden = repo().join("crates/downscale-cli/tests/golden/kubernetes_postprocess.yaml");
    if std::env::var_os("DOWNSCALE_UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &manifests).unwrap();
    }
    let expected =
        std::fs::read_to_string(&golden).expect("the golden file exists (DOWNSCALE_UPDATE_GOLDEN=1 writes it)");
    assert_eq!(manifests, expected, "the manifests changed; if on purpose, regenerate the golden file");
}

#[test]
fn a_local_cache_is_refused_because_pods_cannot_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = common::downscale()
        .args(["manifests", "kubernetes", "--task", "postprocess", "--image", "downscale:0.1.0", "--param-file"])
        .arg(common::iberia_example("tas"))
        .args(common::shipped_catalog_settings(dir.path(), "results"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!((output.status.code(), stderr.lines().count()), (Some(2), 1), "{stderr}");
    assert!(
        stderr.starts_with("error: storage.intermediate.uri = '") && stderr.contains("is a local path"),
        "{stderr}"
    );
}
