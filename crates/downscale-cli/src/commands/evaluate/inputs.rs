//! What an evaluation reads, found through a run's manifest: its stores, its land mask, the raw model it read,
//! the days its output must hold, and the historical run a scenario run is compared with.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use downscale_data::calendar::CfDateTime;
use downscale_data::{Location, read_variable};
use downscale_engine::Manifest;
use downscale_evaluate::{ExpectedDays, Land};

use super::super::ConfigArgs;
use super::super::flow_setup::storage_location;

/// The manifest `run` names: a manifest file, or the last successful run of a run id under `storage.results`.
pub(super) fn load_manifest(run: &str, config: &ConfigArgs) -> Result<Manifest> {
    let path = PathBuf::from(run);
    let (bytes, name) = if path.is_file() {
        (std::fs::read(&path).with_context(|| format!("{run}: cannot read the manifest"))?, run.to_string())
    } else if run.ends_with(".json") {
        bail!("{run}: no such manifest file");
    } else {
        let results = storage_location(&config.load()?, "results")?;
        let location = results.child(&format!("runs/{run}/latest.json"));
        let bytes = location.read_bytes()?.ok_or_else(|| {
            anyhow!("run '{run}' has no successful run under {} (no {})", results.display, location.display)
        })?;
        (bytes, location.display)
    };
    serde_json::from_slice(&bytes).map_err(|e| anyhow!("{name}: not a run manifest: {e}"))
}

pub(super) fn dataset(manifest: &Manifest, name: &str) -> Result<String> {
    manifest.datasets.get(name).cloned().ok_or_else(|| {
        anyhow!("{}: the manifest lists no '{name}' dataset, which an evaluation reads", manifest.run_id)
    })
}

pub(super) fn intermediate(manifest: &Manifest, task: &str) -> Result<String> {
    manifest.intermediates.get(task).cloned().ok_or_else(|| {
        anyhow!("{}: the manifest lists no '{task}' intermediate, which an evaluation reads", manifest.run_id)
    })
}

/// The name of the bilinear baseline in the evaluation.
pub(super) const BILINEAR: &str = "bilinear";

/// The raw model's field of the predicted variable for the predicted period, when the flow read one
/// (`get_experiment_predict` in BCSD, `get_experiment_predict_<variable>` in GARD when it is a predictor).
pub(super) fn raw_model(manifest: &Manifest, variable: &str) -> Option<String> {
    let tasks = ["get_experiment_predict".to_string(), format!("get_experiment_predict_{variable}")];
    tasks.iter().find_map(|task| manifest.intermediates.get(task).cloned())
}

/// The run's land mask, or where the observations have values when the flow made none.
pub(super) fn land_mask(manifest: &Manifest, observations: &str, variable: &str) -> Result<Land> {
    match manifest.intermediates.get("land_mask") {
        Some(mask) => {
            let array = read_variable(mask, "land")?;
            Ok(Land::from_fraction(&array.data.iter().copied().collect::<Vec<_>>()))
        }
        None => coverage(observations, variable),
    }
}

/// The cells where the observations have at least one value.
pub(super) fn coverage(observations: &str, variable: &str) -> Result<Land> {
    let matrix = read_variable(observations, variable)?.time_point_matrix();
    Ok(Land::from_flags(matrix.columns().into_iter().map(|c| c.iter().any(|v| v.is_finite())).collect()))
}

/// The days the output must hold: those of the raw model read for the predicted period, in the predicted years.
pub(super) fn expected_days(manifest: &Manifest) -> Result<Option<ExpectedDays>> {
    let Some((_, model)) = manifest.intermediates.iter().find(|(task, _)| task.starts_with("get_experiment_predict"))
    else {
        return Ok(None);
    };
    let variable = downscale_data::decode::data_variables(&*downscale_data::backend::open(&Location::parse(model)?)?)
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("{model}: no data variable"))?;
    let reader = downscale_data::VariableReader::open(model, &variable)?;
    let Some(time) = &reader.template().time else { return Ok(None) };
    let dates: Vec<&CfDateTime> = time.dates.iter().collect();
    let (Some(first), Some(last)) = (dates.first(), dates.last()) else { return Ok(None) };
    let mut months = [false; 12];
    for date in &dates {
        months[date.month as usize - 1] = true;
    }
    Ok(Some(ExpectedDays { first: **first, last: **last, months }))
}

/// The parameters that must agree between a scenario run and the historical run it is compared with: all but the
/// scenario and the predicted years.
const SHARED_PARAMETERS: [&str; 13] = [
    "method",
    "obs",
    "model",
    "member",
    "grid_label",
    "table_id",
    "variable",
    "latmin",
    "latmax",
    "lonmin",
    "lonmax",
    "train_dates",
    "features",
];

/// The historical run a scenario run's change is measured from: `given` (a run id or manifest file), or the last
/// successful run under the same results folder whose parameters agree but for the scenario and the predicted
/// years. `None` (with the reason) when the run is historical itself or no such run is found.
pub(super) fn historical_run(
    manifest: &Manifest,
    manifest_file: Option<&Path>,
    given: Option<&str>,
    config: &ConfigArgs,
) -> Result<Result<Manifest, String>> {
    let scenario = manifest.parameters.get("scenario").and_then(|v| v.as_str()).unwrap_or_default();
    if scenario == "historical" {
        return Ok(Err("the run is historical: it has no scenario period to compare".into()));
    }
    if let Some(given) = given {
        let historical = load_manifest(given, config)?;
        if historical.parameters.get("scenario").and_then(|v| v.as_str()) != Some("historical") {
            bail!("--historical {given}: run {} is not a historical run", historical.run_id);
        }
        return Ok(Ok(historical));
    }
    let runs = match manifest_file {
        // `<results>/runs/<run_id>/<file>.json`
        Some(file) => file.parent().and_then(Path::parent).map(Path::to_path_buf),
        None => storage_location(&config.load()?, "results")?.local_path.map(|results| results.join("runs")),
    };
    let Some(runs) = runs else {
        return Ok(Err("the results are not on a local disk: name the historical run with --historical".into()));
    };
    let mut candidates: Vec<PathBuf> = std::fs::read_dir(&runs)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path().join("latest.json"))).collect())
        .unwrap_or_default();
    candidates.sort();
    for candidate in candidates {
        let Ok(bytes) = std::fs::read(&candidate) else { continue };
        let Ok(other) = serde_json::from_slice::<Manifest>(&bytes) else { continue };
        let agrees = SHARED_PARAMETERS.iter().all(|key| other.parameters.get(key) == manifest.parameters.get(key));
        if agrees
            && other.failure.is_none()
            && other.parameters.get("scenario").and_then(|v| v.as_str()) == Some("historical")
        {
            return Ok(Ok(other));
        }
    }
    Ok(Err(format!(
        "no historical run with the same parameters under {}: run it, or name it with --historical",
        runs.display()
    )))
}
