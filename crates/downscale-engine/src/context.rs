//! What a task body sees: its parameters, its inputs' artifacts, where to write, and the runtime's budget. Every
//! read and write goes through here so that the engine can count bytes for the run records.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use downscale_data::{
    DataArray, DataError, Location, VariableReader, WriteOptions, ZarrWriter, read_variable, read_variable_at,
    write_zarr,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::artifact::{Artifact, ArtifactStore};
use crate::error::TaskError;
use crate::flow::{ArtifactKind, Task};
use crate::progress::Progress;
use crate::runtime::Budget;
use crate::shard::Layout;

/// What a task body sees: its parameters, its inputs by role, its budget, and where its artifact goes. Reads and
/// writes go through it, so the engine can count the bytes and check what was written.
pub struct TaskContext<'a> {
    task: &'a Task,
    /// Resolves the inputs' artifacts through the cache's own client.
    artifacts: &'a ArtifactStore,
    inputs: BTreeMap<String, Artifact>,
    output: Location,
    budget: Budget,
    progress: &'a dyn Progress,
    bytes_read: AtomicU64,
    written_variable: Mutex<Option<String>>,
}

impl<'a> TaskContext<'a> {
    pub(crate) fn new(
        task: &'a Task,
        artifacts: &'a ArtifactStore,
        inputs: BTreeMap<String, Artifact>,
        output: Location,
        budget: Budget,
        progress: &'a dyn Progress,
    ) -> TaskContext<'a> {
        TaskContext {
            task,
            artifacts,
            inputs,
            output,
            budget,
            progress,
            bytes_read: AtomicU64::new(0),
            written_variable: Mutex::new(None),
        }
    }

    /// The task's id in its flow, for messages.
    pub fn task_id(&self) -> &str {
        &self.task.id
    }

    /// The task's parameters as its kind's type; parameters of another shape are a wiring error, reported as such.
    pub fn params<T: DeserializeOwned>(&self) -> Result<T, TaskError> {
        T::deserialize(&self.task.params)
            .map_err(|e| TaskError::new(format!("task '{}': its parameters: {e}", self.task.id)))
    }

    /// The data outside the flow the task reads as `role`: where it is (its identity is in the cache key).
    pub fn external(&self, role: &str) -> Result<&str, TaskError> {
        self.task
            .external
            .get(role)
            .map(|data| data.location.as_str())
            .ok_or_else(|| TaskError::new(format!("task '{}' has no external input '{role}'", self.task.id)))
    }

    /// The threads and memory the task may use: it sizes its blocks and tiles from them.
    pub fn budget(&self) -> Budget {
        self.budget
    }

    /// The complete artifact of the input in `role`; a role the task was not wired with is an error.
    pub fn input(&self, role: &str) -> Result<&Artifact, TaskError> {
        self.inputs.get(role).ok_or_else(|| TaskError::new(format!("task '{}' has no input '{role}'", self.task.id)))
    }

    /// A Zarr input's artifact, where it is and its data variable.
    fn data_input(&self, role: &str) -> Result<(&Artifact, Location, &str), TaskError> {
        let artifact = self.input(role)?;
        let variable = artifact
            .variable
            .as_deref()
            .ok_or_else(|| TaskError::new(format!("task '{}': input '{role}' is not a data store", self.task.id)))?;
        Ok((artifact, self.artifacts.location_of(artifact), variable))
    }

    /// The data array of a Zarr input.
    pub fn read_array(&self, role: &str) -> Result<DataArray, TaskError> {
        let (artifact, location, variable) = self.data_input(role)?;
        self.bytes_read.fetch_add(artifact.bytes, Ordering::Relaxed);
        Ok(read_variable_at(&location, variable)?)
    }

    /// A block reader of a Zarr input, for bodies that stream through it; its whole size counts as read.
    pub fn open_input(&self, role: &str) -> Result<VariableReader, TaskError> {
        let (artifact, location, variable) = self.data_input(role)?;
        self.bytes_read.fetch_add(artifact.bytes, Ordering::Relaxed);
        Ok(VariableReader::open_at(&location, variable)?)
    }

    /// A block reader of a Zarr input for a shard that reads only `region` of it: that region's share of the
    /// artifact's size counts as read.
    pub fn open_input_region(&self, role: &str, region: &[Range<usize>]) -> Result<VariableReader, TaskError> {
        let variable = self.data_input(role)?.2.to_owned();
        self.open_input_variable_region(role, &variable, region)
    }

    /// A block reader of the data variable `variable` of a Zarr input, which may be a companion its task wrote beside
    /// the main one ([`downscale_data::Companion`]), for a shard that reads only `region` of it: that region's share
    /// of the whole artifact's size counts as read (for a store of several variables, an upper bound).
    pub fn open_input_variable_region(
        &self,
        role: &str,
        variable: &str,
        region: &[Range<usize>],
    ) -> Result<VariableReader, TaskError> {
        let (artifact, location, _) = self.data_input(role)?;
        let reader = VariableReader::open_at(&location, variable)?;
        let selected = region.iter().map(ExactSizeIterator::len).product::<usize>() as f64;
        let fraction = selected / reader.shape().iter().product::<usize>().max(1) as f64;
        self.bytes_read.fetch_add((artifact.bytes as f64 * fraction).round() as u64, Ordering::Relaxed);
        Ok(reader)
    }

    /// The labels of a Zarr input (dims, coordinates, time axis, attributes) without its values: for tasks that
    /// only need an input's grid or time axis.
    pub fn read_template(&self, role: &str) -> Result<DataArray, TaskError> {
        Ok(self.input_labels(role)?.0)
    }

    /// The labels of a Zarr input and its shape, without its values (the labels' own data is empty).
    pub fn input_labels(&self, role: &str) -> Result<(DataArray, Vec<usize>), TaskError> {
        let (_, location, variable) = self.data_input(role)?;
        let reader = VariableReader::open_at(&location, variable)?;
        Ok((reader.template().clone(), reader.shape().to_vec()))
    }

    /// The document of a JSON input.
    pub fn read_json<T: DeserializeOwned>(&self, role: &str) -> Result<T, TaskError> {
        let artifact = self.input(role)?;
        let location = self.artifacts.location_of(artifact);
        let bytes = location
            .read_bytes()?
            .ok_or_else(|| TaskError::new(format!("{}: the artifact of input '{role}' has gone", artifact.location)))?;
        self.bytes_read.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        serde_json::from_slice(&bytes).map_err(|e| TaskError::new(format!("{}: {e}", artifact.location)))
    }

    /// Reads `variable` from a data file outside the flow (observations, model output).
    pub fn read_external(&self, location: &str, variable: &str) -> Result<DataArray, TaskError> {
        let array = read_variable(location, variable)?;
        if let Ok(parsed) = Location::parse(location) {
            self.bytes_read.fetch_add(parsed.total_size().unwrap_or(0), Ordering::Relaxed);
        }
        Ok(array)
    }

    /// Opens `variable` in a data file outside the flow for block reads, with the block `select` chooses from its
    /// labels (the reader's template and shape). The block's share of the file counts as read.
    pub fn open_external(
        &self,
        location: &str,
        variable: &str,
        select: impl FnOnce(&VariableReader) -> Result<Vec<Range<usize>>, DataError>,
    ) -> Result<(VariableReader, Vec<Range<usize>>), TaskError> {
        let reader = VariableReader::open(location, variable)?;
        let ranges = select(&reader)?;
        if let Ok(parsed) = Location::parse(location) {
            // Compressed sizes are not known per block: the block's fraction of the values.
            let selected = ranges.iter().map(ExactSizeIterator::len).product::<usize>() as f64;
            let fraction = selected / reader.shape().iter().product::<usize>().max(1) as f64;
            let bytes = parsed.total_size().unwrap_or(0) as f64 * fraction;
            self.bytes_read.fetch_add(bytes.round() as u64, Ordering::Relaxed);
        }
        Ok((reader, ranges))
    }

    /// Writes the task's artifact: a Zarr store of `array`.
    pub fn write_array(&self, array: &DataArray, options: &WriteOptions) -> Result<(), TaskError> {
        self.expect_kind(ArtifactKind::Zarr)?;
        write_zarr(array, &self.output, options)?;
        *self.written_variable.lock().expect("no task body panics while holding this lock") = Some(array.name.clone());
        Ok(())
    }

    /// Writes the task's artifact block by block: a Zarr store of `shape` labelled like `template`, whose blocks
    /// `fill` writes (from any threads). The store is published only when `fill` succeeded and every chunk is written.
    pub fn write_blocks(
        &self,
        template: &DataArray,
        shape: &[usize],
        options: &WriteOptions,
        fill: impl FnOnce(&ZarrWriter) -> Result<(), TaskError>,
    ) -> Result<(), TaskError> {
        self.expect_kind(ArtifactKind::Zarr)?;
        let writer = ZarrWriter::create(template, shape, &self.output, options)?;
        fill(&writer)?;
        writer.finish()?;
        *self.written_variable.lock().expect("no task body panics while holding this lock") =
            Some(template.name.clone());
        Ok(())
    }

    /// Opens the stage of a sharded task's artifact, which every shard fills with its own chunks
    /// ([`ZarrWriter::open_shared`]).
    pub(crate) fn open_shared(&self, layout: &Layout) -> Result<ZarrWriter, TaskError> {
        self.expect_kind(ArtifactKind::Zarr)?;
        let writer = ZarrWriter::open_shared(&layout.labels, &layout.shape, &self.output, &layout.options)?;
        *self.written_variable.lock().expect("no task body panics while holding this lock") =
            Some(layout.labels.name.clone());
        Ok(writer)
    }

    /// Writes the task's artifact: a JSON document.
    pub fn write_json(&self, value: &impl Serialize) -> Result<(), TaskError> {
        self.expect_kind(ArtifactKind::Json)?;
        let bytes =
            serde_json::to_vec_pretty(value).map_err(|e| TaskError::new(format!("task '{}': {e}", self.task.id)))?;
        self.output.write_bytes(bytes)?;
        Ok(())
    }

    /// Writes the task's artifact: a self-contained HTML page, which must carry
    /// [`PAGE_GENERATOR`](downscale_data::PAGE_GENERATOR) so a later run may replace it when published.
    pub fn write_html(&self, page: &str) -> Result<(), TaskError> {
        self.expect_kind(ArtifactKind::Html)?;
        if !page.contains(downscale_data::PAGE_GENERATOR) {
            return Err(TaskError::new(format!("task '{}': the page does not say this tool wrote it", self.task.id)));
        }
        self.output.write_bytes(page.as_bytes().to_vec())?;
        Ok(())
    }

    /// Announces `total` tiles of work, then call [`tile_done`](Self::tile_done) after each.
    pub fn tiles(&self, total: u64) {
        self.progress.tiles_started(&self.task.id, total);
    }

    /// One tile of those announced by [`tiles`](Self::tiles) is done.
    pub fn tile_done(&self) {
        self.progress.tile_done(&self.task.id);
    }

    pub(crate) fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    pub(crate) fn written_variable(&self) -> Option<String> {
        self.written_variable.lock().ok().and_then(|v| v.clone())
    }

    fn expect_kind(&self, kind: ArtifactKind) -> Result<(), TaskError> {
        if self.task.kind == kind {
            Ok(())
        } else {
            Err(TaskError::new(format!(
                "task '{}' produces {}, not {}",
                self.task.id,
                self.task.kind.as_str(),
                kind.as_str()
            )))
        }
    }
}
