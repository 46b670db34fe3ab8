//! A run's tasks executed one by one by other processes (`downscale task`, as cluster nodes will) are the tasks
//! `downscale run` would execute: the same specs, the same cache keys, the same artifacts. `downscale plan` shows the
//! specs; each task leaves its state beside its artifact; the run then finds everything cached, records it, and
//! publishes outputs bit for bit those of a run that executed every task itself.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{BCSD_DEFAULT_DIGESTS, digest_of_outputs, downscale, iberia_example, run_with_shipped_catalogs};
use downscale_engine::{ArtifactStore, CacheKey, Flow, Records, Task, TaskState};
use serde_json::Value;

/// `downscale <command> --param-file <param_file>` with the shipped catalogs and storage under `dir`.
fn command(dir: &Path, subcommand: &str, param_file: &Path) -> std::process::Command {
    let mut command = downscale();
    command.arg(subcommand).arg("--param-file").arg(param_file).args(common::shipped_catalog_settings(dir, "results"));
    command
}

#[test]
fn every_bcsd_task_executed_by_downscale_task_is_found_cached_by_run_and_the_outputs_are_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let param_file = iberia_example("tas");
    let plan = command(dir.path(), "plan", &param_file).output().unwrap();
    assert!(plan.status.success(), "{}", String::from_utf8_lossy(&plan.stderr));
    let plan: Value = serde_json::from_slice(&plan.stdout).unwrap();
    let planned = plan["tasks"].as_array().unwrap();
    assert!(planned.len() >= 10, "the BCSD flow has its tasks: {plan}");

    // Each spec reads back as a task, and the flow rebuilt from the specs alone has the plan's keys.
    let specs: Vec<Task> = planned.iter().map(|t| serde_json::from_value(t["spec"].clone()).unwrap()).collect();
    for (spec, entry) in specs.iter().zip(planned) {
        assert_eq!(serde_json::to_value(spec).unwrap(), entry["spec"], "{} round-trips", spec.id);
        assert_eq!(entry["complete"], false, "{} is not in the empty cache", spec.id);
    }
    let rebuilt = Flow::new("bcsd", specs.clone(), downscale_flows::kinds()).unwrap().keys();
    let planned_keys: HashMap<String, CacheKey> = planned
        .iter()
        .map(|t| (t["spec"]["id"].as_str().unwrap().to_string(), serde_json::from_value(t["key"].clone()).unwrap()))
        .collect();
    assert_eq!(rebuilt, planned_keys);

    // A task whose inputs are not complete is refused (status 2: not executed, no state left), naming what to run
    // first.
    let last = specs.last().unwrap();
    let early =
        command(dir.path(), "task", &param_file).args(["--task", &last.id, "--runtime", "ci"]).output().unwrap();
    assert_eq!(early.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&early.stderr);
    assert!(stderr.starts_with("error: ") && stderr.contains("run that task first"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    let store = ArtifactStore::new(&dir.path().join("intermediate").to_string_lossy()).unwrap();
    for spec in &specs {
        let output = command(dir.path(), "task", &param_file).args(["--task", &spec.id, "--runtime", "ci"]).output();
        let output = output.unwrap();
        assert!(output.status.success(), "{}: {}", spec.id, String::from_utf8_lossy(&output.stderr));
        let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(printed["key"], serde_json::to_value(&planned_keys[&spec.id]).unwrap(), "{}", spec.id);
        assert_eq!(printed["report"]["state"], "succeeded", "{}", spec.id);
        let state = store.state(&spec.name, &planned_keys[&spec.id]).unwrap().expect("the task left its state");
        assert_eq!((state.task_id.as_str(), state.report.state), (spec.id.as_str(), TaskState::Succeeded));
        assert_ne!(state.pid, std::process::id(), "another process executed it");
        assert!(state.report.bytes_written > 0 && state.report.peak_rss_bytes.is_some(), "{state:?}");
    }

    // Asking for what does not exist is refused in one line, exit 2, naming what does.
    for (args, expected) in [
        (["--task", "nope", "--runtime", "ci"].as_slice(), "it has no task 'nope' (its tasks: get_obs, "),
        (&["--task", "bias_correct", "--shard", "7"], "task 'bias_correct' has 1 shard(s), numbered 0 to 0, not 7"),
        (&["--task", "get_obs", "--shard", "0"], "task 'get_obs' is of kind 'get_obs', which is not sharded"),
    ] {
        let refused = command(dir.path(), "task", &param_file).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!((refused.status.code(), stderr.lines().count()), (Some(2), 1), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }

    // A task that fails (its input file is damaged) exits 1 with one error line and leaves its failed state.
    let damaged = tempfile::tempdir().unwrap();
    let catalog = common::damaged_model_catalog(damaged.path());
    let failing = command(damaged.path(), "task", &param_file)
        .args(["--task", "get_experiment_predict", "--runtime", "ci", "--set"])
        .arg(format!("data_catalog.model={}", catalog.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&failing.stderr);
    assert_eq!((failing.status.code(), stderr.lines().count()), (Some(1), 1), "{stderr}");
    assert!(stderr.contains("tas_rcp85_damaged.nc"), "{stderr}");
    let printed: Value = serde_json::from_slice(&failing.stdout).unwrap();
    assert_eq!(printed["report"]["state"], "failed");

    let manifest = run_with_shipped_catalogs(dir.path(), "results", &param_file, &["--runtime", "ci"]);
    let records = Records::open(&dir.path().join("runs.sqlite")).unwrap();
    let run = records.runs(1).unwrap().remove(0);
    let tasks = records.tasks(run.id).unwrap();
    assert_eq!(tasks.len(), specs.len());
    assert!(tasks.iter().all(|t| t.state == TaskState::Cached), "{tasks:?}");
    // The run's log says which process executed each task, from the state it left.
    let logs = records.logs(run.id).unwrap();
    for spec in &specs {
        let line = logs.iter().find(|l| l.task_id.as_deref() == Some(spec.id.as_str())).unwrap();
        assert!(line.message.contains("cached (") && line.message.contains("executed on "), "{}", line.message);
    }
    let (_, expected) = BCSD_DEFAULT_DIGESTS.into_iter().find(|(variable, _)| *variable == "tas").unwrap();
    assert_eq!(digest_of_outputs(&manifest, "tas"), expected);
}
