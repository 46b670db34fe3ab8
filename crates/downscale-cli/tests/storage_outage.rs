//! The object store goes away in the middle of a run and comes back: Azurite, keeping its blobs on disk, is stopped
//! while BCSD's postprocess writes its shards to it and started again three seconds later. The store's client
//! retries through the outage (and the engine retries what still fails), so the run completes and publishes the same
//! bits as a run on a local disk, and every store it published validates complete.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::case::Case;
use common::digest_of_outputs;
use common::emulators::Emulator;
use downscale_engine::Records;
use serde_json::Value;

#[test]
fn an_object_store_stopped_mid_write_and_started_again_loses_nothing() {
    let blobs = tempfile::tempdir().unwrap();
    let mut emulator = Emulator::start_persistent(blobs.path());
    emulator.create_bucket("downscale");
    // SAFETY: this binary's only test sets these from its one thread before reading any location; the run is a
    // child process given them explicitly.
    for (key, value) in emulator.environment() {
        unsafe { std::env::set_var(key, value) };
    }

    let dir = tempfile::tempdir().unwrap();
    let case = Case::build(dir.path());
    let records_path = dir.path().join("outage.sqlite");
    let mut command = case.command(&["run", "--runtime", "ci"]);
    command.args(["--set", &format!("storage.intermediate.uri={}", emulator.url("downscale", "intermediate"))]);
    command.args(["--set", &format!("storage.results.uri={}", emulator.url("downscale", "results"))]);
    command.args(["--set", &format!("run_records={}", records_path.display())]);
    let mut child = command.envs(emulator.environment()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();

    // Stop the store once postprocess, which writes the daily store's chunks, has started.
    let started = Instant::now();
    loop {
        let writing = Records::open(&records_path).ok().and_then(|records| {
            let run = records.runs(1).ok()?.into_iter().next()?;
            let tasks = records.tasks(run.id).ok()?;
            Some(tasks.iter().any(|task| task.task_id == "postprocess" && task.started_at.is_some()))
        });
        if writing == Some(true) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(600), "postprocess never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    emulator.stop_and_restart(Duration::from_secs(3));
    assert!(child.try_wait().unwrap().is_none(), "the run went on through the outage");

    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let manifest_url = String::from_utf8_lossy(&output.stdout).lines().last().unwrap().to_string();
    let bytes = downscale_data::Location::parse(&manifest_url).unwrap().read_bytes().unwrap().unwrap();
    let manifest: Value = serde_json::from_slice(&bytes).unwrap();
    for dataset in ["daily", "monthly", "annual"] {
        let store = manifest["datasets"][dataset].as_str().unwrap();
        let validated = common::downscale().args(["validate", store]).envs(emulator.environment()).output().unwrap();
        assert!(validated.status.success(), "{store}: {}", String::from_utf8_lossy(&validated.stdout));
    }

    let clean = tempfile::tempdir().unwrap();
    let reference = Case::build(clean.path()).run();
    assert_eq!(digest_of_outputs(&manifest, "tas"), digest_of_outputs(&reference, "tas"));
}

#[test]
fn an_endpoint_where_nothing_answers_is_one_line_before_any_work() {
    // A port nothing listens on: bound and released just now.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let output = common::downscale()
        .args(["run", "--runtime", "ci", "--param-file"])
        .arg(common::iberia_example("tas"))
        .args(common::shipped_catalog_settings(dir.path(), "results"))
        .args(["--set", "storage.intermediate.uri=s3://downscale/intermediate"])
        .args(["--set", &format!("storage.intermediate.options.aws_endpoint=http://127.0.0.1:{port}")])
        .args(["--set", "storage.intermediate.options.aws_allow_http=true"])
        .args(["--set", "storage.intermediate.options.aws_access_key_id=test"])
        .args(["--set", "storage.intermediate.options.aws_secret_access_key=test"])
        .args(["--set", "storage.intermediate.options.aws_region=us-east-1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!((output.status.code(), stderr.lines().count()), (Some(2), 1), "{stderr}");
    assert!(stderr.starts_with("error: storage.intermediate: s3://downscale/intermediate: "), "{stderr}");
    assert!(!dir.path().join("results").exists());
}
