//! The dashboard's tests' world: the records of real runs (one done, one failed, one in progress that the test
//! advances itself) and a `downscale dashboard` process serving them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use downscale_engine::records::NewRun;
use downscale_engine::{Records, TaskState};

use super::{damaged_model_catalog, downscale, iberia_example, shipped_catalog_settings};

/// Real runs recorded under one folder: their cache, results and records.
pub(crate) struct RecordedRuns {
    pub(crate) dir: tempfile::TempDir,
    /// The record number of the run that succeeded (the Iberia tas example on `ci`).
    pub(crate) done: i64,
    /// Its manifest.
    pub(crate) done_manifest: serde_json::Value,
    /// The record number of the run that failed (the same example with its future file damaged).
    pub(crate) failed: i64,
    /// The record number of the run in progress: the done run's flow, planned by this process, which advances it.
    pub(crate) in_progress: i64,
    /// Its tasks in the order planned.
    pub(crate) in_progress_tasks: Vec<String>,
}

impl RecordedRuns {
    pub(crate) fn make() -> RecordedRuns {
        let dir = tempfile::tempdir().unwrap();
        let done_manifest =
            super::run_with_shipped_catalogs(dir.path(), "results", &iberia_example("tas"), &["--runtime", "ci"]);
        let damaged = damaged_model_catalog(dir.path());
        let failing = downscale()
            .args(["run", "--runtime", "ci", "--param-file"])
            .arg(iberia_example("tas"))
            .args(shipped_catalog_settings(dir.path(), "results"))
            .args([
                "--set",
                &format!("data_catalog.model={}", damaged.display()),
                "--set",
                "run_options.use_cache=false",
            ])
            .output()
            .unwrap();
        assert!(!failing.status.success(), "the damaged input fails the run");

        let records = Records::open(&dir.path().join("runs.sqlite")).unwrap();
        let runs = records.runs(10).unwrap();
        let done = runs.iter().find(|r| r.state == downscale_engine::RunState::Succeeded).unwrap().id;
        let failed = runs.iter().find(|r| r.state == downscale_engine::RunState::Failed).unwrap().id;
        // The run in progress is this test process's: its pid is alive, so no reader takes it for interrupted.
        let tasks = records.tasks(done).unwrap();
        let in_progress = records
            .start_run(&NewRun {
                run_id: "in_progress_tas_run",
                flow: "bcsd",
                parameter_file: None,
                parameters: r#"{"method": "bcsd", "variable": "tas", "model": "CNRM-CM5", "scenario": "rcp85"}"#,
                runtime: "ci",
                batch: None,
            })
            .unwrap();
        for task in &tasks {
            let inputs: Vec<&str> = task.inputs.iter().map(String::as_str).collect();
            records.plan_task(in_progress, &task.task_id, &task.name, &task.cache_key, &inputs).unwrap();
        }
        let in_progress_tasks = tasks.into_iter().map(|t| t.task_id).collect();
        RecordedRuns { dir, done, done_manifest, failed, in_progress, in_progress_tasks }
    }

    pub(crate) fn records_path(&self) -> PathBuf {
        self.dir.path().join("runs.sqlite")
    }

    /// The records, for advancing the run in progress.
    pub(crate) fn records(&self) -> Records {
        Records::open(&self.records_path()).unwrap()
    }

    /// Marks task `task` of the run in progress as started, with `done` of 4 tiles done.
    pub(crate) fn advance(&self, task: &str, done: u64) {
        let records = self.records();
        records.task_started(self.in_progress, task).unwrap();
        records.task_tiles(self.in_progress, task, done, 4).unwrap();
        records
            .log(self.in_progress, Some(task), downscale_engine::LogLevel::Info, &format!("{task}: tile {done} of 4"))
            .unwrap();
    }

    /// The state of task `task` of the run in progress, as recorded.
    pub(crate) fn state_of(&self, task: &str) -> TaskState {
        self.records().tasks(self.in_progress).unwrap().into_iter().find(|t| t.task_id == task).unwrap().state
    }
}

/// A `downscale dashboard` process, killed when dropped.
pub(crate) struct DashboardProcess {
    child: Child,
    /// Where it serves, ending in `/`.
    pub(crate) url: String,
}

impl DashboardProcess {
    /// Serves `runs` with `args` after `dashboard`; the storage roots are the runs' own.
    pub(crate) fn start(runs: &RecordedRuns, args: &[&str]) -> DashboardProcess {
        let mut command = Self::command(runs.dir.path(), args);
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url =
            line.trim().strip_prefix("dashboard at ").unwrap_or_else(|| panic!("first line: {line:?}")).to_string();
        DashboardProcess { child, url }
    }

    /// The command serving the records under `dir` with `args` after `dashboard`.
    pub(crate) fn command(dir: &Path, args: &[&str]) -> Command {
        let mut command = downscale();
        command.arg("dashboard").args(args).args(shipped_catalog_settings(dir, "results"));
        command
    }
}

impl Drop for DashboardProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
