//! Where a run id stands, read from the run records and the published results together: `downscale batch` runs
//! again only what is not done, and `downscale batch status` shows it. Neither source is enough alone: the records
//! outlive results that were deleted or moved away, and results copied from another machine have no record here. So
//! a run is done only when its newest record succeeded and the manifest of its last success, and every output that
//! manifest names, are still published.

use downscale_data::Location;

use crate::error::EngineError;
use crate::manifest::{Manifest, latest_manifest};
use crate::records::{Records, RunRecord, RunState};

/// Where a run id stands.
#[derive(Debug, Clone, PartialEq)]
pub enum RunStatus {
    /// Its newest run succeeded and everything it published is there.
    Done(RunRecord),
    /// Its newest run has not finished: its process is working on it, or died on another host (only that host can
    /// tell, see [`RunState::Interrupted`]).
    Running(RunRecord),
    /// Its newest run failed or was interrupted.
    Failed {
        /// That run.
        record: RunRecord,
        /// Why, as one line.
        error: String,
    },
    /// Nothing usable is published: it never ran (`None`), or what its newest run published is gone (`Some`, saying
    /// what is missing), so it has to run again.
    Missing(Option<String>),
}

impl RunStatus {
    /// The status of `run_id`, from `records` and what is published under `results`. `Err` is storage or records
    /// that cannot be read; a manifest that is gone or damaged makes the run [`RunStatus::Missing`].
    pub fn of(run_id: &str, records: &Records, results: &Location) -> Result<RunStatus, EngineError> {
        let Some(record) = records.latest_run(run_id)? else {
            return Ok(RunStatus::Missing(None));
        };
        Ok(match record.state {
            RunState::Running => RunStatus::Running(record),
            RunState::Failed => {
                let error = record.error.clone().unwrap_or_else(|| format!("run {} failed", record.id));
                RunStatus::Failed { record, error }
            }
            RunState::Interrupted => {
                let error = format!("run {} was interrupted before it finished", record.id);
                RunStatus::Failed { record, error }
            }
            RunState::Succeeded => match unpublished(results, run_id)? {
                None => RunStatus::Done(record),
                Some(what) => RunStatus::Missing(Some(format!("run {} succeeded, but {what}", record.id))),
            },
        })
    }

    /// One word for people and scripts: `done`, `running`, `failed` or `missing`.
    pub fn word(&self) -> &'static str {
        match self {
            RunStatus::Done(_) => "done",
            RunStatus::Running(_) => "running",
            RunStatus::Failed { .. } => "failed",
            RunStatus::Missing(_) => "missing",
        }
    }

    /// The newest run of the run id, when there is one.
    pub fn record(&self) -> Option<&RunRecord> {
        match self {
            RunStatus::Done(record) | RunStatus::Running(record) | RunStatus::Failed { record, .. } => Some(record),
            RunStatus::Missing(_) => None,
        }
    }
}

/// What of the last successful run of `run_id` is no longer published under `results`, if anything.
fn unpublished(results: &Location, run_id: &str) -> Result<Option<String>, EngineError> {
    let location = latest_manifest(results, run_id);
    let Some(bytes) = location.read_bytes()? else {
        return Ok(Some(format!("its manifest {} is gone", location.display)));
    };
    let manifest: Manifest = match serde_json::from_slice(&bytes) {
        Ok(manifest) => manifest,
        Err(e) => return Ok(Some(format!("its manifest {} is damaged: {e}", location.display))),
    };
    if let Some(failure) = &manifest.failure {
        return Ok(Some(format!("its manifest {} records a failure in task {}", location.display, failure.task)));
    }
    for output in manifest.datasets.values() {
        if !is_published(&published_location(results, output)?)? {
            return Ok(Some(format!("its output {output} is gone")));
        }
    }
    Ok(None)
}

/// The location of an output the manifest names by its display form: below `results` when it is there, so that the
/// results' object-store options apply to it too.
fn published_location(results: &Location, output: &str) -> Result<Location, EngineError> {
    let prefix = format!("{}/", results.display.trim_end_matches('/'));
    Ok(match output.strip_prefix(&prefix) {
        Some(below) => results.child(below),
        None => Location::parse(output)?,
    })
}

/// Whether a published output is there: a Zarr store's root document, written last when a store is published, or a
/// document output's own object.
fn is_published(location: &Location) -> Result<bool, EngineError> {
    Ok(location.child("zarr.json").version()?.is_some() || location.version()?.is_some())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::manifest::{Failure, write_manifest};
    use crate::records::NewRun;

    /// Records and results in a temporary folder.
    fn setting() -> (tempfile::TempDir, Records, Location) {
        let dir = tempfile::tempdir().unwrap();
        let records = Records::open(&dir.path().join("runs.sqlite")).unwrap();
        let results = Location::parse(dir.path().join("results").to_str().unwrap()).unwrap();
        (dir, records, results)
    }

    /// Records a run of `run_id` that ended as `succeeded` says, publishing a store `out.zarr` and its manifest.
    fn finished_run(records: &Records, results: &Location, run_id: &str, succeeded: bool) -> i64 {
        let run = NewRun { run_id, flow: "f", parameter_file: None, parameters: "{}", runtime: "ci", batch: None };
        let id = records.start_run(&run).unwrap();
        let store = results.child(&format!("{run_id}/out.zarr"));
        store.child("zarr.json").write_bytes(b"{}".to_vec()).unwrap();
        let failure = (!succeeded).then(|| Failure { task: "t".into(), error: "broken input".into() });
        let manifest = Manifest {
            run_id: run_id.into(),
            parameters: serde_json::json!({}),
            attrs: serde_json::json!({}),
            datasets: BTreeMap::from([("daily".to_string(), store.display.clone())]),
            intermediates: BTreeMap::new(),
            cache_keys: BTreeMap::new(),
            failure,
        };
        let path = write_manifest(results, &manifest).unwrap();
        let error = (!succeeded).then_some("task t: broken input");
        records.finish_run(id, succeeded, Some(&path), error).unwrap();
        id
    }

    #[test]
    fn a_run_id_never_run_is_missing_and_one_running_is_running() {
        let (_dir, records, results) = setting();
        assert_eq!(RunStatus::of("r", &records, &results).unwrap(), RunStatus::Missing(None));
        let run = NewRun { run_id: "r", flow: "f", parameter_file: None, parameters: "{}", runtime: "ci", batch: None };
        records.start_run(&run).unwrap();
        assert_eq!(RunStatus::of("r", &records, &results).unwrap().word(), "running");
    }

    #[test]
    fn the_newest_run_decides_and_a_failure_keeps_its_error() {
        let (_dir, records, results) = setting();
        finished_run(&records, &results, "r", true);
        assert_eq!(RunStatus::of("r", &records, &results).unwrap().word(), "done");
        let failed = finished_run(&records, &results, "r", false);
        let status = RunStatus::of("r", &records, &results).unwrap();
        let RunStatus::Failed { record, error } = &status else { panic!("{status:?}") };
        assert_eq!((record.id, error.as_str()), (failed, "task t: broken input"));
    }

    #[test]
    fn a_success_whose_outputs_or_manifest_are_gone_is_missing() {
        let (dir, records, results) = setting();
        let id = finished_run(&records, &results, "r", true);
        std::fs::remove_dir_all(dir.path().join("results/r/out.zarr")).unwrap();
        let RunStatus::Missing(Some(reason)) = RunStatus::of("r", &records, &results).unwrap() else { panic!() };
        assert!(reason.starts_with(&format!("run {id} succeeded, but its output ")), "{reason}");
        assert!(reason.ends_with("results/r/out.zarr is gone"), "{reason}");

        finished_run(&records, &results, "r", true);
        std::fs::write(dir.path().join("results/runs/r/latest.json"), b"{\"run_id\": ").unwrap();
        let RunStatus::Missing(Some(reason)) = RunStatus::of("r", &records, &results).unwrap() else { panic!() };
        assert!(reason.contains("latest.json is damaged"), "{reason}");
        std::fs::remove_file(dir.path().join("results/runs/r/latest.json")).unwrap();
        let RunStatus::Missing(Some(reason)) = RunStatus::of("r", &records, &results).unwrap() else { panic!() };
        assert!(reason.contains("latest.json is gone"), "{reason}");
    }

    #[test]
    fn a_run_id_of_digits_is_not_taken_for_a_record_number() {
        let (_dir, records, results) = setting();
        finished_run(&records, &results, "other", true);
        assert_eq!(RunStatus::of("1", &records, &results).unwrap(), RunStatus::Missing(None));
    }
}
