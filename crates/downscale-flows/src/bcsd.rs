//! The BCSD flow (bias correction at the model's scale, then spatial disaggregation onto the observations' grid):
//! wiring only; the work is in `tasks`, the shared kinds in `shared`, BCSD's own kinds here.
//!
//! ```text
//! get_obs ──────────────┬──► coarsen_obs ─────────────────────► spatial_anomalies ───┐
//! get_experiment_train ─┤(grid)   │                                                   │
//!                       └─────────┴──► bias_correct ◄── get_experiment_predict        ▼
//!                                          └─────────────────────────────────────► postprocess ──► summary_month
//! get_obs (its grid) ──► land_mask ───────────────────────────────────────────────────┘        └──► summary_year
//! ```
//! What `bias_correct`, `spatial_anomalies` and `postprocess` do is the run's [`BcsdVariant`].
//!
//! No rechunking pass exists, and no coarse field is stored on the fine grid: `spatial_anomalies` interpolates the
//! coarsened obs block of days by block of days as it sums them against the obs (stored in whole maps), and
//! `postprocess` interpolates the corrected field tile by tile as it writes the published store's whole-series
//! chunks (a chunk a shard), which the summaries then read chunk by chunk (a chunk a shard).
//!
//! Which artifacts are cached: each one a later run can reuse without the fine-grid work that made it, namely
//! what is read from outside (`get_*`), what a choice of the run's parameters would otherwise recompute upstream
//! of it (`coarsen_obs`, `spatial_anomalies`, `bias_correct`, `land_mask`), and the published outputs. A field
//! that only hands a fine-grid array from one pass to the next (a coarse field interpolated back onto the fine grid)
//! is not an artifact: the pass that needs it computes it block by block from the coarse artifact, at the cost of
//! a bilinear interpolation, which is less than writing and reading it compressed.

use std::ops::Range;

use downscale_data::chunking::ChunkLayout;
use downscale_data::{DataArray, WriteOptions, ZarrWriter};
use downscale_engine::{ArtifactKind, Layout, Output, ShardedKind, Task, TaskContext, TaskError, TaskKind};
use downscale_methods::adjust::{BiasCorrection, XsdbaSettings};
use downscale_methods::bcsd::FitOrder;
use downscale_methods::xsdba::{AdjustOptions, Extrapolation, Grouping, Interp, Kind, TrainOptions};
use downscale_params::{BcsdCorrection, RunParameters};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::FlowError;
use crate::prepare::{RunInputs, add_identities};
use crate::shared::{
    GetExperiment, GetObs, LandMask, LandMaskParams, ReadParams, Regrid, RegridParams, SummaryParams, TimeSummary,
    intermediate_options, with_attrs, write_options,
};
use crate::sources::Source;
use crate::tasks::anomalies::{Detail, restore_detail_and_mask, spatial_anomalies};
use crate::tasks::correct::correct_points;
use crate::tasks::inputs::Selection;
use crate::tasks::land::as_land;
use crate::tasks::regrid::{Regridding, TileRegridding};
use crate::tasks::summary::{Period, Statistic};

/// The method's label in provenance and history entries.
const METHOD: &str = "BCSD";

/// Model cells kept around the run's box, so bilinear interpolation back onto the box has neighbours everywhere.
const MODEL_MARGIN: usize = 2;

/// Land: Natural Earth 1:10m land buffered by 1°, the original's mask.
const LAND_BUFFER_DEGREES: f64 = 1.0;

/// Which BCSD: the coarse bias correction and the kind of spatial anomalies.
///
/// The original system's BCSD is a daily adaptation of Wood et al. (2004) with two faults a scientist sees at once
/// in its output: precipitation anomalies are added, so about 30% of the days come out negative and no day stays
/// dry; and the temperature point model removes and restores a running mean of 9 consecutive samples of a month,
/// which on daily data is a 9-day mean, so weather-scale variance is added on top of the observed distribution
/// (daily standard deviation 1.3 times the observed one over Iberia). The default corrects both; the two other
/// variants reproduce their references bit for bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BcsdVariant {
    /// Quantile delta mapping (xsdba QDM, Cannon et al. 2015) per calendar month at the coarse scale: additive for
    /// temperature, multiplicative for precipitation (amounts under 0.01 mm day-1 jittered so dry days do not tie),
    /// `nquantiles` quantiles, linear between them. It maps the model onto the observed distribution and keeps the
    /// model's change in every quantile, so the daily variance is the observed one and the change signal is the
    /// model's (for precipitation, its relative change). Anomalies are additive for temperature and bounded ratios
    /// for precipitation, and amounts under the observations' trace are dry.
    QuantileDeltaMapping {
        /// Quantiles of each month's distributions (the parameter file's `nquantiles`, 50 by default).
        nquantiles: usize,
    },
    /// scikit-downscale's `BcsdTemperature` / `BcsdPrecipitation` point models in their documented argument order,
    /// with additive anomalies: the flow's output before the default above existed.
    BcsdPoint,
    /// The original system's flow: the point models with `fit`'s arguments swapped and additive anomalies
    /// (`run_options.carbonplan_compat`).
    CarbonPlanCompat,
}

impl BcsdVariant {
    /// The coarse bias correction, additive for a temperature and multiplicative otherwise.
    pub(crate) fn coarse_correction(self, temperature: bool) -> BiasCorrection {
        match self {
            BcsdVariant::QuantileDeltaMapping { nquantiles } => BiasCorrection::Qdm(XsdbaSettings {
                train: TrainOptions {
                    nquantiles,
                    kind: if temperature { Kind::Additive } else { Kind::Multiplicative },
                    group: Grouping::Month,
                    adapt_freq_thresh: None,
                },
                adjust: AdjustOptions { interp: Interp::Linear, extrapolation: Extrapolation::Constant },
                jitter_under: (!temperature).then_some(JITTER_UNDER_MM_PER_DAY),
            }),
            BcsdVariant::BcsdPoint | BcsdVariant::CarbonPlanCompat => {
                let order = if self == BcsdVariant::BcsdPoint { FitOrder::Documented } else { FitOrder::CarbonPlan };
                if temperature {
                    BiasCorrection::BcsdTemperature { order }
                } else {
                    BiasCorrection::BcsdPrecipitation { order }
                }
            }
        }
    }

    /// How the fine detail is restored.
    fn detail(self, temperature: bool) -> Detail {
        match self {
            BcsdVariant::QuantileDeltaMapping { .. } if !temperature => Detail::Multiplicative,
            _ => Detail::Additive,
        }
    }

    /// The name in task parameters and output attributes.
    pub fn as_str(self) -> &'static str {
        match self {
            BcsdVariant::QuantileDeltaMapping { .. } => "quantile_delta_mapping",
            BcsdVariant::BcsdPoint => "bcsd_point",
            BcsdVariant::CarbonPlanCompat => "carbonplan_compat",
        }
    }
}

/// Precipitation under this (mm day-1) is jittered before quantile delta mapping (the threshold xclim's
/// documentation uses), so that the many dry days of a month do not tie at one quantile.
const JITTER_UNDER_MM_PER_DAY: f64 = 0.01;

/// What the BCSD flow needs, resolved from the parameter file, the catalogs and the configuration.
pub struct BcsdInputs {
    /// The variable downscaled (`tas`, `tasmax`, `tasmin` or `pr`), as the outputs name it.
    pub variable: String,
    /// `[latmin, latmax, lonmin, lonmax]` in degrees, south to north and west to east.
    pub bbox: [f64; 4],
    /// First and last training year (calendar years, inclusive).
    pub train: [i32; 2],
    /// First and last predicted year (calendar years, inclusive).
    pub predict: [i32; 2],
    /// The fine observations.
    pub obs: Source,
    /// The model's historical run, over the training years.
    pub train_model: Source,
    /// The model's run of the predicted scenario; its catalog row names the published stores.
    pub predict_model: Source,
    /// Which BCSD.
    pub variant: BcsdVariant,
    /// Global attributes of the outputs: the run id and parameters.
    pub output_attrs: Value,
}

/// The BCSD run of `run`: its data from the catalogs, its variant, its tasks and its outputs; records what was
/// downscaled and the variant in `attrs`.
pub fn build(run: &RunInputs, attrs: &mut Value) -> Result<(Vec<Task>, Vec<Output>), FlowError> {
    let parameters = run.parameters;
    let (obs, predict_model) = (run.observations()?, run.model(&parameters.scenario)?);
    add_identities(attrs, &predict_model, &obs);
    let variant = variant_of(parameters, run.settings.run_options.carbonplan_compat).map_err(|d| run.refuse(d))?;
    attrs["bcsd_variant"] = variant.as_str().into();
    let (south, north) = parameters.bbox.latitudes();
    let (train, predict) = (parameters.train.years(), parameters.predict.years());
    let inputs = BcsdInputs {
        variable: parameters.variable.clone(),
        bbox: [south, north, parameters.bbox.lonmin.value, parameters.bbox.lonmax.value],
        train: [train.0, train.1],
        predict: [predict.0, predict.1],
        obs,
        train_model: run.model("historical")?,
        predict_model,
        variant,
        output_attrs: attrs.clone(),
    };
    let tasks = tasks(&inputs).map_err(|e| run.refuse(e.to_string()))?;
    Ok((tasks, outputs(&inputs)))
}

/// The BCSD variant of a run: the original system's flow under `run_options.carbonplan_compat`, otherwise what
/// `bias_correction_method` chose (quantile delta mapping when it names none). The original's files name none or
/// `""`; naming this tool's default explicitly while asking for the original's flow is a contradiction, not a choice.
fn variant_of(parameters: &RunParameters, carbonplan_compat: bool) -> Result<BcsdVariant, String> {
    let named_default = parameters.bias_correction_method.as_deref() == Some("quantile_delta_mapping");
    match (parameters.bcsd_correction(), carbonplan_compat) {
        (_, true) if named_default => Err(
            "bias_correction_method `quantile_delta_mapping` cannot run under run_options.carbonplan_compat, which \
             reproduces the original's flow and its BCSD point models; leave one of them out"
                .into(),
        ),
        (_, true) => Ok(BcsdVariant::CarbonPlanCompat),
        (BcsdCorrection::QuantileDeltaMapping { nquantiles }, false) => {
            Ok(BcsdVariant::QuantileDeltaMapping { nquantiles })
        }
        (BcsdCorrection::BcsdPoint, false) => Ok(BcsdVariant::BcsdPoint),
    }
}

/// The flow's tasks, wired as the module's diagram shows; a variable BCSD does not downscale is an error.
pub fn tasks(inputs: &BcsdInputs) -> Result<Vec<Task>, TaskError> {
    let temperature = match inputs.variable.as_str() {
        "tas" | "tasmax" | "tasmin" => true,
        "pr" => false,
        other => return Err(TaskError::new(format!("BCSD downscales tas, tasmax, tasmin or pr, not '{other}'"))),
    };
    let read = |source: &Source, years: [i32; 2], margin: usize| ReadParams {
        file_variable: source.file_variable.clone(),
        selection: Selection { variable: inputs.variable.clone(), years, bbox: inputs.bbox, margin },
        method: METHOD.into(),
    };
    let external =
        |task: Task, source: &Source| task.external("source", source.location.clone(), source.identity.clone());
    let regrid = |id: &str, source: &str, grid_of: &str| {
        Ok::<_, TaskError>(
            Task::of::<Regrid>(id, &RegridParams { method: METHOD.into() })?
                .input("source", source)
                .input("grid", grid_of),
        )
    };
    let (variant, detail) = (inputs.variant, inputs.variant.detail(temperature));
    let attrs = inputs.output_attrs.clone();
    let summary = |id: &str, period: Period| {
        let title = match period {
            Period::Month => "BCSD monthly summary",
            Period::Year => "BCSD annual summary",
        };
        let params = SummaryParams {
            period,
            statistic: Statistic::for_variable(&inputs.variable),
            title: title.into(),
            method: METHOD.into(),
            attrs: attrs.clone(),
        };
        Ok::<_, TaskError>(Task::sharded::<TimeSummary>(id, &params)?.input("daily", "postprocess"))
    };
    Ok(vec![
        external(Task::of::<GetObs>("get_obs", &read(&inputs.obs, inputs.train, 0))?, &inputs.obs),
        external(
            Task::of::<GetExperiment>("get_experiment_train", &read(&inputs.train_model, inputs.train, MODEL_MARGIN))?,
            &inputs.train_model,
        ),
        external(
            Task::of::<GetExperiment>(
                "get_experiment_predict",
                &read(&inputs.predict_model, inputs.predict, MODEL_MARGIN),
            )?,
            &inputs.predict_model,
        ),
        regrid("coarsen_obs", "get_obs", "get_experiment_train")?,
        Task::of::<SpatialAnomalies>("spatial_anomalies", &AnomalyParams { detail })?
            .input("obs", "get_obs")
            .input("coarse", "coarsen_obs"),
        Task::sharded::<FitAndPredict>("bias_correct", &CorrectionParams { variant, temperature })?
            .input("reference", "coarsen_obs")
            .input("hist", "get_experiment_train")
            .input("sim", "get_experiment_predict"),
        Task::of::<LandMask>(
            "land_mask",
            &LandMaskParams { buffer_degrees: LAND_BUFFER_DEGREES, method: METHOD.into() },
        )?
        .input("grid", "get_obs"),
        Task::sharded::<Postprocess>("postprocess", &PostprocessParams { attrs: attrs.clone(), detail })?
            .input("coarse", "bias_correct")
            .input("grid", "get_obs")
            .input("anomalies", "spatial_anomalies")
            .input("land", "land_mask"),
        summary("summary_month", Period::Month)?,
        summary("summary_year", Period::Year)?,
    ])
}

/// What `spatial_anomalies` does: the monthly detail of the observations over the interpolated coarse
/// observations, as differences or ratios.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnomalyParams {
    /// Differences or bounded ratios.
    pub detail: Detail,
}

/// BCSD's monthly spatial anomalies.
pub struct SpatialAnomalies;

impl TaskKind for SpatialAnomalies {
    const NAME: &'static str = "bcsd_spatial_anomalies";
    const VERSION: u32 = 2;
    const ARTIFACT: ArtifactKind = ArtifactKind::Zarr;
    type Params = AnomalyParams;
    fn run(&self, ctx: &TaskContext, params: AnomalyParams) -> Result<(), TaskError> {
        // The coarse obs interpolated back onto the obs grid exists only block by block, as the sums need it.
        let (obs, interpolated) = (ctx.open_input("obs")?, Regridding::open(ctx, "coarse", "obs")?);
        let anomalies = spatial_anomalies(&obs, &interpolated, params.detail, ctx.budget())?;
        ctx.write_array(&anomalies, &intermediate_options(METHOD, "BCSD spatial anomalies"))
    }
}

/// What `bias_correct` does: the variant's coarse correction of a temperature or of another variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrectionParams {
    /// Which BCSD.
    pub variant: BcsdVariant,
    /// Additive (temperature) or multiplicative correction.
    pub temperature: bool,
}

/// BCSD's point-wise bias correction of the model on its own grid, against the coarsened observations. A shard is
/// a tile of model cells: its artifact is stored in whole series (the layout `postprocess` reads it in), a chunk a
/// shard, each shard reading its cells' series from the inputs.
pub struct FitAndPredict;

impl ShardedKind for FitAndPredict {
    const NAME: &'static str = "bcsd_fit_and_predict";
    const VERSION: u32 = 3;
    type Params = CorrectionParams;

    fn layout(&self, ctx: &TaskContext, _params: &CorrectionParams) -> Result<Layout, TaskError> {
        let (sim, shape) = ctx.input_labels("sim")?;
        let options =
            WriteOptions { layout: ChunkLayout::FullTime, ..intermediate_options(METHOD, "BCSD bias-corrected model") };
        Ok(Layout::chunk_per_shard(sim, shape, options))
    }

    fn write_shard(
        &self,
        ctx: &TaskContext,
        params: &CorrectionParams,
        region: &[Range<usize>],
        writer: &ZarrWriter,
    ) -> Result<(), TaskError> {
        let [_, lat, lon] = region else {
            return Err(TaskError::new(format!(
                "task '{}': a shard of {region:?} is not (time, lat, lon)",
                ctx.task_id()
            )));
        };
        let cells = |role: &str| -> Result<DataArray, TaskError> {
            let (_, shape) = ctx.input_labels(role)?;
            let block = [0..shape[0], lat.clone(), lon.clone()];
            Ok(ctx.open_input_region(role, &block)?.read_block(&block)?)
        };
        // Each cell's index in the whole field, row-major as the correction flattens it.
        let columns = ctx.input_labels("sim")?.1[2];
        let points: Vec<usize> = lat.clone().flat_map(|i| lon.clone().map(move |j| i * columns + j)).collect();
        let method = params.variant.coarse_correction(params.temperature);
        let corrected = correct_points(&method, &cells("reference")?, &cells("hist")?, &cells("sim")?, Some(&points))?;
        Ok(writer.write_block(&[0, lat.start, lon.start], corrected.data.view())?)
    }
}

/// What `postprocess` does: restore the detail, mask to land, publish with the run's attributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostprocessParams {
    /// The run's global attributes.
    pub attrs: Value,
    /// Differences or bounded ratios.
    pub detail: Detail,
}

/// BCSD's last step, in one pass over the fine grid: the corrected field interpolated onto the observations' grid,
/// its fine detail restored and masked to land, written into the published daily store shard by shard, a shard
/// being a chunk (every day of a tile of cells). The interpolated field exists only tile by tile in memory: it is
/// a function of the corrected field, which is cached, and no other task reads it.
pub struct Postprocess;

impl ShardedKind for Postprocess {
    const NAME: &'static str = "bcsd_postprocess";
    const VERSION: u32 = 5;
    type Params = PostprocessParams;

    fn layout(&self, ctx: &TaskContext, params: &PostprocessParams) -> Result<Layout, TaskError> {
        let fine = TileRegridding::new(ctx, "coarse", "grid")?;
        let labels = with_attrs(fine.labels, &params.attrs);
        Ok(Layout::chunk_per_shard(labels, fine.shape, write_options(METHOD, "BCSD downscaled")))
    }

    fn write_shard(
        &self,
        ctx: &TaskContext,
        params: &PostprocessParams,
        region: &[Range<usize>],
        writer: &ZarrWriter,
    ) -> Result<(), TaskError> {
        let [days, lat, lon] = region else {
            return Err(TaskError::new(format!(
                "task '{}': a shard of {region:?} is not (time, lat, lon)",
                ctx.task_id()
            )));
        };
        let fine = TileRegridding::new(ctx, "coarse", "grid")?;
        let land = as_land(&ctx.read_array("land")?)?;
        if land.shape() != &fine.shape[1..] {
            return Err(TaskError::new(format!("{}: the land mask is not on this grid", fine.labels.source)));
        }
        let values = fine.tile(ctx, lat.clone(), lon.clone())?;
        let months = [0..12, lat.clone(), lon.clone()];
        let maps = ctx.open_input_region("anomalies", &months)?.read_block(&months)?;
        let land = land.slice(ndarray::s![lat.clone(), lon.clone()]).to_owned();
        let (time, source) = (fine.labels.time.as_ref(), &fine.labels.source);
        let values = restore_detail_and_mask(values, time, source, &maps, &land, params.detail)?;
        Ok(writer.write_block(&[days.start, lat.start, lon.start], values.view())?)
    }
}

/// The published outputs and their names, like the original's stores
/// (`<activity>.<institution>.<source>.<experiment>.<member>.<day|month|year>.BCSD.<var>.zarr`).
pub fn outputs(inputs: &BcsdInputs) -> Vec<Output> {
    let field =
        |name: &str| inputs.predict_model.fields.get(name).and_then(Value::as_str).unwrap_or("unknown").to_string();
    let stem =
        [field("activity_id"), field("institution_id"), field("source_id"), field("experiment_id"), field("member_id")]
            .join(".");
    [("daily", "postprocess", "day"), ("monthly", "summary_month", "month"), ("annual", "summary_year", "year")]
        .into_iter()
        .map(|(dataset, task, timescale)| Output {
            dataset: dataset.into(),
            task_id: task.into(),
            published_name: format!("{stem}.{timescale}.BCSD.{}.zarr", inputs.variable),
        })
        .collect()
}
