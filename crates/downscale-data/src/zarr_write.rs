//! CF-1.8 Zarr v3 output, published atomically.
//!
//! Layout: one group whose root `zarr.json` carries the global attributes and the consolidated metadata of every
//! array, so `xarray.open_zarr(path)` opens it with no arguments. The data variable is float32 (NaN = missing,
//! Blosc/zstd); time is int64 `<unit> since <date>` with its calendar; coordinates are float64 or strings.
//!
//! Atomicity: on a local disk the store is written under a hidden temporary name beside the destination and renamed
//! into place when complete, so a killed writer never leaves a store under the final name. On object storage, where
//! no rename exists, the prefix is cleared first and the root `zarr.json` is written last: a store without it is
//! incomplete by definition, and `validate` says so. Every chunk is written, including all-NaN ones, so "chunk
//! absent" always means "data lost", never "all missing".

use std::sync::Arc;

use ndarray::ArrayD;
use object_store::ObjectStoreExt;
use serde_json::{Map, Value};
use zarrs::array::codec::api::CodecOptions;
use zarrs::array::codec::{BloscCodec, BloscCompressionLevel, BloscCompressor, BloscShuffleMode};
use zarrs::array::{ArrayBuilder, data_type};
use zarrs::array::{ArrayMetadata, ArrayMetadataOptions};
use zarrs::group::GroupBuilder;
use zarrs::metadata::NodeMetadata;
use zarrs::metadata_ext::group::consolidated_metadata::ConsolidatedMetadata;
use zarrs::storage::ReadableWritableListableStorage;

use crate::array::{CoordValues, Coordinate, DataArray};
use crate::attrs::{AttrValue, Attributes};
use crate::backend::zarr_storage;
use crate::calendar::{Calendar, CfDateTime, TimeUnit, TimeUnits};
use crate::chunking::{ChunkLayout, DEFAULT_CHUNK_BYTES, chunk_shape};
use crate::error::{DataError, Result};
use crate::location::Location;

/// CF global attributes every output carries; values from the source file are kept where these are `None`.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    pub title: Option<String>,
    pub institution: Option<String>,
    pub source: Option<String>,
    pub references: Option<String>,
    /// What produced this store (a command line or a task name); prepended to `history` with a UTC time stamp.
    pub history_entry: String,
}

#[derive(Debug, Clone)]
pub struct WriteOptions {
    pub layout: ChunkLayout,
    pub chunk_bytes: usize,
    /// zstd level inside Blosc (1 is fast and already shrinks smooth fields well).
    pub compression_level: u8,
    pub provenance: Provenance,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            layout: ChunkLayout::default(),
            chunk_bytes: DEFAULT_CHUNK_BYTES,
            compression_level: 3,
            provenance: Provenance::default(),
        }
    }
}

/// Writes `array` as a CF Zarr store at `destination`, atomically.
pub fn write_zarr(array: &DataArray, destination: &Location, options: &WriteOptions) -> Result<()> {
    match &destination.local_path {
        Some(final_path) => {
            let staging_name =
                format!(".{}.partial-{}-{}", destination.file_name(), std::process::id(), unique_suffix());
            let staging = destination.sibling(&staging_name);
            let result = write_store(array, &staging, options).and_then(|()| {
                let staging_path = staging
                    .local_path
                    .as_ref()
                    .ok_or_else(|| DataError::write(&destination.display, "no local staging path"))?;
                publish_local(staging_path, final_path).map_err(|e| DataError::write(&destination.display, e))
            });
            if result.is_err()
                && let Some(path) = &staging.local_path
            {
                let _ = std::fs::remove_dir_all(path);
            }
            result
        }
        None => {
            clear_prefix(destination)?;
            write_store(array, destination, options)
        }
    }
}

fn unique_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

/// Renames a finished store into place. An existing store is moved aside first and removed after, so the final name
/// always holds either the old complete store or the new one.
fn publish_local(staging: &std::path::Path, final_path: &std::path::Path) -> std::io::Result<()> {
    if final_path.exists() {
        let name = final_path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let aside = final_path.with_file_name(format!(".{name}.replaced-{}", unique_suffix()));
        std::fs::rename(final_path, &aside)?;
        std::fs::rename(staging, final_path)?;
        if aside.is_dir() { std::fs::remove_dir_all(&aside) } else { std::fs::remove_file(&aside) }
    } else {
        std::fs::rename(staging, final_path)
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
        .map_err(|e| DataError::write(&location.display, e))
}

/// Every key under `prefix`, walking one directory level at a time (which avoids a direct `futures` dependency for
/// draining `list`'s stream).
async fn list_all_keys(
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

fn write_store(array: &DataArray, location: &Location, options: &WriteOptions) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| DataError::write(&location.display, e);
    let storage = zarr_storage(location);
    let codec_options = CodecOptions::default().with_store_empty_chunks(true);

    // Data variable.
    let has_time = array.time.is_some();
    let chunks = chunk_shape(array.shape(), has_time, options.layout, 4, options.chunk_bytes);
    let mut attrs = array.attrs.clone();
    let aux: Vec<&str> =
        array.coords.iter().filter(|c| !(c.dims.len() == 1 && c.dims[0] == c.name)).map(|c| c.name.as_str()).collect();
    if !aux.is_empty() {
        attrs.insert("coordinates".into(), AttrValue::Text(aux.join(" ")));
    }
    let blosc = BloscCodec::new(
        BloscCompressor::Zstd,
        BloscCompressionLevel::try_from(options.compression_level).map_err(|e| err(&e))?,
        None,
        BloscShuffleMode::Shuffle,
        Some(4),
    )
    .map_err(|e| err(&e))?;
    let data_array = ArrayBuilder::new(to_u64(array.shape()), to_u64(&chunks), data_type::float32(), f32::NAN)
        .bytes_to_bytes_codecs(vec![Arc::new(blosc)])
        .dimension_names(Some(array.dims.clone()))
        .attributes(json_attrs(&attrs))
        .build(storage.clone(), &format!("/{}", array.name))
        .map_err(|e| err(&e))?;
    data_array.store_metadata_opt(&metadata_options()).map_err(|e| err(&e))?;
    let mut written = vec![(array.name.clone(), data_array.metadata_opt(&metadata_options()))];
    let data: ArrayD<f32> = array.data.as_standard_layout().into_owned();
    data_array.store_array_subset_opt(&data_array.subset_all(), data, &codec_options).map_err(|e| err(&e))?;

    // Time.
    if let Some(time) = &array.time {
        let (units, values) = encode_time(time.calendar, &time.dates).map_err(|e| err(&e))?;
        let mut attrs = Attributes::new();
        attrs.insert("units".into(), AttrValue::Text(units.to_string()));
        attrs.insert("calendar".into(), AttrValue::Text(time.calendar.cf_name().into()));
        attrs.insert("standard_name".into(), AttrValue::Text("time".into()));
        attrs.insert("long_name".into(), AttrValue::Text("time".into()));
        attrs.insert("axis".into(), AttrValue::Text("T".into()));
        let dims = [array.dims[0].clone()];
        let time_array = SmallArray {
            path: &format!("/{}", array.dims[0]),
            shape: vec![values.len() as u64],
            dims: &dims,
            attrs: &attrs,
        };
        let metadata =
            time_array.write(&storage, data_type::int64(), 0i64, values, &codec_options).map_err(|e| err(&e))?;
        written.push((array.dims[0].clone(), metadata));
    }

    // Other coordinates.
    for coord in &array.coords {
        let shape = coordinate_shape(array, coord).map_err(|e| err(&e))?;
        let metadata = write_coordinate(&storage, coord, shape, &codec_options).map_err(|e| err(&e))?;
        written.push((coord.name.clone(), metadata));
    }

    // Root group last: global attributes and the consolidated metadata that marks the store complete.
    let mut group = GroupBuilder::new()
        .attributes(json_attrs(&global_attributes(array, &options.provenance)))
        .build(storage.clone(), "/")
        .map_err(|e| err(&e))?;
    let consolidated = ConsolidatedMetadata {
        metadata: written.into_iter().map(|(name, metadata)| (name, NodeMetadata::Array(metadata))).collect(),
        ..ConsolidatedMetadata::default()
    };
    group.set_consolidated_metadata(Some(consolidated));
    group.store_metadata().map_err(|e| err(&e))?;
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

/// CF axis attributes for latitude and longitude, which xarray and plotting tools rely on.
fn axis_attributes(coord: &Coordinate) -> Attributes {
    let mut attrs = coord.attrs.clone();
    let mut set = |k: &str, v: &str| {
        attrs.entry(k.to_string()).or_insert_with(|| AttrValue::Text(v.to_string()));
    };
    let standard_name = coord.attrs.get("standard_name").and_then(AttrValue::as_text).unwrap_or("");
    if matches!(coord.name.as_str(), "lat" | "latitude") || standard_name == "latitude" {
        set("standard_name", "latitude");
        set("units", "degrees_north");
        set("long_name", "latitude");
        if coord.dims.len() == 1 && coord.dims[0] == coord.name {
            set("axis", "Y");
        }
    } else if matches!(coord.name.as_str(), "lon" | "longitude") || standard_name == "longitude" {
        set("standard_name", "longitude");
        set("units", "degrees_east");
        set("long_name", "longitude");
        if coord.dims.len() == 1 && coord.dims[0] == coord.name {
            set("axis", "X");
        }
    }
    // Bounds variables are not carried; a `bounds` attribute naming one would dangle.
    attrs.remove("bounds");
    attrs
}

/// A coordinate's shape: the lengths of its dimensions in the data array (a 1-D coordinate on a dimension the data
/// lacks keeps its own length). Multi-dimensional coordinates (curvilinear lat/lon) need the array's lengths.
fn coordinate_shape(array: &DataArray, coord: &Coordinate) -> std::result::Result<Vec<u64>, String> {
    let shape: Vec<u64> = coord
        .dims
        .iter()
        .map(|dim| match array.axis_of(dim) {
            Some(axis) => array.shape()[axis] as u64,
            None => coord.values.len() as u64,
        })
        .collect();
    let elements: u64 = shape.iter().product();
    if elements != coord.values.len() as u64 {
        return Err(format!("coordinate '{}' has {} values for shape {shape:?}", coord.name, coord.values.len()));
    }
    Ok(shape)
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

/// Chooses `<unit> since <first day, 00:00>` with the coarsest unit that represents every time exactly as an
/// integer (days for daily means stamped at midnight, hours for the 12:00 stamps of CMIP models).
pub fn encode_time(calendar: Calendar, dates: &[CfDateTime]) -> std::result::Result<(TimeUnits, Vec<i64>), String> {
    let reference = dates.first().map_or(CfDateTime::ymd(1970, 1, 1), |d| CfDateTime::ymd(d.year, d.month, d.day));
    for unit in [TimeUnit::Days, TimeUnit::Hours, TimeUnit::Minutes, TimeUnit::Seconds, TimeUnit::Microseconds] {
        let units = TimeUnits { unit, reference };
        let encoded = dates
            .iter()
            .map(|d| calendar.encode(&units, d))
            .collect::<std::result::Result<Vec<f64>, _>>()
            .map_err(|e| e.to_string())?;
        if encoded.iter().all(|x| x.fract() == 0.0 && x.abs() < 9.0e18) {
            return Ok((units, encoded.into_iter().map(|x| x as i64).collect()));
        }
    }
    Err("times cannot be encoded as integers".into())
}

/// The CF global attributes: the source's own, then ours on top.
fn global_attributes(array: &DataArray, provenance: &Provenance) -> Attributes {
    let mut attrs = array.global_attrs.clone();
    let text = |s: &str| AttrValue::Text(s.to_string());
    let ours = [
        ("title", &provenance.title, array.name.as_str()),
        ("institution", &provenance.institution, "unknown"),
        ("source", &provenance.source, "downscale"),
        ("references", &provenance.references, "https://cfconventions.org/"),
    ];
    for (key, value, default) in ours {
        match value {
            Some(v) => {
                attrs.insert(key.into(), text(v));
            }
            None => {
                attrs.entry(key.into()).or_insert_with(|| text(default));
            }
        }
    }
    attrs.insert("Conventions".into(), text("CF-1.8"));
    attrs.insert("version".into(), text(env!("CARGO_PKG_VERSION")));
    let stamp = utc_now();
    let entry = format!("{stamp}: {}", provenance.history_entry);
    let history = match attrs.get("history").and_then(AttrValue::as_text) {
        Some(previous) if !previous.is_empty() => format!("{entry}\n{previous}"),
        _ => entry,
    };
    attrs.insert("history".into(), text(&history));
    attrs
}

/// Current UTC time as `YYYY-MM-DDTHH:MM:SSZ`, through our own calendar (no date crate needed for one stamp).
fn utc_now() -> String {
    let micros = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64);
    match Calendar::ProlepticGregorian.add_microseconds(&CfDateTime::ymd(1970, 1, 1), micros) {
        Ok(d) => format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", d.year, d.month, d.day, d.hour, d.minute, d.second),
        Err(_) => "unknown time".into(),
    }
}
