//! Completeness checks for a published store: the failure the original system kept shipping (metadata present,
//! chunks missing or never written) is found here, not by a user months later.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use zarrs::array::Array;
use zarrs::group::{Group, GroupMetadata};

use crate::backend::{StoreListing, check_chunk_shape, zarr_storage};
use crate::error::{DataError, Result};
use crate::location::Location;

/// What `validate` found for one array.
#[derive(Debug, Clone)]
pub struct ArrayReport {
    /// The array's path in the store.
    pub name: String,
    /// Its shape, from its metadata.
    pub shape: Vec<u64>,
    /// Chunks its shape and chunk grid call for.
    pub chunks_expected: u64,
    /// Chunks stored and decoding to their full size.
    pub chunks_present: u64,
    /// Keys of the first few missing chunks, to point at the damage.
    pub missing_examples: Vec<String>,
    /// NaN values in float arrays (`None` for other types).
    pub nan_count: Option<u64>,
    /// Elements inside the array's bounds, the denominator of `nan_count`.
    pub element_count: u64,
}

/// What `validate` found for a store.
#[derive(Debug, Clone)]
pub struct ValidationReport {
    /// The store as the user named it.
    pub store: String,
    /// One report per array, in name order.
    pub arrays: Vec<ArrayReport>,
    /// Every inconsistency, one line each; empty means the store is complete.
    pub problems: Vec<String>,
}

impl ValidationReport {
    /// Whether the store has no problem: every chunk there and every metadata consistent.
    pub fn is_complete(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks that every array the metadata lists (or whose chunks are there) has its metadata, that every chunk of
/// every array exists and decodes to its full size, that the consolidated metadata matches the arrays, and that
/// dimensions have one length across arrays; counts NaNs. Chunks are decoded one at a time, so memory stays at one
/// chunk whatever the store's size, and a damaged shape is reported, never walked.
pub fn validate_store(location: &Location) -> Result<ValidationReport> {
    validate_store_to(location, Depth::EveryChunk)
}

/// How far a validation goes into the chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Decode every chunk (and count NaNs): what `validate` does.
    EveryChunk,
    /// Only check that every chunk is stored, for a caller that decodes every chunk itself anyway (an evaluation
    /// reading the whole store), so the store is read once; a chunk that does not decode fails that reading.
    Listing,
}

/// [`validate_store`] to `depth`.
pub fn validate_store_to(location: &Location, depth: Depth) -> Result<ValidationReport> {
    let read_err = |e: &dyn std::fmt::Display| DataError::read(&location.display, e);
    if let Some(path) = &location.local_path
        && path.exists()
        && !path.is_dir()
    {
        return Err(DataError::UnknownFormat {
            path: location.display.clone(),
            detail: "a file, and validate checks Zarr stores, which are folders".into(),
        });
    }
    let storage = zarr_storage(location);
    let listing = StoreListing::read(&storage).map_err(|e| read_err(&e))?;
    let present = &listing.keys;

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
    let mut problems: Vec<String> = listing.unreadable.iter().cloned().collect();
    let consolidated = group.consolidated_metadata();
    if consolidated.is_none() && matches!(group.metadata(), GroupMetadata::V3(_)) {
        problems.push("root zarr.json has no consolidated metadata (the store was not finalised)".to_string());
    }
    // Arrays are found from the keys actually stored and from what the metadata lists, never from one of them
    // alone: an array whose own metadata file is lost must show up as a problem, not as an array that never was.
    let metadata_file = listing.metadata_file();
    let mut names: BTreeSet<String> = present
        .iter()
        .filter_map(|key| key.strip_suffix(&format!("/{metadata_file}")))
        .filter(|name| !name.contains('/'))
        .map(str::to_string)
        .collect();
    names.extend(listing.arrays());
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
        let array = match Array::open(storage.clone(), &format!("/{name}")) {
            Ok(array) => array,
            Err(e) => {
                problems.push(format!("array '{name}': its metadata cannot be read: {e}"));
                continue;
            }
        };
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
        arrays.push(check_chunks(&array, &name, &listing, &location.display, depth, &mut problems));
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

/// Counts `array`'s chunks, then decodes each one (counting NaNs in float arrays): a chunk that is stored but
/// empty, cut short or undecodable is as lost as a missing one.
fn check_chunks(
    array: &Array<dyn zarrs::storage::ReadableWritableListableStorageTraits>,
    name: &str,
    listing: &StoreListing,
    store: &str,
    depth: Depth,
    problems: &mut Vec<String>,
) -> ArrayReport {
    let grid = array.chunk_grid_shape().to_vec();
    let expected = crate::limits::bytes_of(&grid, 1);
    let (missing, missing_examples) = listing.missing_chunks(array, name, 3);
    let element_count = crate::limits::bytes_of(array.shape(), 1).unwrap_or(u64::MAX);
    let mut report = ArrayReport {
        name: name.to_string(),
        shape: array.shape().to_vec(),
        chunks_expected: expected.unwrap_or(u64::MAX),
        chunks_present: expected.unwrap_or(u64::MAX).saturating_sub(missing),
        missing_examples,
        nan_count: None,
        element_count,
    };
    let Some(expected) = expected.filter(|_| element_count != u64::MAX) else {
        problems.push(format!("array '{name}': the shape {:?} has more elements than can be counted", array.shape()));
        return report;
    };
    if let Err(e) = check_chunk_shape(array, store, name) {
        problems.push(e.to_string());
        return report;
    }
    if missing > 0 {
        problems.push(format!(
            "array '{name}': {missing} of {expected} chunks missing (e.g. {})",
            report.missing_examples.join(", ")
        ));
        return report;
    }
    if depth == Depth::Listing {
        return report;
    }
    // NaNs are counted only when every chunk decodes: a lost chunk would read as fill values and be miscounted.
    let data_type = array.data_type();
    let element_bytes = data_type.fixed_size().unwrap_or(1) as u64;
    let is_f32 = *data_type == zarrs::array::data_type::float32();
    let is_f64 = *data_type == zarrs::array::data_type::float64();
    let mut nans = 0u64;
    let mut indices = vec![0u64; grid.len()];
    for _ in 0..expected {
        let key = array.chunk_key(&indices);
        // The part of the chunk inside the array: an edge chunk's padding is fill, not data.
        let subset = match array.chunk_subset_bounded(&indices) {
            Ok(subset) => subset,
            Err(e) => {
                problems.push(format!("array '{name}': chunk {} has no place in the array: {e}", key.as_str()));
                return report;
            }
        };
        let decoded = if crate::limits::check_read(store, name, subset.shape(), element_bytes).is_err() {
            Err(format!("its shape {:?} does not fit in memory", subset.shape()))
        } else if is_f32 {
            array
                .retrieve_array_subset::<Vec<f32>>(&subset)
                .map(|v| count_nans(&v, f32::is_nan))
                .map_err(|e| e.to_string())
        } else if is_f64 {
            array
                .retrieve_array_subset::<Vec<f64>>(&subset)
                .map(|v| count_nans(&v, f64::is_nan))
                .map_err(|e| e.to_string())
        } else {
            array
                .retrieve_array_subset::<zarrs::array::ArrayBytes<'static>>(&subset)
                .map(|_| 0)
                .map_err(|e| e.to_string())
        };
        match decoded {
            Ok(count) => nans += count,
            Err(e) => {
                problems.push(format!("array '{name}': chunk {} cannot be decoded: {e}", key.as_str()));
                return report;
            }
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
    report.nan_count = (is_f32 || is_f64).then_some(nans);
    report
}

fn count_nans<T: Copy>(values: &[T], is_nan: impl Fn(T) -> bool) -> u64 {
    values.iter().filter(|&&x| is_nan(x)).count() as u64
}
