//! Run manifests: the original's `{"parameters", "attrs", "datasets"}` JSON, plus the cache key of every task
//! (so a result can be traced to the exact intermediates that made it) and, for a failed run, which task failed
//! and why. A finished run's manifest goes to `<results>/runs/<run_id>/<time>.json` and `latest.json`; a failed
//! run's to `<results>/failed-runs/<run_id>/<time>.json`.

use std::collections::BTreeMap;

use downscale_data::Location;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::EngineError;

/// What a run made and from what; written as JSON next to the results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The run it describes; its folder under `runs/` or `failed-runs/`.
    pub run_id: String,
    /// The parameter file's document.
    pub parameters: Value,
    /// The outputs' global attributes.
    pub attrs: Value,
    /// Published outputs by name (`daily`, `monthly`, `annual`).
    pub datasets: BTreeMap<String, String>,
    /// Every task's artifact that exists, by task id.
    pub intermediates: BTreeMap<String, String>,
    /// Every task's cache key, by task id.
    pub cache_keys: BTreeMap<String, String>,
    /// The task that failed, for a failed run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// Which task failed a run, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// The task's id.
    pub task: String,
    /// Its error, as one line.
    pub error: String,
}

/// Writes `manifest` under `results` and returns the location of its time-stamped copy.
pub(crate) fn write_manifest(results: &Location, manifest: &Manifest) -> Result<String, EngineError> {
    let folder = if manifest.failure.is_some() { "failed-runs" } else { "runs" };
    let stamp = chrono::Utc::now().format("%Y-%m-%dT%H-%M-%S%.6fZ");
    let base = results.child(&format!("{folder}/{}", manifest.run_id));
    let json = serde_json::to_vec_pretty(manifest).expect("a manifest serialises");
    let stamped = base.child(&format!("{stamp}.json"));
    stamped.write_bytes(json.clone())?;
    if manifest.failure.is_none() {
        latest_manifest(results, &manifest.run_id).write_bytes(json)?;
    }
    Ok(stamped.display)
}

/// Where the manifest of the last run of `run_id` that succeeded is (`runs/<run_id>/latest.json`).
pub(crate) fn latest_manifest(results: &Location, run_id: &str) -> Location {
    results.child(&format!("runs/{run_id}/latest.json"))
}
