//! Writing a store block by block: a task computes one time block or spatial tile at a time and hands it over,
//! instead of assembling the whole array in memory first.

use std::ops::Range;
use std::sync::{Mutex, PoisonError};

use ndarray::{ArrayViewD, Slice};
use zarrs::array::codec::api::CodecOptions;
use zarrs::array::{Array, ArrayMetadata, ArraySubset};
use zarrs::storage::{ReadableWritableListableStorage, ReadableWritableListableStorageTraits};

use super::progress::{ChunkProgress, Region, cover};
use super::{
    Companion, WriteOptions, build_data_array, check_template, clear_prefix, metadata_options, publish_local,
    unique_suffix,
};
use crate::array::DataArray;
use crate::backend::zarr_storage;
use crate::error::{DataError, Result};
use crate::location::Location;
use crate::publish::{CreatedFolders, OutputKind, check_destination, remove_stale_stages, staging_name};

/// A CF Zarr store being written block by block, published only when complete.
///
/// Layout, encoding and atomicity are those of [`write_zarr`] (which is this writer with one block): the store is
/// built under a hidden name beside the destination on a local disk and renamed into place by
/// [`ZarrWriter::finish`]; on object storage the root `zarr.json` that marks it complete is written last. A writer
/// dropped before `finish` removes its local staging directory; a killed process leaves only that hidden
/// directory, never a store under the final name.
///
/// Blocks may be written from several threads at once (`&self`), as long as they do not overlap. A chunk that a
/// block covers entirely is encoded and stored by that block alone, in parallel with other blocks. A chunk that
/// several blocks share (blocks not aligned to [`ZarrWriter::chunk_shape`]) is updated by read-modify-write under
/// a lock held by the writer, so such blocks are correct but serialise on their shared chunks: align blocks to
/// chunks for throughput.
///
/// [`write_zarr`]: crate::write_zarr
pub struct ZarrWriter {
    destination: Location,
    /// A hidden sibling of the destination on a local disk; the destination itself on object storage.
    staging: Location,
    storage: ReadableWritableListableStorage,
    /// The template's variable first, then the options' companions.
    variables: Vec<DataVariable>,
    /// The template's labels, without data: written by `finish`.
    labels: DataArray,
    shape: Vec<usize>,
    chunk_shape: Vec<usize>,
    options: WriteOptions,
    codec_options: CodecOptions,
    /// Serialises read-modify-write of chunks that blocks cover in part.
    shared_chunks: Mutex<()>,
    /// Folders made for the destination, removed again if nothing is published.
    created_folders: CreatedFolders,
    published: bool,
    /// Whether other writers fill the same stage ([`ZarrWriter::open_shared`]): then dropping the writer leaves
    /// the stage for them.
    shared: bool,
}

/// One float32 data variable of the store being written.
struct DataVariable {
    name: String,
    array: Array<dyn ReadableWritableListableStorageTraits>,
    metadata: ArrayMetadata,
    /// Which of its chunks are written.
    progress: ChunkProgress,
}

impl ZarrWriter {
    /// Starts a store at `destination` for an array of `shape` labelled like `template` (dims, coordinates for the
    /// full shape, time axis, attributes, global attributes; its data is ignored), encoded per `options`. On object
    /// storage, whatever was under the destination is removed now.
    pub fn create(
        template: &DataArray,
        shape: &[usize],
        destination: &Location,
        options: &WriteOptions,
    ) -> Result<ZarrWriter> {
        let err = |e: &dyn std::fmt::Display| DataError::write(&destination.display, e);
        check_template(template, shape).map_err(|e| err(&e))?;
        check_destination(destination, options.replace, OutputKind::ZarrStore)?;
        let (staging, created_folders) = match &destination.local_path {
            Some(path) => {
                let folders = match path.parent() {
                    Some(parent) => {
                        CreatedFolders::create(parent).map_err(|e| DataError::write_source(&destination.display, e))?
                    }
                    None => CreatedFolders::default(),
                };
                remove_stale_stages(path);
                (destination.sibling(&staging_name(&destination.file_name(), unique_suffix())), folders)
            }
            None => {
                clear_prefix(destination)?;
                (destination.clone(), CreatedFolders::default())
            }
        };
        ZarrWriter::on_stage(template, shape, destination, staging, options, created_folders, false)
    }

    /// A writer of the store for `destination` built under `staging`: the data array's metadata is stored now.
    fn on_stage(
        template: &DataArray,
        shape: &[usize],
        destination: &Location,
        staging: Location,
        options: &WriteOptions,
        created_folders: CreatedFolders,
        shared: bool,
    ) -> Result<ZarrWriter> {
        let err = |e: &dyn std::fmt::Display| DataError::write(&destination.display, e);
        if let Some(chunks) = options.chunk_shape.as_ref().filter(|chunks| chunks.len() != shape.len()) {
            let detail = format!("a chunk shape {chunks:?} for an array of shape {shape:?}");
            return Err(err(&detail));
        }
        let storage = zarr_storage(&staging);
        let chunk_shape = options.chunk_shape_for(template, shape);
        let main = Companion { name: template.name.clone(), attrs: template.attrs.clone() };
        let mut variables = Vec::with_capacity(1 + options.companions.len());
        for variable in std::iter::once(&main).chain(&options.companions) {
            if variables.iter().any(|v: &DataVariable| v.name == variable.name) {
                return Err(err(&format!("the data variable '{}' is named twice", variable.name)));
            }
            let labels =
                DataArray { name: variable.name.clone(), attrs: variable.attrs.clone(), ..shallow_labels(template) };
            let array = build_data_array(&storage, &labels, shape, &chunk_shape, options).map_err(|e| err(&e))?;
            variables.push(DataVariable {
                name: variable.name.clone(),
                metadata: array.metadata_opt(&metadata_options()),
                array,
                progress: ChunkProgress::new(shape, &chunk_shape),
            });
        }
        let writer = ZarrWriter {
            destination: destination.clone(),
            staging,
            storage,
            variables,
            labels: shallow_labels(template),
            shape: shape.to_vec(),
            chunk_shape,
            options: options.clone(),
            codec_options: CodecOptions::default().with_store_empty_chunks(true),
            shared_chunks: Mutex::new(()),
            created_folders,
            published: false,
            shared,
        };
        // From here on a failure drops the writer, which removes the staging directory of a writer of its own.
        for variable in &writer.variables {
            variable.array.store_metadata_opt(&metadata_options()).map_err(|e| err(&e))?;
        }
        Ok(writer)
    }

    /// Opens the stage of a store that several writers fill, each with whole chunks of its own (a task's shards,
    /// in threads or in processes that may run on other machines), and that one of them publishes with
    /// [`finish_shared`](Self::finish_shared) once all are done.
    ///
    /// Every writer opens the stage with the same `template`, `shape` and `options`, so the data array's metadata
    /// each one stores is the same bytes, and nothing already in the stage is removed: chunks written by others
    /// stay. The stage is a fixed hidden sibling of the destination on a local disk (every writer must find it),
    /// the destination itself on object storage; [`clear_shared`](Self::clear_shared) removes it. Chunks must be
    /// written whole: two processes cannot share a chunk's read-modify-write.
    pub fn open_shared(
        template: &DataArray,
        shape: &[usize],
        destination: &Location,
        options: &WriteOptions,
    ) -> Result<ZarrWriter> {
        let err = |e: &dyn std::fmt::Display| DataError::write(&destination.display, e);
        check_template(template, shape).map_err(|e| err(&e))?;
        let staging = shared_stage(destination);
        if let Some(path) = &staging.local_path {
            std::fs::create_dir_all(path).map_err(|e| DataError::write_source(&destination.display, e))?;
        }
        ZarrWriter::on_stage(template, shape, destination, staging, options, CreatedFolders::default(), true)
    }

    /// Publishes a store that shards filled ([`open_shared`](Self::open_shared)): checks that every chunk of the
    /// data array is in the stage, whoever wrote it, then writes time, coordinates and the root metadata and
    /// publishes as [`finish`](Self::finish) does. With a chunk missing, nothing is published and the stage stays.
    pub fn finish_shared(self) -> Result<()> {
        let grid: Vec<u64> =
            self.shape.iter().zip(&self.chunk_shape).map(|(&n, &k)| n.div_ceil(k.max(1)) as u64).collect();
        let total: u64 = grid.iter().product::<u64>() * self.variables.len() as u64;
        let mut missing = Vec::new();
        for variable in &self.variables {
            for index in ArraySubset::new_with_shape(grid.clone()).indices() {
                let key = variable.array.chunk_key(&index);
                let present = self.storage.size_key(&key).map_err(|e| self.error(e))?.is_some();
                if !present {
                    missing.push(key);
                }
            }
        }
        let first = missing.first().map(ToString::to_string);
        self.publish(missing.len(), first, total)
    }

    /// Removes the shared stage of `destination` and what shards wrote into it, so the next shards start afresh.
    pub fn clear_shared(destination: &Location) -> Result<()> {
        shared_stage(destination).remove_all()
    }

    /// Whether shards have started the shared stage of `destination` (and not published it yet, on a local disk).
    pub fn shared_stage_exists(destination: &Location) -> Result<bool> {
        let stage = shared_stage(destination);
        match &stage.local_path {
            Some(path) => Ok(path.exists()),
            None => Ok(stage.total_size()? > 0),
        }
    }

    /// The chunk shape of the data array, so callers can align blocks to chunks.
    pub fn chunk_shape(&self) -> &[usize] {
        &self.chunk_shape
    }

    /// Writes `block` (values in any memory layout) at `offset`, the block's first index on every dimension. Every
    /// element must be written exactly once; writing the very same block again replaces it (a retry), while a block
    /// overlapping another one is an error.
    pub fn write_block(&self, offset: &[usize], block: ArrayViewD<f32>) -> Result<()> {
        self.write_variable_block(&self.variables[0], offset, block)
    }

    /// Writes `block` of the companion variable `name` (one of the options' [`Companion`]s) at `offset`, as
    /// [`write_block`](Self::write_block) does for the main variable.
    pub fn write_companion_block(&self, name: &str, offset: &[usize], block: ArrayViewD<f32>) -> Result<()> {
        let variable = self.variables[1..]
            .iter()
            .find(|v| v.name == name)
            .ok_or_else(|| self.error(format!("the store has no companion variable '{name}'")))?;
        self.write_variable_block(variable, offset, block)
    }

    fn write_variable_block(&self, variable: &DataVariable, offset: &[usize], block: ArrayViewD<f32>) -> Result<()> {
        let region = self.block_region(offset, block.shape())?;
        if region.iter().any(Range::is_empty) {
            return Ok(());
        }
        let cover = cover(&region, &self.shape, &self.chunk_shape);
        let reservation = variable.progress.reserve(&cover).map_err(|e| self.error(e))?;
        let values_in = |part: &Region| {
            block.slice_each_axis(|axis| {
                let (range, start) = (&part[axis.axis.index()], offset[axis.axis.index()]);
                Slice::from(range.start - start..range.end - start)
            })
        };
        let data = &variable.array;
        let stored = (|| {
            // Chunks the block covers entirely are its alone (overlapping blocks were refused): no lock needed.
            if cover.has_whole_chunks() {
                let values = values_in(&cover.whole_region);
                data.store_array_subset_opt(&subset(&cover.whole_region, None), &values, &self.codec_options)?;
            }
            for (index, part) in &cover.parts {
                let values = values_in(part);
                let origin: Vec<usize> = index.iter().zip(&self.chunk_shape).map(|(&c, &k)| c * k).collect();
                let index: Vec<u64> = index.iter().map(|&c| c as u64).collect();
                let _shared = self.shared_chunks.lock().unwrap_or_else(PoisonError::into_inner);
                data.store_chunk_subset_opt(&index, &subset(part, Some(&origin)), &values, &self.codec_options)?;
            }
            Ok::<(), zarrs::array::ArrayError>(())
        })();
        stored.map_err(|e| {
            variable.progress.release(reservation);
            self.error(e)
        })
    }

    /// Checks that every chunk was written, writes time, coordinates and the root metadata (global attributes and
    /// consolidated metadata), and publishes the store. With chunks missing, nothing is published.
    pub fn finish(self) -> Result<()> {
        let per_variable: usize = self.shape.iter().zip(&self.chunk_shape).map(|(&n, &k)| n.div_ceil(k)).product();
        let mut missing = 0;
        let mut first = None;
        for variable in &self.variables {
            let chunks = variable.progress.missing_chunks();
            missing += chunks.len();
            if first.is_none() {
                first = chunks
                    .first()
                    .map(|c| variable.array.chunk_key(&c.iter().map(|&c| c as u64).collect::<Vec<_>>()).to_string());
            }
        }
        let total = (per_variable * self.variables.len()) as u64;
        self.publish(missing, first, total)
    }

    /// Refuses a store with `missing` chunks of `total` (the first named), else writes time, coordinates and the
    /// root metadata and publishes the stage.
    fn publish(mut self, missing: usize, first_missing: Option<String>, total: u64) -> Result<()> {
        if let Some(first) = first_missing {
            return Err(self.error(format!(
                "{missing} of {total} chunks of '{}' were never written (the first is {first}); nothing was published",
                self.labels.name
            )));
        }
        let data_metadata = self.variables.iter().map(|v| (v.name.clone(), v.metadata.clone())).collect();
        super::write_labels(&self.storage, &self.labels, &self.shape, data_metadata, &self.options)
            .map_err(|e| self.error(e))?;
        if let (Some(staging), Some(_)) = (&self.staging.local_path, &self.destination.local_path) {
            if self.shared {
                remove_interrupted_uploads(staging)
                    .map_err(|e| DataError::write_source(&self.destination.display, e))?;
            }
            publish_local(staging, &self.destination, self.options.replace, OutputKind::ZarrStore)?;
        }
        self.published = true;
        self.created_folders.keep();
        Ok(())
    }

    /// The array region `block_shape` covers at `offset`, or an error when it does not fit the array.
    fn block_region(&self, offset: &[usize], block_shape: &[usize]) -> Result<Region> {
        let fits = offset.len() == self.shape.len()
            && block_shape.len() == self.shape.len()
            && offset
                .iter()
                .zip(block_shape)
                .zip(&self.shape)
                .all(|((&o, &n), &len)| o.checked_add(n).is_some_and(|end| end <= len));
        if !fits {
            return Err(self.error(format!(
                "a block of shape {block_shape:?} at offset {offset:?} does not fit the array '{}' of shape {:?} ({})",
                self.labels.name,
                self.shape,
                self.labels.dims.join(", ")
            )));
        }
        Ok(offset.iter().zip(block_shape).map(|(&o, &n)| o..o + n).collect())
    }

    fn error(&self, detail: impl std::fmt::Display) -> DataError {
        DataError::write(&self.destination.display, detail)
    }
}

impl Drop for ZarrWriter {
    fn drop(&mut self) {
        // On object storage the staging area is the destination, which without its root `zarr.json` reads as
        // unfinished; it is cleared by the next writer.
        if !self.published
            && !self.shared
            && self.destination.local_path.is_some()
            && let Some(staging) = &self.staging.local_path
        {
            let _ = std::fs::remove_dir_all(staging);
            self.created_folders.remove();
        }
    }
}

/// Where shards build the store for `destination`: a fixed hidden sibling on a local disk, the destination itself
/// on object storage (where the root `zarr.json`, written last, marks the store complete).
fn shared_stage(destination: &Location) -> Location {
    match destination.local_path {
        Some(_) => destination.sibling(&format!(".{}.shards", destination.file_name())),
        None => destination.clone(),
    }
}

/// Removes what writers killed in the middle of a chunk left under `folder`: on a local disk each chunk is written
/// to `<key>#<n>` and renamed to `<key>` once whole, so a killed writer leaves that temporary file, and a later
/// writer of the same chunk uses another `<n>`. No key of a store this crate writes has a `#` in it.
fn remove_interrupted_uploads(folder: &std::path::Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(folder)? {
        let path = entry?.path();
        if path.is_dir() {
            remove_interrupted_uploads(&path)?;
        } else if path.file_name().is_some_and(|name| {
            name.to_string_lossy().rsplit_once('#').is_some_and(|(_, n)| n.bytes().all(|b| b.is_ascii_digit()))
        }) {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// Everything of `template` but its data, without copying the data.
fn shallow_labels(template: &DataArray) -> DataArray {
    DataArray {
        name: template.name.clone(),
        source: template.source.clone(),
        dims: template.dims.clone(),
        data: ndarray::ArrayD::zeros(vec![0; template.dims.len()]),
        coords: template.coords.clone(),
        time: template.time.clone(),
        attrs: template.attrs.clone(),
        global_attrs: template.global_attrs.clone(),
    }
}

/// The zarrs subset of `region`, relative to `origin` when given (a region inside one chunk).
fn subset(region: &[Range<usize>], origin: Option<&[usize]>) -> ArraySubset {
    ArraySubset::from(region.iter().enumerate().map(|(axis, r)| {
        let base = origin.map_or(0, |o| o[axis]);
        (r.start - base) as u64..(r.end - base) as u64
    }))
}
