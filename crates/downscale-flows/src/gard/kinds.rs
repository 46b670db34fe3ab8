//! GARD's own task kinds: the model at every cell of the observations' grid (`fit_and_predict`, sharded by tiles),
//! the random field of the random effects (`random_field`), and the random effects masked to land
//! (`postprocess`, sharded by tiles).

use std::collections::HashMap;
use std::ops::Range;

use downscale_data::chunking::ChunkLayout;
use downscale_data::{AttrValue, Attributes, Companion, DataArray, WriteOptions, ZarrWriter};
use downscale_engine::{ArtifactKind, Layout, ShardedKind, TaskContext, TaskError, TaskKind};
use downscale_methods::gard::Compat;
use downscale_methods::gard::random_effects::{precipitation, temperature};
use downscale_methods::scrf::LatLonFieldStream;
use downscale_params::GardModel;
use downscale_regrid::Grid;
use ndarray::{Array3, ArrayD, Axis, Ix3, s};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::shared::{intermediate_options, with_attrs, write_options};
use crate::tasks::gard_model::{CellModel, Predictor, TileSeries, model_tile};
use crate::tasks::land::as_land;
use crate::tasks::regrid::TileRegridding;

/// What `fit_and_predict` does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitParams {
    /// The predictors, in the order of the inputs `train_<j>` and `predict_<j>`.
    pub predictors: Vec<Predictor>,
    /// The model.
    pub model: GardModel,
    /// Whether the target is modelled in cube roots (precipitation).
    pub cube_root_target: bool,
    /// Reproduce scikit-downscale's slips in the analogue models.
    pub compat: bool,
    /// The seed of `sample_analogs`' draws; `None` for the models that draw nothing.
    pub seed: Option<u64>,
    /// `GARD-SV` or `GARD-MV`, for provenance.
    pub method: String,
    /// The run's global attributes (the model output is published).
    pub attrs: Value,
}

/// GARD's model at every cell of the observations' grid: `pred`, with `prediction_error` and `exceedance_prob` as
/// companion variables of the same store. A shard is a tile of cells over every predicted day, which reads the
/// tile's target series and each predictor's window of its coarse fields, interpolated onto the tile on the fly.
pub struct FitAndPredict;

/// The training days common to the target and every predictor: for each, its step in the target and in each
/// predictor's training field. Reanalysis and observations of the same days can differ in a day or two at the ends.
fn common_training_days(ctx: &TaskContext, predictors: usize) -> Result<(Vec<usize>, Vec<Vec<usize>>), TaskError> {
    let dates = |role: &str| -> Result<Vec<(i32, u32, u32)>, TaskError> {
        let template = ctx.read_template(role)?;
        let time = template.time.ok_or_else(|| TaskError::new(format!("{}: no time axis", template.source)))?;
        Ok(time.dates.iter().map(|d| (d.year, d.month, d.day)).collect())
    };
    let target = dates("target")?;
    let features: Vec<HashMap<(i32, u32, u32), usize>> = (0..predictors)
        .map(|j| Ok(dates(&format!("train_{j}"))?.into_iter().enumerate().map(|(i, d)| (d, i)).collect()))
        .collect::<Result<_, TaskError>>()?;
    let mut target_steps = Vec::new();
    let mut feature_steps = vec![Vec::new(); predictors];
    for (step, date) in target.iter().enumerate() {
        let found: Option<Vec<usize>> = features.iter().map(|f| f.get(date).copied()).collect();
        if let Some(found) = found {
            target_steps.push(step);
            for (steps, index) in feature_steps.iter_mut().zip(found) {
                steps.push(index);
            }
        }
    }
    if target_steps.len() < 2 {
        return Err(TaskError::new(format!(
            "task '{}': the observations and the predictors' training fields share {} days",
            ctx.task_id(),
            target_steps.len()
        )));
    }
    Ok((target_steps, feature_steps))
}

fn companion(name: &str, long_name: &str, units: &str) -> Companion {
    let mut attrs = Attributes::new();
    attrs.insert("long_name".into(), AttrValue::Text(long_name.into()));
    attrs.insert("units".into(), AttrValue::Text(units.into()));
    Companion { name: name.into(), attrs }
}

fn text(value: &str) -> AttrValue {
    AttrValue::Text(value.into())
}

impl ShardedKind for FitAndPredict {
    const NAME: &'static str = "gard_fit_and_predict";
    const VERSION: u32 = 1;
    type Params = FitParams;

    fn layout(&self, ctx: &TaskContext, params: &FitParams) -> Result<Layout, TaskError> {
        let fine = TileRegridding::new(ctx, "predict_0", "target")?;
        for j in 1..params.predictors.len() {
            let other = TileRegridding::new(ctx, &format!("predict_{j}"), "target")?;
            if other.labels.time.as_ref().map(|t| &t.dates) != fine.labels.time.as_ref().map(|t| &t.dates) {
                return Err(TaskError::new(format!(
                    "{}: the predictors' prediction fields do not cover the same days",
                    other.labels.source
                )));
            }
        }
        let target = ctx.read_template("target")?;
        let units = target.attrs.get("units").cloned().unwrap_or_else(|| text(""));
        let mut attrs = Attributes::new();
        attrs.insert("long_name".into(), text("GARD model prediction (the expected value; on a wet day, the amount)"));
        attrs.insert("units".into(), units.clone());
        let error_units = match (&units, params.cube_root_target) {
            (AttrValue::Text(u), true) => format!("({u})^(1/3)"),
            (AttrValue::Text(u), false) => u.clone(),
            _ => String::new(),
        };
        let labels = DataArray { name: "pred".into(), attrs, ..fine.labels };
        let options = WriteOptions {
            layout: ChunkLayout::FullTime,
            companions: vec![
                companion(
                    "prediction_error",
                    "root-mean-square error of the model (of the cube root for precipitation)",
                    &error_units,
                ),
                companion("exceedance_prob", "probability of exceeding the model's threshold", "1"),
            ],
            ..write_options(&params.method, &format!("{} model output", params.method))
        };
        Ok(Layout::chunk_per_shard(with_attrs(labels, &params.attrs), fine.shape, options))
    }

    fn write_shard(
        &self,
        ctx: &TaskContext,
        params: &FitParams,
        region: &[Range<usize>],
        writer: &ZarrWriter,
    ) -> Result<(), TaskError> {
        let [_, lat, lon] = region else {
            return Err(TaskError::new(format!(
                "task '{}': a shard of {region:?} is not (time, lat, lon)",
                ctx.task_id()
            )));
        };
        let (target_steps, feature_steps) = common_training_days(ctx, params.predictors.len())?;
        let (_, target_shape) = ctx.input_labels("target")?;
        let block = [0..target_shape[0], lat.clone(), lon.clone()];
        let target = ctx.open_input_region("target", &block)?.read_block(&block)?;
        let target =
            target.data.view().into_dimensionality::<Ix3>().map_err(TaskError::new)?.select(Axis(0), &target_steps);
        let tile = |role: String| -> Result<Array3<f32>, TaskError> {
            let values = TileRegridding::new(ctx, &role, "target")?.tile(ctx, lat.clone(), lon.clone())?;
            values.into_dimensionality::<Ix3>().map_err(TaskError::new)
        };
        let mut train = Vec::with_capacity(params.predictors.len());
        let mut predict = Vec::with_capacity(params.predictors.len());
        for (j, steps) in feature_steps.iter().enumerate() {
            train.push(tile(format!("train_{j}"))?.select(Axis(0), steps));
            predict.push(tile(format!("predict_{j}"))?);
        }
        let series = TileSeries {
            target: target.view(),
            train: train.iter().map(|a| a.view()).collect(),
            predict: predict.iter().map(|a| a.view()).collect(),
        };
        let setup = CellModel {
            model: params.model,
            cube_root_target: params.cube_root_target,
            compat: if params.compat { Compat::ScikitDownscale } else { Compat::Corrected },
            seed: params.seed.unwrap_or(0),
        };
        // Each cell's index in the whole grid, so `sample_analogs` draws the same at a cell whatever the tiling.
        let columns = target_shape[2];
        let cell = |r: usize, c: usize| ((lat.start + r) * columns + lon.start + c) as u64;
        let outputs = model_tile(&series, &params.predictors, setup, cell)
            .map_err(|e| TaskError::new(format!("task '{}': {e}", ctx.task_id())))?;
        let offset = [0, lat.start, lon.start];
        writer.write_block(&offset, outputs.pred.into_dyn().view())?;
        writer.write_companion_block("prediction_error", &offset, outputs.prediction_error.into_dyn().view())?;
        writer.write_companion_block("exceedance_prob", &offset, outputs.exceedance_prob.into_dyn().view())?;
        Ok(())
    }
}

/// What `random_field` draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldParams {
    /// Gaussian correlation length in space, km.
    pub length_km: f64,
    /// Gaussian correlation length in time, days.
    pub length_days: f64,
    /// The seed.
    pub seed: u64,
}

/// The standard-normal random field of the random effects on the observations' grid (input `grid`) over the
/// predicted days (input `days`), drawn day after day for the whole period, so it never repeats.
pub struct RandomField;

impl TaskKind for RandomField {
    const NAME: &'static str = "gard_random_field";
    const VERSION: u32 = 1;
    const ARTIFACT: ArtifactKind = ArtifactKind::Zarr;
    type Params = FieldParams;

    fn run(&self, ctx: &TaskContext, params: FieldParams) -> Result<(), TaskError> {
        let grid_template = ctx.read_template("grid")?;
        let grid = Grid::from_array(&grid_template).map_err(TaskError::new)?;
        let days = ctx.read_template("days")?;
        let steps = days.time.as_ref().map_or(0, |t| t.dates.len());
        let mut attrs = Attributes::new();
        attrs.insert("long_name".into(), text("standard-normal random field of GARD's random effects"));
        attrs.insert("units".into(), text("1"));
        attrs.insert("length_km".into(), AttrValue::Number(params.length_km));
        attrs.insert("length_days".into(), AttrValue::Number(params.length_days));
        attrs.insert("seed".into(), AttrValue::Number(params.seed as f64));
        let labels = DataArray {
            name: "random_field".into(),
            time: days.time.clone(),
            attrs,
            data: ArrayD::zeros(ndarray::IxDyn(&[0, 0, 0])),
            ..grid_template
        };
        let shape = vec![steps, grid.lat.len(), grid.lon.len()];
        let mut stream =
            LatLonFieldStream::new(params.length_km, params.length_days, &grid.lat, &grid.lon, params.seed)
                .map_err(|e| TaskError::new(format!("task '{}': {e}", ctx.task_id())))?;
        let options = intermediate_options("GARD", "random field");
        ctx.write_blocks(&labels, &shape, &options, |writer| {
            let block_days = writer.chunk_shape()[0].max(1);
            for start in (0..steps).step_by(block_days) {
                let end = (start + block_days).min(steps);
                let mut block = Array3::<f32>::zeros((end - start, shape[1], shape[2]));
                for mut day in block.outer_iter_mut() {
                    day.assign(&stream.next_day().mapv(|v| v as f32));
                }
                writer.write_block(&[start, 0, 0], block.into_dyn().view())?;
            }
            Ok(())
        })
    }
}

/// What `postprocess` does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostprocessParams {
    /// The variable downscaled: `pr` draws precipitation's random effects (occurrence and cube-root amounts), the
    /// others temperature's.
    pub variable: String,
    /// `GARD-SV` or `GARD-MV`.
    pub method: String,
    /// The run's global attributes.
    pub attrs: Value,
}

/// GARD's random effects on the model output with the random field, masked to land, written into the published
/// daily store shard by shard (a shard is a chunk: every day of a tile of cells).
pub struct GardPostprocess;

impl ShardedKind for GardPostprocess {
    const NAME: &'static str = "gard_postprocess";
    const VERSION: u32 = 1;
    type Params = PostprocessParams;

    fn layout(&self, ctx: &TaskContext, params: &PostprocessParams) -> Result<Layout, TaskError> {
        let (model, shape) = ctx.input_labels("model")?;
        let mut attrs = Attributes::new();
        attrs.insert("long_name".into(), text(&format!("{} downscaled {}", params.method, params.variable)));
        if let Some(units) = model.attrs.get("units") {
            attrs.insert("units".into(), units.clone());
        }
        let labels = DataArray { name: params.variable.clone(), attrs, ..model };
        let options = write_options(&params.method, &format!("{} downscaled", params.method));
        Ok(Layout::chunk_per_shard(with_attrs(labels, &params.attrs), shape, options))
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
        let block = [days.clone(), lat.clone(), lon.clone()];
        let read = |role: &str, variable: &str| -> Result<Array3<f32>, TaskError> {
            let values = ctx.open_input_variable_region(role, variable, &block)?.read_block(&block)?;
            values.data.into_dimensionality::<Ix3>().map_err(TaskError::new)
        };
        let (pred, error, probability) =
            (read("model", "pred")?, read("model", "prediction_error")?, read("model", "exceedance_prob")?);
        let field = ctx.open_input_region("field", &block)?.read_block(&block)?;
        let field = field.data.into_dimensionality::<Ix3>().map_err(TaskError::new)?;
        let land = as_land(&ctx.read_array("land")?)?;
        let land = land.slice(s![lat.clone(), lon.clone()]);
        let mut out = Array3::<f32>::from_elem(pred.dim(), f32::NAN);
        for ((day, r, c), value) in out.indexed_iter_mut() {
            if !land[[r, c]] {
                continue;
            }
            let (p, e, z) =
                (f64::from(pred[[day, r, c]]), f64::from(error[[day, r, c]]), f64::from(field[[day, r, c]]));
            *value = if params.variable == "pr" {
                precipitation(p, e, f64::from(probability[[day, r, c]]), z)
            } else {
                temperature(p, e, z)
            } as f32;
        }
        Ok(writer.write_block(&[days.start, lat.start, lon.start], out.into_dyn().view())?)
    }
}
