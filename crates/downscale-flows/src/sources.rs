//! The input data of a run, found in the catalogs: where each dataset is, which variable of the file holds it,
//! and an identity for cache keys. The identity is the catalog row (what the data are) plus the file's size and
//! modification time (which version of them), never the path: moving the data or the catalog keeps the cache, and
//! replacing a file with new data invalidates it.

use std::path::Path;

use downscale_catalog::{Asset, Catalog, Entry, ModelKey, ObsKey, PREDICTORS_FOR_COLUMN, Query};
use serde_json::{Map, Value, json};

use crate::error::FlowError;

/// One input dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// What to open (path or URL).
    pub location: String,
    /// The variable inside the file.
    pub file_variable: String,
    /// The catalog row and the file's version, for cache keys.
    pub identity: Value,
    /// The catalog row's fields (for output names and attributes).
    pub fields: Map<String, Value>,
}

impl Source {
    fn from_entry(entry: &Entry<'_>, variable: &str) -> Result<Source, FlowError> {
        let location = match entry.asset() {
            Asset::Path(path) => path.to_string_lossy().to_string(),
            Asset::Url(url) => url.clone(),
        };
        let fields: Map<String, Value> =
            entry.fields().filter(|(column, _)| *column != "path").map(|(c, v)| (c.to_string(), json!(v))).collect();
        let version = match entry.asset() {
            Asset::Path(path) => file_version(path)?,
            Asset::Url(_) => Value::Null,
        };
        Ok(Source {
            file_variable: entry.variable().unwrap_or(variable).to_string(),
            identity: json!({"row": fields, "version": version}),
            location,
            fields,
        })
    }
}

/// Size and modification time of a file, or of every file of a directory store.
fn file_version(path: &Path) -> Result<Value, FlowError> {
    let missing = |e: std::io::Error| FlowError::Input(format!("{}: {e}", path.display()));
    let metadata = std::fs::metadata(path).map_err(missing)?;
    if metadata.is_file() {
        let modified = metadata.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        return Ok(json!({"bytes": metadata.len(), "modified_ns": modified.map(|d| d.as_nanos().to_string())}));
    }
    let mut entries: Vec<_> = std::fs::read_dir(path).map_err(missing)?.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    let parts: Result<Vec<Value>, FlowError> =
        entries.iter().map(|e| Ok(json!([e.file_name().to_string_lossy(), file_version(&e.path())?]))).collect();
    Ok(Value::Array(parts?))
}

/// The observation dataset of `obs` and `variable`.
pub fn observations(catalog: &Catalog, obs: &str, variable: &str) -> Result<Source, FlowError> {
    let entry = catalog.unique(&ObsKey::new(obs, variable).query()).map_err(|e| FlowError::Input(e.to_string()))?;
    Source::from_entry(&entry, variable)
}

/// The model dataset of one experiment.
pub fn model_run(
    catalog: &Catalog,
    model: &str,
    member: &str,
    table: &str,
    grid: &str,
    experiment: &str,
    variable: &str,
) -> Result<Source, FlowError> {
    let key = ModelKey::new(model, experiment, variable).member(member).table(table).grid(grid);
    let entry = catalog.unique(&key.query()).map_err(|e| FlowError::Input(e.to_string()))?;
    Source::from_entry(&entry, variable)
}

/// The predictor product of `variable` for the observations `obs`: the observation catalog's row of `variable`
/// whose [`PREDICTORS_FOR_COLUMN`] is `obs`; `None` when the catalog has no such column or row.
pub fn predictor_product(catalog: &Catalog, obs: &str, variable: &str) -> Result<Option<Source>, FlowError> {
    if !catalog.columns().iter().any(|c| c == PREDICTORS_FOR_COLUMN) {
        return Ok(None);
    }
    let query = Query::new().eq(PREDICTORS_FOR_COLUMN, obs).eq("variable_id", variable);
    let entries = catalog.search(&query).map_err(|e| FlowError::Input(e.to_string()))?;
    match entries.as_slice() {
        [] => Ok(None),
        [entry] => Source::from_entry(entry, variable).map(Some),
        _ => Err(FlowError::Input(format!(
            "the observation catalog has {} rows of `{variable}` with {PREDICTORS_FOR_COLUMN} `{obs}`; expected one",
            entries.len()
        ))),
    }
}
