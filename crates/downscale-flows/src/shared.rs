//! Task kinds every method's flow uses — reading and cutting inputs, regridding onto another input's grid, the land
//! mask and the monthly/annual summaries — with the chunking and coding of their artifacts. A method's module adds
//! its own kinds and wires them; [`crate::kinds`] registers them all.

use downscale_data::chunking::{ChunkLayout, chunk_shape};
use std::ops::Range;

use downscale_data::{AttrValue, Compression, DataArray, Provenance, WriteOptions, ZarrWriter};
use downscale_engine::{ArtifactKind, Layout, ShardedKind, TaskContext, TaskError, TaskKind};
use ndarray::Ix3;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::tasks::inputs::{Selection, write_selected};
use crate::tasks::land::land_mask;
use crate::tasks::regrid::regrid_onto;
use crate::tasks::summary::{Period, Statistic, summary_labels, summary_values};

/// Chunks of intermediates: whole maps, a few MB of days each. Blosc compresses a chunk on one thread, so a
/// regional field in one 100 MB chunk (the published layout) was encoded and decoded serially; a few MB also keeps
/// the codec's buffers in the allocator's reused memory instead of fresh pages.
pub const INTERMEDIATE_CHUNK_BYTES: usize = 8_000_000;

/// Chunks of the published stores: whole time series (the original's layout, for reading places) of about 25 MB,
/// a quarter of the original's target. A regional run's daily field then has several chunks, coded in parallel and
/// readable in parts, instead of one; a global 30-year field gets 24×24-cell chunks, still large for object storage.
pub const PUBLISHED_CHUNK_BYTES: usize = 25_000_000;

/// Intermediates are read once or twice by later tasks from the local cache and never published, so they are coded
/// for speed: Blosc/LZ4 took a fifth off the flow's wall time compared with Blosc's fastest zstd level, for an eighth
/// more bytes written in all (levels 1 and 9 were no faster than 5, zarr-python's default).
pub const INTERMEDIATE_COMPRESSION: Compression = Compression::Lz4 { level: 5 };

/// The options of an intermediate artifact titled `title`, written by a run of `method` (`BCSD`).
pub fn intermediate_options(method: &str, title: &str) -> WriteOptions {
    WriteOptions {
        compression: INTERMEDIATE_COMPRESSION,
        layout: ChunkLayout::FullSpace,
        chunk_bytes: INTERMEDIATE_CHUNK_BYTES,
        provenance: intermediate_provenance(method, title),
        ..write_options(method, title)
    }
}

/// An intermediate's attributes add no history entry: a published store lists the run once, not once per task.
fn intermediate_provenance(method: &str, title: &str) -> Provenance {
    Provenance { history_entry: String::new(), ..write_options(method, title).provenance }
}

/// The options of a published store titled `title`, written by a run of `method`.
pub fn write_options(method: &str, title: &str) -> WriteOptions {
    WriteOptions {
        chunk_bytes: PUBLISHED_CHUNK_BYTES,
        provenance: Provenance {
            title: Some(title.into()),
            source: Some(format!("downscale {}", env!("CARGO_PKG_VERSION"))),
            history_entry: format!("downscale run ({method}): {title}"),
            ..Provenance::default()
        },
        ..WriteOptions::default()
    }
}

/// The array with a published store's global attributes: the run's `attrs` (its id and parameters, what was
/// downscaled), and of the inputs' attributes only `history` and `frequency`; the rest describe the model's files.
pub fn with_attrs(mut array: DataArray, attrs: &Value) -> DataArray {
    array.global_attrs.retain(|key, _| key == "history" || key == "frequency");
    if let Some(map) = attrs.as_object() {
        for (key, value) in map {
            let text = value.as_str().map_or_else(|| value.to_string(), str::to_string);
            array.global_attrs.insert(key.clone(), AttrValue::Text(text));
        }
    }
    array
}

/// What an input-reading task does: cut `selection` out of the external data `source`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadParams {
    /// The variable's name inside the file (the catalog's, which may differ from the run's).
    pub file_variable: String,
    /// Years, box, margin and the run's variable name.
    pub selection: Selection,
    /// The method running, for the artifact's provenance (`BCSD`).
    pub method: String,
}

/// Reads the observations over the training years, cut to the run's box, in canonical units, on the standard
/// calendar.
pub struct GetObs;

/// Reads a model run over some years, cut to the run's box plus a margin of model cells.
pub struct GetExperiment;

fn read(ctx: &TaskContext, params: &ReadParams) -> Result<(), TaskError> {
    let options = intermediate_options(&params.method, "input data");
    write_selected(ctx, ctx.external("source")?, &params.file_variable, &params.selection, &options)
}

impl TaskKind for GetObs {
    const NAME: &'static str = "get_obs";
    const VERSION: u32 = 3;
    const ARTIFACT: ArtifactKind = ArtifactKind::Zarr;
    type Params = ReadParams;
    fn run(&self, ctx: &TaskContext, params: ReadParams) -> Result<(), TaskError> {
        read(ctx, &params)
    }
}

impl TaskKind for GetExperiment {
    const NAME: &'static str = "get_experiment";
    const VERSION: u32 = 3;
    const ARTIFACT: ArtifactKind = ArtifactKind::Zarr;
    type Params = ReadParams;
    fn run(&self, ctx: &TaskContext, params: ReadParams) -> Result<(), TaskError> {
        read(ctx, &params)
    }
}

/// What a regridding task does: bilinear interpolation of input `source` onto the grid of input `grid`, the
/// nearest source cell outside the source, in whole maps for a next task that reads it by blocks of days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegridParams {
    /// The method running, for the artifact's provenance.
    pub method: String,
}

/// Bilinear regridding of one input onto another input's grid.
pub struct Regrid;

impl TaskKind for Regrid {
    const NAME: &'static str = "regrid";
    const VERSION: u32 = 3;
    const ARTIFACT: ArtifactKind = ArtifactKind::Zarr;
    type Params = RegridParams;
    fn run(&self, ctx: &TaskContext, params: RegridParams) -> Result<(), TaskError> {
        regrid_onto(ctx, "source", "grid", &intermediate_options(&params.method, "regridded"))
    }
}

/// What the land mask task does: Natural Earth 1:10m land buffered by `buffer_degrees`, on the grid of input
/// `grid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LandMaskParams {
    /// The buffer around the coastlines, in degrees (the original's mask: 1°).
    pub buffer_degrees: f64,
    /// The method running, for the artifact's provenance.
    pub method: String,
}

/// The land mask of an input's grid.
pub struct LandMask;

impl TaskKind for LandMask {
    const NAME: &'static str = "land_mask";
    const VERSION: u32 = 2;
    const ARTIFACT: ArtifactKind = ArtifactKind::Zarr;
    type Params = LandMaskParams;
    fn run(&self, ctx: &TaskContext, params: LandMaskParams) -> Result<(), TaskError> {
        let mask = land_mask(&ctx.read_template("grid")?, params.buffer_degrees)?;
        ctx.write_array(&mask, &intermediate_options(&params.method, "land mask"))
    }
}

/// What a summary task does: the `statistic` of input `daily` over each `period`, published with `attrs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryParams {
    /// Months or years.
    pub period: Period,
    /// Mean or sum.
    pub statistic: Statistic,
    /// The store's title (`BCSD monthly summary`).
    pub title: String,
    /// The method running, for the store's history.
    pub method: String,
    /// The run's global attributes.
    pub attrs: Value,
}

/// A monthly or annual summary of a daily store, chunked like it: a shard is a chunk of the summary, made from the
/// daily store's chunk of the same cells.
pub struct TimeSummary;

impl ShardedKind for TimeSummary {
    const NAME: &'static str = "time_summary";
    const VERSION: u32 = 3;
    type Params = SummaryParams;

    fn layout(&self, ctx: &TaskContext, params: &SummaryParams) -> Result<Layout, TaskError> {
        let (daily, daily_shape) = ctx.input_labels("daily")?;
        let (labels, periods) = summary_labels(&daily, params.period, params.statistic)?;
        let &[_, rows, columns] = daily_shape.as_slice() else {
            return Err(TaskError::new(format!("{}: not a (time, lat, lon) field", daily.source)));
        };
        // The summary's chunks follow the daily store's tiles, so each shard reads whole chunks of it.
        let tile = chunk_shape(&daily_shape, true, ChunkLayout::FullTime, 4, PUBLISHED_CHUNK_BYTES);
        let options = WriteOptions {
            chunk_shape: Some(vec![periods.len(), tile[1], tile[2]]),
            ..write_options(&params.method, &params.title)
        };
        let shape = vec![periods.len(), rows, columns];
        Ok(Layout::chunk_per_shard(with_attrs(labels, &params.attrs), shape, options))
    }

    fn write_shard(
        &self,
        ctx: &TaskContext,
        params: &SummaryParams,
        region: &[Range<usize>],
        writer: &ZarrWriter,
    ) -> Result<(), TaskError> {
        let (daily, daily_shape) = ctx.input_labels("daily")?;
        let (_, periods) = summary_labels(&daily, params.period, params.statistic)?;
        let cells = [0..daily_shape[0], region[1].clone(), region[2].clone()];
        let block = ctx.open_input_region("daily", &cells)?.read_block(&cells)?;
        let values = block.data.view().into_dimensionality::<Ix3>().map_err(TaskError::new)?;
        let summary = summary_values(values, &periods, params.statistic).into_dyn();
        Ok(writer.write_block(&[0, region[1].start, region[2].start], summary.view())?)
    }
}
