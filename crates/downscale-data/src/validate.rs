//! Completeness checks for a published store: the failure the original system kept shipping (metadata present,
//! chunks missing or never written) is found here, not by a user months later.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::Value;
use zarrs::array::Array;
use zarrs::group::{Group, GroupMetadata};
use zarrs::storage::{ListableStorageTraits, StorePrefix};

use crate::backend::zarr_storage;
use crate::error::{DataError, Result};
use crate::location::Location;

/// What `validate` found for one array.
#[derive(Debug, Clone)]
pub struct ArrayReport {
    pub name: String,
    pub shape: Vec<u64>,
    pub chunks_expected: u64,
    pub chunks_present: u64,
    /// Keys of the first few missing chunks, to point at the damage.
    pub missing_examples: Vec<String>,
    /// NaN values in float arrays (`None` for other types).
    pub nan_count: Option<u64>,
    pub element_count: u64,
}

#[derive(Debug, Clone)]
pub struct ValidationReport {
    pub store: String,
    pub arrays: Vec<ArrayReport>,
    /// Every inconsistency, one line each; empty means the store is complete.
    pub problems: Vec<String>,
}

impl ValidationReport {
    pub fn is_complete(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks that every chunk of every array exists, that the consolidated metadata matches the arrays, and that
/// dimensions have one length across arrays; counts NaNs.
pub fn validate_store(location: &Location) -> Result<ValidationReport> {
    let read_err = |e: &dyn std::fmt::Display| DataError::read(&location.display, e);
    let storage = zarr_storage(location);
    let present: HashSet<String> = storage
        .list_prefix(&StorePrefix::root())
        .map_err(|e| read_err(&e))?
        .into_iter()
        .map(|k| k.as_str().to_string())
        .collect();

    if present.is_empty() {
        return Err(DataError::NotFound { path: location.display.clone() });
    }
    if !present.contains("zarr.json") && !present.contains(".zgroup") {
        // What a writer killed on object storage leaves: chunks and array metadata, but no root written last.
        return Ok(ValidationReport {
            store: location.display.clone(),
            arrays: Vec::new(),
            problems: vec!["no root zarr.json or .zgroup: the store was never finalised".to_string()],
        });
    }
    let group = Group::open(storage.clone(), "/").map_err(|e| read_err(&e))?;
    let mut problems = Vec::new();
    let consolidated = group.consolidated_metadata();
    if consolidated.is_none() && matches!(group.metadata(), GroupMetadata::V3(_)) {
        problems.push("root zarr.json has no consolidated metadata (the store was not finalised)".to_string());
    }
    // Arrays are found from the keys actually stored, not from the consolidated metadata (which zarrs would
    // otherwise trust): an array whose own metadata file is lost must show up as a problem.
    let metadata_file = if matches!(group.metadata(), GroupMetadata::V3(_)) { "zarr.json" } else { ".zarray" };
    let mut names: BTreeSet<String> = present
        .iter()
        .filter_map(|key| key.strip_suffix(&format!("/{metadata_file}")))
        .filter(|name| !name.contains('/'))
        .map(str::to_string)
        .collect();
    if let Some(consolidated) = &consolidated {
        names.extend(consolidated.metadata.keys().cloned());
    }

    let mut dim_lengths: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut arrays = Vec::new();
    for name in names {
        let key = format!("{name}/{metadata_file}");
        if !present.contains(&key) {
            problems.push(format!("array '{name}': its metadata file {key} is missing"));
            continue;
        }
        let array = Array::open(storage.clone(), &format!("/{name}")).map_err(|e| read_err(&e))?;
        if let Some(consolidated) = &consolidated {
            check_consolidated(&array, &name, consolidated, &mut problems);
        }
        let metadata = serde_json::to_value(array.metadata()).map_err(|e| read_err(&e))?;
        let dims: Vec<String> = metadata
            .get("dimension_names")
            .and_then(Value::as_array)
            .or_else(|| metadata.pointer("/attributes/_ARRAY_DIMENSIONS").and_then(Value::as_array))
            .map(|names| names.iter().filter_map(|n| n.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        for (dim, &len) in dims.iter().zip(array.shape()) {
            match dim_lengths.get(dim) {
                Some((other, owner)) if *other != len => {
                    problems.push(format!("dimension '{dim}' has length {len} in '{name}' but {other} in '{owner}'"))
                }
                Some(_) => {}
                None => {
                    dim_lengths.insert(dim.clone(), (len, name.clone()));
                }
            }
        }
        let report = check_chunks(&array, &name, &present, &metadata).map_err(|e| read_err(&e))?;
        if report.chunks_present < report.chunks_expected {
            problems.push(format!(
                "array '{name}': {} of {} chunks missing (e.g. {})",
                report.chunks_expected - report.chunks_present,
                report.chunks_expected,
                report.missing_examples.join(", ")
            ));
        }
        arrays.push(report);
    }
    arrays.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(ValidationReport { store: location.display.clone(), arrays, problems })
}

fn check_consolidated(
    array: &Array<dyn zarrs::storage::ReadableWritableListableStorageTraits>,
    name: &str,
    consolidated: &zarrs::metadata_ext::group::consolidated_metadata::ConsolidatedMetadata,
    problems: &mut Vec<String>,
) {
    let recorded = consolidated.metadata.get(name).map(|m| serde_json::to_value(m).ok());
    let actual = serde_json::to_value(array.metadata()).ok();
    match recorded {
        None => problems.push(format!("array '{name}' is missing from the consolidated metadata")),
        Some(recorded) if recorded != actual => {
            problems.push(format!("array '{name}': consolidated metadata differs from its zarr.json"))
        }
        Some(_) => {}
    }
}

fn check_chunks(
    array: &Array<dyn zarrs::storage::ReadableWritableListableStorageTraits>,
    name: &str,
    present: &HashSet<String>,
    metadata: &Value,
) -> std::result::Result<ArrayReport, Box<dyn std::error::Error>> {
    let grid: Vec<u64> = array.chunk_grid_shape().to_vec();
    let expected: u64 = grid.iter().product();
    let mut found = 0;
    let mut missing_examples = Vec::new();
    let mut indices = vec![0u64; grid.len()];
    for _ in 0..expected {
        let key = array.chunk_key(&indices);
        if present.contains(key.as_str()) {
            found += 1;
        } else if missing_examples.len() < 3 {
            missing_examples.push(key.as_str().to_string());
        }
        // Odometer increment over the chunk grid.
        for axis in (0..indices.len()).rev() {
            indices[axis] += 1;
            if indices[axis] < grid[axis] {
                break;
            }
            indices[axis] = 0;
        }
    }
    let data_type = metadata.get("data_type").or_else(|| metadata.get("dtype")).and_then(Value::as_str).unwrap_or("");
    let element_count: u64 = array.shape().iter().product();
    // NaNs are counted only when every chunk exists: a missing chunk reads as fill value and would be miscounted.
    let nan_count = if found == expected {
        match data_type.trim_start_matches(['<', '>', '|']) {
            "float32" | "f4" => {
                let values = array.retrieve_array_subset::<Vec<f32>>(&array.subset_all())?;
                Some(values.iter().filter(|x| x.is_nan()).count() as u64)
            }
            "float64" | "f8" => {
                let values = array.retrieve_array_subset::<Vec<f64>>(&array.subset_all())?;
                Some(values.iter().filter(|x| x.is_nan()).count() as u64)
            }
            _ => None,
        }
    } else {
        None
    };
    Ok(ArrayReport {
        name: name.to_string(),
        shape: array.shape().to_vec(),
        chunks_expected: expected,
        chunks_present: found,
        missing_examples,
        nan_count,
        element_count,
    })
}
