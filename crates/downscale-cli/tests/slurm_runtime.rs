//! The `slurm` runtime on a real single-node Slurm cluster (started by `scripts/slurm-up.sh`): every task is a job
//! running `downscale task`, each sharded task a job array. The Iberia BCSD flows publish the same bits as on
//! `local`; an array element cancelled mid-run is submitted again and the outputs do not change; and a cluster that
//! cannot run the jobs as configured is one error line before anything is submitted or published.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::case::Case;
use common::{
    BCSD_DEFAULT_DIGESTS, damaged_model_catalog, digest_of_outputs, iberia_example, manifest_of_run,
    run_with_shipped_catalogs_on, slurm,
};
use downscale_engine::{LogLevel, Records, TaskState};
use serde_json::Value;

/// `downscale run` of `param_file` on the slurm runtime with the shipped catalogs and storage under `dir`.
fn run_on_slurm(dir: &Path, param_file: &Path, memory: &str) -> Command {
    let mut command = run_with_shipped_catalogs_on("slurm", dir, param_file);
    command.args(slurm::settings(dir, memory));
    command
}

#[test]
fn bcsd_on_slurm_publishes_the_same_bits_as_local_and_records_each_job() {
    slurm::ensure_running();
    for (variable, digest) in BCSD_DEFAULT_DIGESTS {
        let dir = tempfile::tempdir().unwrap();
        let output = run_on_slurm(dir.path(), &iberia_example(variable), "1GiB").output().unwrap();
        let manifest = manifest_of_run(&output);
        assert_eq!(digest_of_outputs(&manifest, variable), digest, "{variable} on slurm");

        let records = Records::open(&dir.path().join("runs.sqlite")).unwrap();
        let run = records.runs(1).unwrap().remove(0);
        assert_eq!(run.runtime, "slurm");
        let tasks = records.tasks(run.id).unwrap();
        assert_eq!(tasks.len(), 10, "{tasks:?}");
        for task in &tasks {
            // Every task was a job of the cluster: executed there, its report read from the state it left.
            assert_eq!(task.state, TaskState::Succeeded, "{task:?}");
            assert!(task.cpu_seconds.is_some_and(|cpu| cpu > 0.0), "{task:?}");
            assert!(
                task.peak_rss_bytes.is_some_and(|rss| rss > 0 && rss < 1 << 30),
                "within the job's 1 GiB: {task:?}"
            );
            // The records name its jobs (the dashboard shows them), and a sharded task's shards as its tiles.
            let jobs = task.jobs.as_deref().unwrap_or_default();
            assert!(
                !jobs.is_empty() && jobs.split(' ').all(|job| job.starts_with(|c: char| c.is_ascii_digit())),
                "{task:?}"
            );
            if jobs.contains("_[") {
                assert!(
                    task.tiles_total.is_some_and(|total| total >= 1) && task.tiles_done == task.tiles_total,
                    "{task:?}"
                );
            }
        }
        let logs = records.logs(run.id).unwrap();
        assert!(logs.iter().any(|line| line.message.contains("submitted as array job")), "{logs:?}");
        // Each job left its log; a job's standard output is its task's state.
        let logs_dir = dir.path().join("slurm-logs");
        let states: Vec<Value> = std::fs::read_dir(&logs_dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "out"))
            .map(|path| serde_json::from_str(std::fs::read_to_string(path).unwrap().trim()).unwrap())
            .collect();
        assert!(states.len() >= 13, "10 tasks, 3 of them sharded: {}", states.len());
        assert!(states.iter().all(|state| state["report"]["state"] == "succeeded"), "{states:?}");
    }
}

#[test]
fn an_array_element_cancelled_mid_run_is_submitted_again_and_the_outputs_do_not_change() {
    slurm::ensure_running();
    let dir = tempfile::tempdir().unwrap();
    let case = Case::build(dir.path());
    let mut command = case.command(&["run", "--runtime", "slurm"]);
    command.args(slurm::settings(dir.path(), "1GiB"));
    let child = command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();

    // Cancel the first postprocess shard seen queued or running: six shards on two cores, so some wait.
    let run_id = case.run_id();
    let started = Instant::now();
    let cancelled = loop {
        let jobs = slurm::jobs_named(&format!("{run_id}:postprocess"));
        let target = jobs
            .iter()
            .find(|(_, element, state)| element.is_some() && matches!(state.as_str(), "PENDING" | "RUNNING"));
        if let Some((job, Some(element), _)) = target {
            let reference = format!("{job}_{element}");
            let status = Command::new("scancel").arg(&reference).status().unwrap();
            assert!(status.success());
            break reference;
        }
        assert!(started.elapsed() < Duration::from_secs(600), "no postprocess shard was ever queued: {jobs:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = child.wait_with_output().unwrap();
    let manifest = manifest_of_run(&output);

    let records = Records::open(&dir.path().join("runs.sqlite")).unwrap();
    let run = records.runs(1).unwrap().remove(0);
    let logs = records.logs(run.id).unwrap();
    let resubmitted = logs.iter().find(|line| line.message.contains("submitting it again")).unwrap_or_else(|| {
        panic!("no resubmission after cancelling {cancelled}: {logs:?}");
    });
    assert_eq!(resubmitted.level, LogLevel::Warn);
    assert!(resubmitted.message.contains(&cancelled) && resubmitted.message.contains("cancelled"), "{resubmitted:?}");

    // The same bits as the case run in one process.
    let clean = tempfile::tempdir().unwrap();
    let reference = Case::build(clean.path()).run();
    assert_eq!(digest_of_outputs(&manifest, "tas"), digest_of_outputs(&reference, "tas"));
}

#[test]
fn a_cluster_that_cannot_run_the_jobs_is_one_line_before_anything_is_submitted() {
    slurm::ensure_running();
    let cases: [(&[&str], Option<&str>, &str); 4] = [
        (
            &["runtimes.slurm.partition=nowhere"],
            None,
            "runtime slurm: runtimes.slurm.partition = 'nowhere': the cluster has no such partition (it has: debug)",
        ),
        (
            &[],
            None,
            "runtime slurm: runtimes.slurm.memory = 4194304 MiB per job is more than any node of partition 'debug' has",
        ),
        (
            &["runtimes.slurm.cpus_per_task=64"],
            None,
            "runtime slurm: runtimes.slurm.cpus_per_task = 64 is more than any node of partition 'debug' has",
        ),
        (&[], Some("/nonexistent"), "runtime slurm: `sinfo` is not installed here (or not on PATH)"),
    ];
    for (index, (settings, path, expected)) in cases.into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let memory = if index == 1 { "4TiB" } else { "1GiB" };
        let mut command = run_on_slurm(dir.path(), &iberia_example("tas"), memory);
        for setting in settings {
            command.args(["--set", setting]);
        }
        if let Some(path) = path {
            command.env("PATH", path);
        }
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with(&format!("error: {expected}")), "{stderr}");
        assert!(!dir.path().join("results").exists(), "nothing published");
        assert!(
            !dir.path().join("intermediate").exists()
                || std::fs::read_dir(dir.path().join("intermediate")).unwrap().next().is_none()
        );
    }
}

#[test]
fn a_task_failing_on_a_damaged_file_is_not_submitted_again_and_its_error_is_the_runs() {
    slurm::ensure_running();
    let dir = tempfile::tempdir().unwrap();
    let catalog = damaged_model_catalog(dir.path());
    let output = run_on_slurm(dir.path(), &iberia_example("tas"), "1GiB")
        .args(["--set", &format!("data_catalog.model={}", catalog.display())])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|line| line.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("tas_rcp85_damaged.nc: damaged or incomplete file"), "{stderr}");
    // The task retried inside its job already: the same file fails the same way on any node.
    let records = Records::open(&dir.path().join("runs.sqlite")).unwrap();
    let run = records.runs(1).unwrap().remove(0);
    let logs = records.logs(run.id).unwrap();
    assert!(!logs.iter().any(|line| line.message.contains("submitting it again")), "{logs:?}");
    assert!(!dir.path().join("results").join(&run.run_id).exists(), "nothing published");
}

#[test]
fn gard_on_slurm_publishes_the_same_bits_as_local() {
    slurm::ensure_running();
    let example = common::repo()
        .join("examples/iberia/gard/gard_E-OBS_CNRM-CM5_r1i1p1_rcp85_pr_pr_35_45_-10_5_1983_2002_2081_2100.json");
    let bits = |manifest: &Value| -> Vec<Vec<u32>> {
        [("daily", "pr"), ("model", "pred"), ("model", "prediction_error"), ("model", "exceedance_prob")]
            .iter()
            .map(|(dataset, variable)| {
                let store = manifest["datasets"][dataset].as_str().expect("the manifest names the dataset");
                let array = downscale_data::read_variable(store, variable).unwrap();
                array.data.iter().map(|v| v.to_bits()).collect()
            })
            .collect()
    };
    let (local, cluster) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let on_local = manifest_of_run(&run_with_shipped_catalogs_on("ci", local.path(), &example).output().unwrap());
    let on_slurm = manifest_of_run(&run_on_slurm(cluster.path(), &example, "1GiB").output().unwrap());
    assert!(bits(&on_local) == bits(&on_slurm), "GARD on slurm differs from local");
}
