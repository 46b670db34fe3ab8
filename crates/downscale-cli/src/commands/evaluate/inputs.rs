//! What an evaluation reads, found through a run's manifest: its stores, its land mask, the raw model it read,
//! the days its output must hold, and the historical run a scenario run is compared with.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use downscale_data::calendar::CfDateTime;
use downscale_data::select::whole;
use downscale_data::units::to_canonical;
use downscale_data::{VariableReader, read_variable};
use downscale_engine::Manifest;
use downscale_evaluate::{Field, Land};

use super::super::ConfigArgs;
use super::super::flow_setup::storage_location;

/// The manifest `run` names: a manifest file, or the last successful run of a run id under `storage.results`.
pub(in crate::commands) fn load_manifest(run: &str, config: &ConfigArgs) -> Result<Manifest> {
    let path = PathBuf::from(run);
    let (bytes, name) = if path.is_file() {
        (std::fs::read(&path).with_context(|| format!("{run}: cannot read the manifest"))?, run.to_string())
    } else if run.ends_with(".json") || run.contains('/') {
        bail!("{run}: no such manifest file (a run id has no '/')");
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

pub(in crate::commands) fn dataset(manifest: &Manifest, name: &str) -> Result<String> {
    manifest.datasets.get(name).cloned().ok_or_else(|| {
        anyhow!("{}: the manifest lists no '{name}' dataset, which an evaluation reads", manifest.run_id)
    })
}

pub(super) fn intermediate(manifest: &Manifest, task: &str) -> Result<String> {
    manifest.intermediates.get(task).cloned().ok_or_else(|| {
        anyhow!("{}: the manifest lists no '{task}' intermediate, which an evaluation reads", manifest.run_id)
    })
}

/// The raw model's field of the predicted variable for the predicted period, when the flow read one
/// (`get_experiment_predict` in BCSD, `get_experiment_predict_<variable>` in GARD when it is a predictor).
pub(super) fn raw_model(manifest: &Manifest, variable: &str) -> Option<String> {
    let tasks = ["get_experiment_predict".to_string(), format!("get_experiment_predict_{variable}")];
    tasks.iter().find_map(|task| manifest.intermediates.get(task).cloned())
}

/// The raw model's field of the variable for the training years, when the flow read one (`get_experiment_train`
/// in BCSD, `get_experiment_train_<variable>` in GARD when it is a predictor).
pub(super) fn raw_model_train(manifest: &Manifest, variable: &str) -> Option<String> {
    let tasks = ["get_experiment_train".to_string(), format!("get_experiment_train_{variable}")];
    tasks.iter().find_map(|task| manifest.intermediates.get(task).cloned())
}

/// The run's land mask, or where the observations have values when the flow made none.
pub(super) fn land_mask(manifest: &Manifest, observed: &Field) -> Result<Land> {
    match manifest.intermediates.get("land_mask") {
        Some(mask) => {
            let array = read_variable(mask, "land")?;
            Ok(Land::from_fraction(&array.data.iter().copied().collect::<Vec<_>>()))
        }
        None => coverage(observed),
    }
}

/// The cells where the observations have at least one value.
pub(super) fn coverage(observed: &Field) -> Result<Land> {
    Ok(Land::from_flags(observed.cells_with_values()?))
}

/// The first and last year the run predicted (`predict_dates`, years or dates starting with the year).
pub(super) fn predicted_years(manifest: &Manifest) -> Result<(i32, i32)> {
    let dates = manifest.parameters.get("predict_dates").and_then(|v| v.as_array());
    let year = |k: usize| {
        dates
            .and_then(|d| d.get(k))
            .and_then(|v| v.as_str())
            .and_then(|text| text.get(..4))
            .and_then(|year| year.parse::<i32>().ok())
    };
    match (year(0), year(1)) {
        (Some(first), Some(last)) => Ok((first, last)),
        _ => bail!("{}: the parameters' 'predict_dates' are not two years or dates: pass --obs-years", manifest.run_id),
    }
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

/// The observations to score a run's output against over `years` (inclusive): those the flow read (`get_obs`) when
/// they hold both years, otherwise the same observations read from the observation catalog for those years, cut to
/// the run's box as the flow cuts them, in canonical units (a run predicting held-out years, as a perfect-prognosis
/// check does). Returns where they came from and the field.
pub(super) fn observations(
    manifest: &Manifest,
    variable: &str,
    years: (i32, i32),
    config: &ConfigArgs,
) -> Result<(String, Field)> {
    let flow_read = intermediate(manifest, "get_obs")?;
    let field = Field::open(&flow_read, variable)?;
    if field.holds_years(years)? {
        // Held in memory: the QDM baseline trains on the same observations, so they are read once.
        return Ok((flow_read.clone(), Field::InMemory(read_variable(&flow_read, variable)?)));
    }
    let text = |key: &str| manifest.parameters.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let number =
        |key: &str| text(key).parse::<f64>().map_err(|_| anyhow!("{}: '{key}' is not a number", manifest.run_id));
    // Without the catalog or the observations in it, the output is scored over the days the flow read, if any.
    let catalog = match config.load().and_then(|config| super::super::open_catalog(&config, "data_catalog.obs")) {
        Ok(catalog) => catalog,
        Err(error) => {
            eprintln!("warning: observations of {}-{} not read from the catalog: {error:#}", years.0, years.1);
            return Ok((flow_read, field));
        }
    };
    let Ok(source) = downscale_flows::sources::observations(&catalog, &text("obs"), variable) else {
        return Ok((flow_read, field));
    };
    let reader = VariableReader::open(&source.location, &source.file_variable)?;
    let template = reader.template();
    let Ok(steps) = template.year_steps(years.0, years.1) else { return Ok((flow_read, field)) };
    let mut ranges = whole(reader.shape());
    ranges[0] = steps;
    let bbox = [number("latmin")?, number("latmax")?, number("lonmin")?, number("lonmax")?];
    for (axis, range) in template.box_cells([bbox[0], bbox[1]], [bbox[2], bbox[3]], 0)? {
        ranges[axis] = range;
    }
    let mut array = reader.read_block(&ranges)?;
    to_canonical(&mut array)?;
    if let Some(time) = &mut array.time {
        for date in &mut time.dates {
            *date = CfDateTime::ymd(date.year, date.month, date.day);
        }
    }
    array.name = variable.to_string();
    Ok((source.location, Field::InMemory(array)))
}
