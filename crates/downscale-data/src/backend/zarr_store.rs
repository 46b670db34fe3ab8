//! Zarr v2 and v3 stores through `zarrs`, with every byte moving through `object_store`.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use ndarray::ArrayD;
use object_store::ObjectStore;
use object_store::prefix::PrefixStore;
use serde_json::Value;
use zarrs::array::{Array, ArraySubset};
use zarrs::group::Group;
use zarrs::storage::storage_adapter::async_to_sync::{AsyncToSyncBlockOn, AsyncToSyncStorageAdapter};
use zarrs::storage::{
    ListableStorageTraits, ReadableStorageTraits, ReadableWritableListableStorage, StoreKey, StorePrefix,
};
use zarrs_object_store::AsyncObjectStore;

use super::{IO_RUNTIME, RawDataset, RawKind, RawVariable};
use crate::attrs::{AttrValue, Attributes};
use crate::error::{DataError, Result};
use crate::location::Location;

/// Runs zarrs' synchronous API on top of the async object store.
pub(crate) struct BlockOnIoRuntime;

impl AsyncToSyncBlockOn for BlockOnIoRuntime {
    fn block_on<F: core::future::Future>(&self, future: F) -> F::Output {
        IO_RUNTIME.block_on(future)
    }
}

/// A zarrs storage rooted at the store's prefix.
pub(crate) fn zarr_storage(location: &Location) -> ReadableWritableListableStorage {
    let prefixed: PrefixStore<Arc<dyn ObjectStore>> = PrefixStore::new(location.store.clone(), location.key.clone());
    Arc::new(AsyncToSyncStorageAdapter::new(Arc::new(AsyncObjectStore::new(prefixed)), BlockOnIoRuntime))
}

struct ZarrVariable {
    raw: RawVariable,
    array: Array<dyn zarrs::storage::ReadableWritableListableStorageTraits>,
    /// The stored element type as zarr spells it (`float32` in v3, `<f4` in v2).
    data_type: String,
}

/// A Zarr v2 or v3 store, its arrays checked against its consolidated metadata and stored keys.
pub(crate) struct ZarrStore {
    location: Location,
    listing: StoreListing,
    global_attrs: Attributes,
    variables: Vec<ZarrVariable>,
    raw_variables: Vec<RawVariable>,
}

impl ZarrStore {
    /// Opens the store at `location`, refusing one whose arrays and metadata disagree.
    pub(crate) fn open(location: &Location) -> Result<Self> {
        let read_err = |e: &dyn std::fmt::Display| DataError::read(&location.display, e);
        let storage = zarr_storage(location);
        let group = Group::open(storage.clone(), "/").map_err(|e| read_err(&e))?;
        let global_attrs = json_attrs(group.attributes());
        let listing = StoreListing::read(&storage).map_err(|e| read_err(&e))?;
        let mut variables = Vec::new();
        for array in group.child_arrays().map_err(|e| read_err(&e))? {
            let metadata = serde_json::to_value(array.metadata()).map_err(|e| read_err(&e))?;
            let name = array.path().as_str().trim_start_matches('/').to_string();
            if crate::limits::bytes_of(array.shape(), 1).is_none() {
                return Err(DataError::Malformed {
                    path: location.display.clone(),
                    detail: format!(
                        "array '{name}' has the shape {:?}, more elements than can be counted",
                        array.shape()
                    ),
                });
            }
            check_chunk_shape(&array, &location.display, &name)?;
            let mut attrs = json_attrs(array.attributes());
            let dims = dimension_names(&metadata, &mut attrs, array.shape().len(), &name);
            let data_type = data_type_name(&metadata);
            normalise_fill_value(&metadata, &mut attrs, &data_type);
            let raw = RawVariable {
                name,
                dims,
                shape: array.shape().iter().map(|&n| n as usize).collect(),
                kind: kind_of(&data_type),
                attrs,
            };
            variables.push(ZarrVariable { raw, array, data_type });
        }
        variables.sort_by(|a, b| a.raw.name.cmp(&b.raw.name));
        // An array the metadata lists, or whose chunks are there, but that has no metadata file of its own is data
        // lost, not a variable that never was.
        if let Some(lost) = listing.arrays().into_iter().find(|name| !variables.iter().any(|v| &v.raw.name == name)) {
            return Err(DataError::Malformed {
                path: location.display.clone(),
                detail: format!("array '{lost}' has no {} (its metadata file is missing)", listing.metadata_file()),
            });
        }
        let raw_variables = variables.iter().map(|v| v.raw.clone()).collect();
        Ok(ZarrStore { location: location.clone(), listing, global_attrs, variables, raw_variables })
    }

    fn zarr_variable(&self, name: &str) -> Result<&ZarrVariable> {
        self.variable(name)?;
        self.variables.iter().find(|v| v.raw.name == name).ok_or_else(|| DataError::read(&self.location.display, name))
    }

    fn retrieve<T: zarrs::array::ElementOwned>(&self, var: &ZarrVariable, subset: &ArraySubset) -> Result<ArrayD<T>> {
        let element_bytes = std::mem::size_of::<T>() as u64;
        crate::limits::check_read(&self.location.display, &var.raw.name, subset.shape(), element_bytes)?;
        var.array.retrieve_array_subset::<ArrayD<T>>(subset).map_err(|e| {
            DataError::bad_variable(&self.location.display, &var.raw.name, format!("cannot read values: {e}"))
        })
    }
}

/// Refuses an array whose chunks cannot be decoded in memory: zarrs sizes a whole chunk (its shape times the
/// element size) before decoding it, and a damaged `chunks` of 2^64 - 1 overflows that product.
pub(crate) fn check_chunk_shape(
    array: &Array<dyn zarrs::storage::ReadableWritableListableStorageTraits>,
    path: &str,
    name: &str,
) -> Result<()> {
    let first = vec![0u64; array.dimensionality()];
    let shape: Vec<u64> = array
        .chunk_shape(&first)
        .map_err(|e| DataError::bad_variable(path, name, format!("its chunk grid is unusable: {e}")))?
        .iter()
        .map(|n| n.get())
        .collect();
    let element_bytes = array.data_type().fixed_size().unwrap_or(1) as u64;
    crate::limits::check_read(path, name, &shape, element_bytes).map_err(|_| {
        DataError::bad_variable(path, name, format!("its chunks of shape {shape:?} cannot be decoded in memory"))
    })
}

/// The element type as zarr spells it: v3 `"float32"` or `{"name": "fixed_length_utf32", ...}`, v2 `"<f4"`.
fn data_type_name(metadata: &Value) -> String {
    let data_type = metadata.get("data_type").or_else(|| metadata.get("dtype"));
    data_type
        .and_then(|t| t.as_str().or_else(|| t.get("name").and_then(Value::as_str)))
        .unwrap_or("unknown")
        .to_string()
}

fn json_attrs(map: &serde_json::Map<String, Value>) -> Attributes {
    map.iter().filter_map(|(k, v)| AttrValue::from_json(v).map(|v| (k.clone(), v))).collect()
}

/// v3 has `dimension_names`; v2 stores written by xarray carry `_ARRAY_DIMENSIONS`. Unnamed dims get `dim_<i>`.
fn dimension_names(metadata: &Value, attrs: &mut Attributes, ndim: usize, name: &str) -> Vec<String> {
    let from_attr = match attrs.remove("_ARRAY_DIMENSIONS") {
        Some(AttrValue::Texts(names)) => Some(names),
        _ => None,
    };
    let from_metadata = metadata.get("dimension_names").and_then(Value::as_array).map(|names| {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| n.as_str().map_or_else(|| format!("{name}_dim_{i}"), str::to_string))
            .collect()
    });
    from_metadata
        .or(from_attr)
        .filter(|names: &Vec<String>| names.len() == ndim)
        .unwrap_or_else(|| (0..ndim).map(|i| format!("{name}_dim_{i}")).collect())
}

/// Presents the missing-value marker the way xarray interprets each format: Zarr v2's `fill_value` masks data
/// (xarray's default for v2), while in v3 only a `_FillValue` attribute does — which xarray writes base64-encoded.
fn normalise_fill_value(metadata: &Value, attrs: &mut Attributes, data_type: &str) {
    if let Some(AttrValue::Text(encoded)) = attrs.get("_FillValue")
        && let Some(value) = decode_base64_float(encoded)
    {
        attrs.insert("_FillValue".into(), AttrValue::Number(value));
    }
    let is_v2 = metadata.get("zarr_format").and_then(Value::as_u64) == Some(2);
    if is_v2
        && !attrs.contains_key("_FillValue")
        && kind_of(data_type) != RawKind::Text
        && let Some(value) = metadata.get("fill_value").and_then(|v| AttrValue::from_json(v)?.as_number())
    {
        attrs.insert("_FillValue".into(), AttrValue::Number(value));
    }
}

fn decode_base64_float(encoded: &str) -> Option<f64> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    match bytes.len() {
        8 => Some(f64::from_le_bytes(bytes.try_into().ok()?)),
        4 => Some(f64::from(f32::from_le_bytes(bytes.try_into().ok()?))),
        _ => None,
    }
}

fn kind_of(data_type: &str) -> RawKind {
    let t = data_type.trim_start_matches(['<', '>', '|', '=']);
    match t {
        "float32" | "f4" => RawKind::Float32,
        "float64" | "f8" => RawKind::Float64,
        "int8" | "int16" | "int32" | "int64" | "uint8" | "uint16" | "uint32" | "uint64" | "i1" | "i2" | "i4" | "i8"
        | "u1" | "u2" | "u4" | "u8" => RawKind::Integer,
        "string" | "O" | "fixed_length_utf32" => RawKind::Text,
        _ if t.starts_with('U') || t.starts_with('S') => RawKind::Text,
        _ => RawKind::Other,
    }
}

/// The zarrs subset of the hyperslab `start..start + count`.
fn region(start: &[usize], count: &[usize]) -> ArraySubset {
    ArraySubset::from(start.iter().zip(count).map(|(&s, &n)| s as u64..(s + n) as u64))
}

fn cast<T: Copy, U>(a: ArrayD<T>, f: impl Fn(T) -> U) -> ArrayD<U> {
    a.mapv(f)
}

impl RawDataset for ZarrStore {
    fn location(&self) -> &Location {
        &self.location
    }

    fn format_name(&self) -> &'static str {
        "Zarr"
    }

    fn global_attrs(&self) -> &Attributes {
        &self.global_attrs
    }

    fn variables(&self) -> &[RawVariable] {
        &self.raw_variables
    }

    fn read_f32_region(&self, name: &str, start: &[usize], count: &[usize]) -> Result<ArrayD<f32>> {
        let var = self.zarr_variable(name)?;
        match var.raw.kind {
            RawKind::Float32 => self.retrieve::<f32>(var, &region(start, count)),
            _ => Ok(cast(self.read_f64_region(name, start, count)?, |x| x as f32)),
        }
    }

    fn read_f64_region(&self, name: &str, start: &[usize], count: &[usize]) -> Result<ArrayD<f64>> {
        let var = self.zarr_variable(name)?;
        let subset = region(start, count);
        let t = var.data_type.trim_start_matches(['<', '>', '|', '=']);
        match t {
            "float64" | "f8" => self.retrieve::<f64>(var, &subset),
            "float32" | "f4" => Ok(cast(self.retrieve::<f32>(var, &subset)?, f64::from)),
            "int8" | "i1" => Ok(cast(self.retrieve::<i8>(var, &subset)?, f64::from)),
            "int16" | "i2" => Ok(cast(self.retrieve::<i16>(var, &subset)?, f64::from)),
            "int32" | "i4" => Ok(cast(self.retrieve::<i32>(var, &subset)?, f64::from)),
            "int64" | "i8" => Ok(cast(self.retrieve::<i64>(var, &subset)?, |x| x as f64)),
            "uint8" | "u1" => Ok(cast(self.retrieve::<u8>(var, &subset)?, f64::from)),
            "uint16" | "u2" => Ok(cast(self.retrieve::<u16>(var, &subset)?, f64::from)),
            "uint32" | "u4" => Ok(cast(self.retrieve::<u32>(var, &subset)?, f64::from)),
            "uint64" | "u8" => Ok(cast(self.retrieve::<u64>(var, &subset)?, |x| x as f64)),
            other => Err(DataError::bad_variable(
                &self.location.display,
                name,
                format!("data type '{other}' is not numeric"),
            )),
        }
    }

    fn check_stored(&self, name: &str) -> Result<()> {
        let var = self.zarr_variable(name)?;
        let (missing, examples) = self.listing.missing_chunks(&var.array, name, 1);
        if missing == 0 {
            return Ok(());
        }
        Err(DataError::Malformed {
            path: self.location.display.clone(),
            detail: format!(
                "variable '{name}': {missing} of its chunks are missing (the first is {}); a coordinate is never \
                 filled in",
                examples.first().map_or("?", String::as_str)
            ),
        })
    }

    fn read_labels(&self, name: &str) -> Result<Vec<String>> {
        let var = self.zarr_variable(name)?;
        if var.data_type == "fixed_length_utf32" {
            // numpy's `<U` strings, as xarray writes them to v3: NUL-padded code points.
            let values = self.retrieve::<Vec<char>>(var, &var.array.subset_all())?;
            return Ok(values
                .into_iter()
                .map(|chars| chars.into_iter().take_while(|&c| c != '\0').collect())
                .collect());
        }
        let values = self.retrieve::<String>(var, &var.array.subset_all())?;
        Ok(values.into_iter().collect())
    }
}

/// The keys of a store and the arrays its metadata names: what opening and validating compare, so that an array
/// whose own metadata file was lost is found from its listed name or its chunks instead of silently missing.
pub(crate) struct StoreListing {
    /// Every key, relative to the store's root.
    pub(crate) keys: HashSet<String>,
    /// Zarr v3 (a root `zarr.json`) rather than v2.
    pub(crate) is_v3: bool,
    /// Arrays the consolidated metadata lists (v2 `.zmetadata`, v3 the root `zarr.json`).
    pub(crate) listed: BTreeSet<String>,
    /// Why the consolidated metadata could not be read, when it is there but damaged (readers then fall back to
    /// each array's own metadata; `validate` reports it).
    pub(crate) unreadable: Option<String>,
}

impl StoreListing {
    pub(crate) fn read(storage: &ReadableWritableListableStorage) -> std::result::Result<StoreListing, String> {
        let keys: HashSet<String> = storage
            .list_prefix(&StorePrefix::root())
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|k| k.as_str().to_string())
            .collect();
        let is_v3 = keys.contains("zarr.json");
        let consolidated = if is_v3 { "zarr.json" } else { ".zmetadata" };
        let mut unreadable = None;
        let document: Option<Value> = match storage.get(&StoreKey::new(consolidated).map_err(|e| e.to_string())?) {
            Ok(Some(bytes)) => serde_json::from_slice(&bytes)
                .map_err(|e| unreadable = Some(format!("{consolidated} is not valid JSON: {e}")))
                .ok(),
            Ok(None) => None,
            Err(e) => return Err(e.to_string()),
        };
        let listed = match (&document, is_v3) {
            (Some(root), true) => root
                .pointer("/consolidated_metadata/metadata")
                .and_then(Value::as_object)
                .map(|entries| {
                    entries
                        .iter()
                        .filter(|(name, node)| !name.contains('/') && node["node_type"] == "array")
                        .map(|(name, _)| name.clone())
                        .collect()
                })
                .unwrap_or_default(),
            (Some(zmetadata), false) => zmetadata
                .get("metadata")
                .and_then(Value::as_object)
                .map(|entries| {
                    entries
                        .keys()
                        .filter_map(|key| key.strip_suffix("/.zarray"))
                        .filter(|name| !name.contains('/'))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            (None, _) => BTreeSet::new(),
        };
        Ok(StoreListing { keys, is_v3, listed, unreadable })
    }

    /// The metadata file every array has.
    pub(crate) fn metadata_file(&self) -> &'static str {
        if self.is_v3 { "zarr.json" } else { ".zarray" }
    }

    /// Every top-level array the store should hold: those the consolidated metadata lists, and every folder holding
    /// chunks.
    pub(crate) fn arrays(&self) -> BTreeSet<String> {
        let with_chunks = self.keys.iter().filter_map(|key| {
            let (name, rest) = key.split_once('/')?;
            self.is_chunk_key(rest).then(|| name.to_string())
        });
        self.listed.iter().cloned().chain(with_chunks).collect()
    }

    /// Whether `key`, relative to an array, names a chunk: `c` or `c/…` in v3, dot- or slash-separated indices in v2.
    fn is_chunk_key(&self, key: &str) -> bool {
        if self.is_v3 {
            key == "c" || key.starts_with("c/")
        } else {
            !key.is_empty()
                && key.split(['.', '/']).all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        }
    }

    /// How many chunks of `array` (named `name`) are not stored, and the keys of the first `limit` of them. The walk
    /// over the chunk grid never visits more indices than the array has chunks stored (plus `limit`), so a damaged
    /// shape of 2^62 is answered at once: by the pigeonhole principle that many indices hold `limit` missing ones.
    pub(crate) fn missing_chunks(
        &self,
        array: &Array<dyn zarrs::storage::ReadableWritableListableStorageTraits>,
        name: &str,
        limit: usize,
    ) -> (u64, Vec<String>) {
        let grid = array.chunk_grid_shape().to_vec();
        let stored = self
            .keys
            .iter()
            .filter(|key| {
                key.strip_prefix(name).and_then(|k| k.strip_prefix('/')).is_some_and(|k| self.is_chunk_key(k))
            })
            .count() as u64;
        let expected = crate::limits::bytes_of(&grid, 1).unwrap_or(u64::MAX);
        let walk = if expected <= stored { expected } else { stored.saturating_add(limit as u64).min(expected) };
        let mut examples = Vec::new();
        let mut found = 0u64;
        let mut indices = vec![0u64; grid.len()];
        for _ in 0..walk {
            let key = array.chunk_key(&indices);
            if self.keys.contains(key.as_str()) {
                found += 1;
            } else if examples.len() < limit {
                examples.push(key.as_str().to_string());
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
        // A partial walk saw `found` of the stored chunks; the ones beyond it are counted as stored too.
        let present = if walk == expected { found } else { stored };
        (expected - present.min(expected), examples)
    }
}
