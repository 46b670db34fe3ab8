//! CF-1.8 Zarr v3 output, published atomically.
//!
//! Layout: one group whose root `zarr.json` carries the global attributes and the consolidated metadata of every
//! array, so `xarray.open_zarr(path)` opens it with no arguments. The data variable is float32 (NaN = missing,
//! Blosc with zstd or LZ4, see [`Compression`]); time is int64 `<unit> since <date>` with its calendar; coordinates
//! are float64 or strings.
//!
//! Atomicity: on a local disk the store is written under a hidden temporary name beside the destination and renamed
//! into place when complete, so a killed writer never leaves a store under the final name. On object storage, where
//! no rename exists, the prefix is cleared first and the root `zarr.json` is written last: a store without it is
//! incomplete by definition, and `validate` says so. Every chunk is written, including all-NaN ones, so "chunk
//! absent" always means "data lost", never "all missing".
//!
//! [`ZarrWriter`] writes a store block by block; [`write_zarr`] is that writer with a single block, so both produce
//! the same stores.

mod progress;
mod writer;

pub use writer::ZarrWriter;

use std::sync::Arc;

use ndarray::ArrayD;
use object_store::ObjectStoreExt;
use serde_json::{Map, Value};
use zarrs::array::codec::api::CodecOptions;
use zarrs::array::codec::{BloscCodec, BloscCompressionLevel, BloscCompressor, BloscShuffleMode};
use zarrs::array::{Array, ArrayBuilder, data_type};
use zarrs::array::{ArrayMetadata, ArrayMetadataOptions};
use zarrs::group::GroupBuilder;
use zarrs::metadata::NodeMetadata;
use zarrs::metadata_ext::group::consolidated_metadata::ConsolidatedMetadata;
use zarrs::storage::{ReadableWritableListableStorage, ReadableWritableListableStorageTraits};

use crate::array::{CoordValues, Coordinate, DataArray};
use crate::attrs::{AttrValue, Attributes};
use crate::cf_encode::{Provenance, axis_attributes, encode_time, global_attributes};
use crate::chunking::{ChunkLayout, DEFAULT_CHUNK_BYTES};
use crate::error::{DataError, Result};
use crate::location::Location;
use crate::publish::{OutputKind, Replace, check_destination};

/// How a store is written: its chunks, compression, provenance and what it may replace.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// Which axes a chunk spans whole: all of space (maps) or all of time (series).
    pub layout: ChunkLayout,
    /// The uncompressed size a chunk aims at, in bytes.
    pub chunk_bytes: usize,
    /// An explicit chunk shape, in place of `layout` and `chunk_bytes` (each axis clipped to `1..=` its length):
    /// for a store whose chunks must follow another's, as a summary's follow its daily store's tiles.
    pub chunk_shape: Option<Vec<usize>>,
    /// How the float32 data variable's chunks are compressed.
    pub compression: Compression,
    /// The CF global attributes and the history entry of the store.
    pub provenance: Provenance,
    /// What may be replaced at the destination: by default only a store this tool wrote.
    pub replace: Replace,
    /// The store's further data variables, beside the one its template names (none by default).
    pub companions: Vec<Companion>,
}

/// A further float32 data variable of a store: the dims, shape, chunks and coding of the main one, a name and
/// attributes of its own. A method whose outputs come from one computation (a regression's prediction, its error and
/// a probability) writes them as one dataset, block by block, from the same pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Companion {
    /// The variable's name in the store.
    pub name: String,
    /// Its attributes (`units`, `long_name`, ...).
    pub attrs: Attributes,
}

/// The data variable's compressor, always inside Blosc with byte shuffle (which every Zarr reader has).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// zstd at Blosc's `level` (Blosc runs zstd at level `2 * level - 1`): for stores that are kept, copied and read
    /// many times. Level 2 (zstd 3), the default, made BCSD's daily output as small as level 3 (zstd 5) did in two
    /// thirds of the time.
    Zstd {
        /// Blosc's compression level, 0 (none) to 9.
        level: u8,
    },
    /// LZ4 at Blosc's `level`: several times faster than zstd to code, at larger sizes. For a flow's intermediates,
    /// read once or twice from the local cache; level 5 is zarr-python's default, the codec the original's
    /// intermediates had.
    Lz4 {
        /// Blosc's compression level, 0 (none) to 9.
        level: u8,
    },
}

impl Default for Compression {
    fn default() -> Self {
        Compression::Zstd { level: 2 }
    }
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            layout: ChunkLayout::default(),
            chunk_bytes: DEFAULT_CHUNK_BYTES,
            chunk_shape: None,
            compression: Compression::default(),
            provenance: Provenance::default(),
            replace: Replace::default(),
            companions: Vec::new(),
        }
    }
}

impl WriteOptions {
    /// The chunk shape of the data array of `shape` labelled like `template`: the explicit one clipped to the
    /// shape, or the layout's for `chunk_bytes`. A function of the options and the shape alone, so that every
    /// process writing shards of one store agrees on it.
    pub fn chunk_shape_for(&self, template: &DataArray, shape: &[usize]) -> Vec<usize> {
        match &self.chunk_shape {
            Some(chunks) => chunks.iter().zip(shape).map(|(&c, &n)| c.clamp(1, n.max(1))).collect(),
            None => crate::chunking::chunk_shape(shape, template.time.is_some(), self.layout, 4, self.chunk_bytes),
        }
    }
}

/// Writes `array` as a CF Zarr store at `destination`, atomically.
pub fn write_zarr(array: &DataArray, destination: &Location, options: &WriteOptions) -> Result<()> {
    let writer = ZarrWriter::create(array, array.shape(), destination, options)?;
    writer.write_block(&vec![0; array.data.ndim()], array.data.view())?;
    writer.finish()
}

pub(crate) fn unique_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

/// Renames a finished store (or file) into place. What is at `final_path` is checked once more against `replace`
/// (it may have appeared while the output was computed); an existing output is moved aside first and removed
/// after, so the final name always holds either the old complete output or the new one.
pub(crate) fn publish_local(
    staging: &std::path::Path,
    destination: &Location,
    replace: Replace,
    kind: OutputKind,
) -> Result<()> {
    let final_path = destination.local_path.as_deref().expect("local publishing has a local destination");
    check_destination(destination, replace, kind)?;
    let err = |e: std::io::Error| DataError::write_source(&destination.display, e);
    if std::fs::symlink_metadata(final_path).is_ok() {
        let name = final_path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let aside = final_path.with_file_name(format!(".{name}.replaced-{}", unique_suffix()));
        std::fs::rename(final_path, &aside).map_err(err)?;
        if let Err(e) = std::fs::rename(staging, final_path) {
            // Put the old output back: a failed publication changes nothing.
            let _ = std::fs::rename(&aside, final_path);
            return Err(err(e));
        }
        if aside.is_dir() { std::fs::remove_dir_all(&aside) } else { std::fs::remove_file(&aside) }.map_err(err)
    } else {
        std::fs::rename(staging, final_path).map_err(err)
    }
}

fn clear_prefix(location: &Location) -> Result<()> {
    let store = location.store.clone();
    let prefix = location.key.clone();
    crate::backend::IO_RUNTIME
        .block_on(async move {
            for key in list_all_keys(&store, &prefix).await? {
                store.delete(&key).await?;
            }
            Ok::<(), object_store::Error>(())
        })
        .map_err(|e| DataError::write_source(&location.display, e))
}

/// Every key under `prefix`, walking one directory level at a time (which avoids a direct `futures` dependency for
/// draining `list`'s stream).
pub(crate) async fn list_all_keys(
    store: &Arc<dyn object_store::ObjectStore>,
    prefix: &object_store::path::Path,
) -> object_store::Result<Vec<object_store::path::Path>> {
    let mut keys = Vec::new();
    let mut pending = vec![prefix.clone()];
    while let Some(dir) = pending.pop() {
        let listing = store.list_with_delimiter(Some(&dir)).await?;
        keys.extend(listing.objects.into_iter().map(|o| o.location));
        pending.extend(listing.common_prefixes);
    }
    Ok(keys)
}

/// Refuses a template whose labels do not fit `shape`, before anything is written.
fn check_template(template: &DataArray, shape: &[usize]) -> std::result::Result<(), String> {
    if template.dims.len() != shape.len() {
        return Err(format!(
            "'{}' has {} dimensions ({}) but the shape {shape:?} has {}",
            template.name,
            template.dims.len(),
            template.dims.join(", "),
            shape.len()
        ));
    }
    if let (Some(time), Some(&steps)) = (&template.time, shape.first())
        && time.dates.len() != steps
    {
        return Err(format!("the time axis has {} steps but the shape {shape:?} has {steps}", time.dates.len()));
    }
    for coord in &template.coords {
        coord.shape_in(&template.dims, shape)?;
    }
    Ok(())
}

/// The float32 data variable (NaN = missing, Blosc with the options' compressor), with its metadata not yet stored.
fn build_data_array(
    storage: &ReadableWritableListableStorage,
    template: &DataArray,
    shape: &[usize],
    chunks: &[usize],
    options: &WriteOptions,
) -> std::result::Result<Array<dyn ReadableWritableListableStorageTraits>, Box<dyn std::error::Error>> {
    let mut attrs = template.attrs.clone();
    let aux: Vec<&str> = template
        .coords
        .iter()
        .filter(|c| !(c.dims.len() == 1 && c.dims[0] == c.name))
        .map(|c| c.name.as_str())
        .collect();
    if !aux.is_empty() {
        attrs.insert("coordinates".into(), AttrValue::Text(aux.join(" ")));
    }
    let (compressor, level) = match options.compression {
        Compression::Zstd { level } => (BloscCompressor::Zstd, level),
        Compression::Lz4 { level } => (BloscCompressor::LZ4, level),
    };
    let blosc = BloscCodec::new(
        compressor,
        BloscCompressionLevel::try_from(level)
            .map_err(|level| format!("compression level {level} is not a level Blosc accepts"))?,
        None,
        BloscShuffleMode::Shuffle,
        Some(4),
    )?;
    let array = ArrayBuilder::new(to_u64(shape), to_u64(chunks), data_type::float32(), f32::NAN)
        .bytes_to_bytes_codecs(vec![Arc::new(blosc)])
        .dimension_names(Some(template.dims.clone()))
        .attributes(json_attrs(&attrs))
        .build(storage.clone(), &format!("/{}", template.name))?;
    Ok(array)
}

/// Time, the other coordinates, and last the root group: global attributes and the consolidated metadata (with
/// `data_metadata`, the data variables' by name) that mark the store complete.
fn write_labels(
    storage: &ReadableWritableListableStorage,
    labels: &DataArray,
    shape: &[usize],
    data_metadata: Vec<(String, ArrayMetadata)>,
    options: &WriteOptions,
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let codec_options = CodecOptions::default().with_store_empty_chunks(true);
    let mut written = data_metadata;

    if let Some(time) = &labels.time {
        let (units, values) = encode_time(time.calendar, &time.dates)?;
        let mut attrs = Attributes::new();
        attrs.insert("units".into(), AttrValue::Text(units.to_string()));
        attrs.insert("calendar".into(), AttrValue::Text(time.calendar.cf_name().into()));
        attrs.insert("standard_name".into(), AttrValue::Text("time".into()));
        attrs.insert("long_name".into(), AttrValue::Text("time".into()));
        attrs.insert("axis".into(), AttrValue::Text("T".into()));
        let dims = [labels.dims[0].clone()];
        let time_array = SmallArray {
            path: &format!("/{}", labels.dims[0]),
            shape: vec![values.len() as u64],
            dims: &dims,
            attrs: &attrs,
        };
        let metadata = time_array.write(storage, data_type::int64(), 0i64, values, &codec_options)?;
        written.push((labels.dims[0].clone(), metadata));
    }

    for coord in &labels.coords {
        let coord_shape = to_u64(&coord.shape_in(&labels.dims, shape)?);
        let metadata = write_coordinate(storage, coord, coord_shape, &codec_options)?;
        written.push((coord.name.clone(), metadata));
    }

    let mut group = GroupBuilder::new()
        .attributes(json_attrs(&global_attributes(labels, &options.provenance)))
        .build(storage.clone(), "/")?;
    let consolidated = ConsolidatedMetadata {
        metadata: written.into_iter().map(|(name, metadata)| (name, NodeMetadata::Array(metadata))).collect(),
        ..ConsolidatedMetadata::default()
    };
    group.set_consolidated_metadata(Some(consolidated));
    group.store_metadata()?;
    Ok(())
}

/// Array metadata exactly as stored and as consolidated: without zarrs' own `_zarrs` attribute, which would
/// otherwise appear as a variable attribute in xarray and make each array's `zarr.json` differ from its
/// consolidated copy.
fn metadata_options() -> ArrayMetadataOptions {
    ArrayMetadataOptions::default().with_include_zarrs_metadata(false)
}

fn to_u64(shape: &[usize]) -> Vec<u64> {
    shape.iter().map(|&n| n as u64).collect()
}

fn json_attrs(attrs: &Attributes) -> Map<String, Value> {
    attrs.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()
}

fn write_coordinate(
    storage: &ReadableWritableListableStorage,
    coord: &Coordinate,
    shape: Vec<u64>,
    codec_options: &CodecOptions,
) -> std::result::Result<ArrayMetadata, Box<dyn std::error::Error>> {
    let path = format!("/{}", coord.name);
    let attrs = axis_attributes(coord);
    match &coord.values {
        CoordValues::Numbers(values) => {
            let array = SmallArray { path: &path, shape, dims: &coord.dims, attrs: &attrs };
            array.write(storage, data_type::float64(), f64::NAN, values.clone(), codec_options)
        }
        CoordValues::Labels(labels) => {
            let array = SmallArray { path: &path, shape, dims: &coord.dims, attrs: &attrs };
            array.write(storage, data_type::string(), "", labels.clone(), codec_options)
        }
    }
}

/// A coordinate-sized array (time, lat, lon, labels), stored uncompressed in one chunk.
struct SmallArray<'a> {
    path: &'a str,
    shape: Vec<u64>,
    dims: &'a [String],
    attrs: &'a Attributes,
}

impl SmallArray<'_> {
    fn write<T>(
        &self,
        storage: &ReadableWritableListableStorage,
        data_type: zarrs::array::DataType,
        fill_value: impl Into<zarrs::array::builder::ArrayBuilderFillValue>,
        values: Vec<T>,
        codec_options: &CodecOptions,
    ) -> std::result::Result<ArrayMetadata, Box<dyn std::error::Error>>
    where
        ArrayD<T>: zarrs::array::IntoArrayBytes<'static>,
    {
        let chunks: Vec<u64> = self.shape.iter().map(|&n| n.max(1)).collect();
        let array = ArrayBuilder::new(self.shape.clone(), chunks, data_type, fill_value)
            .dimension_names(Some(self.dims.to_vec()))
            .attributes(json_attrs(self.attrs))
            .build(storage.clone(), self.path)?;
        array.store_metadata_opt(&metadata_options())?;
        let shape: Vec<usize> = self.shape.iter().map(|&n| n as usize).collect();
        array.store_array_subset_opt(&array.subset_all(), ArrayD::from_shape_vec(shape, values)?, codec_options)?;
        Ok(array.metadata_opt(&metadata_options()))
    }
}
