//! The BCSD flow (bias correction at the model's scale, then spatial disaggregation onto the observations' grid):
//! wiring only; the work is in `tasks`.
//!
//! ```text
//! get_obs ──────────────┬──► coarsen_obs ──► interpolate_obs ──► spatial_anomalies ─────────┐
//! get_experiment_train ─┤(grid)   │                                                         │
//!                       └─────────┴──► bias_correct ◄── get_experiment_predict              │
//!                                          │                                                ▼
//!                                          └──► interpolate_corrected ──────────────────► postprocess ──► summary_month
//! get_obs (its grid) ──► land_mask ─────────────────────────────────────────────────────────┘        └──► summary_year
//! ```
//! What `bias_correct`, `spatial_anomalies` and `postprocess` do is the run's [`BcsdVariant`].
//!
//! No rechunking pass exists: fields on the obs grid are stored in whole maps up to `interpolate_corrected`, which
//! writes the published store's whole-series chunks tile by tile, so every task streams through blocks of its
//! inputs' own chunks. Task versions are 2 since the stores were chunked so: earlier artifacts are not reused.

use downscale_data::chunking::{ChunkLayout, chunk_shape};
use downscale_data::{AttrValue, Compression, Provenance, WriteOptions};
use downscale_engine::{ArtifactKind, Output, Task, TaskContext, TaskError};
use downscale_methods::adjust::{BiasCorrection, XsdbaSettings};
use downscale_methods::bcsd::FitOrder;
use downscale_methods::xsdba::{AdjustOptions, Extrapolation, Grouping, Interp, Kind, TrainOptions};
use ndarray::Ix3;
use serde_json::{Value, json};

use crate::sources::Source;
use crate::tasks::anomalies::{Detail, restore_detail_and_mask, spatial_anomalies};
use crate::tasks::blocks::map_tiles;
use crate::tasks::correct::correct_points;
use crate::tasks::inputs::{Selection, write_selected};
use crate::tasks::land::{as_land, land_mask};
use crate::tasks::regrid::{regrid_onto, regrid_onto_tiles};
use crate::tasks::summary::{Period, Statistic, summary_labels, summary_values};

/// Model cells kept around the run's box, so bilinear interpolation back onto the box has neighbours everywhere.
const MODEL_MARGIN: usize = 2;

/// Chunks of intermediates: whole maps, a few MB of days each. Blosc compresses a chunk on one thread, so a
/// regional field in one 100 MB chunk (the published layout) was encoded and decoded serially; a few MB also keeps
/// the codec's buffers in the allocator's reused memory instead of fresh pages.
const INTERMEDIATE_CHUNK_BYTES: usize = 8_000_000;

/// Chunks of the published stores: whole time series (the original's layout, for reading places) of about 25 MB,
/// a quarter of the original's target. A regional run's daily field then has several chunks, coded in parallel and
/// readable in parts, instead of one; a global 30-year field gets 24×24-cell chunks, still large for object storage.
const PUBLISHED_CHUNK_BYTES: usize = 25_000_000;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    fn coarse_correction(self, temperature: bool) -> BiasCorrection {
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

/// The flow's tasks, wired as the module's diagram shows; a variable BCSD does not downscale is an error.
pub fn tasks(inputs: &BcsdInputs) -> Result<Vec<Task>, TaskError> {
    let temperature = match inputs.variable.as_str() {
        "tas" | "tasmax" | "tasmin" => true,
        "pr" => false,
        other => return Err(TaskError::new(format!("BCSD downscales tas, tasmax, tasmin or pr, not '{other}'"))),
    };
    let selection = |years: [i32; 2], margin: usize| Selection {
        variable: inputs.variable.clone(),
        years,
        bbox: inputs.bbox,
        margin,
    };
    let read = |id: &str, name: &str, source: &Source, selection: Selection| {
        let (location, file_variable) = (source.location.clone(), source.file_variable.clone());
        let params = json!({"source": source.identity, "selection": selection});
        Task::new(id, name, 2, ArtifactKind::Zarr, move |ctx| {
            write_selected(ctx, &location, &file_variable, &selection, &intermediate_options("input data"))
        })
        .params(params)
    };
    // Whole maps for the fields the next task reads by days; whole series, in the published store's chunks, for the
    // corrected field, which `postprocess` streams tile by tile into that store.
    let regrid = |id: &str, source: &str, grid_of: &str, series: bool| {
        Task::new(id, "regrid", 2, ArtifactKind::Zarr, move |ctx| {
            if series {
                let options = WriteOptions {
                    compression: INTERMEDIATE_COMPRESSION,
                    provenance: intermediate_provenance("regridded"),
                    ..write_options("regridded")
                };
                regrid_onto_tiles(ctx, "source", "grid", &options)
            } else {
                regrid_onto(ctx, "source", "grid", &intermediate_options("regridded"))
            }
        })
        .params(
            json!({"method": "bilinear", "extrapolation": "nearest", "chunks": if series { "series" } else { "maps" }}),
        )
        .input("source", source)
        .input("grid", grid_of)
    };
    let variant = inputs.variant;
    let method = variant.coarse_correction(temperature);
    let detail = variant.detail(temperature);
    let attrs = inputs.output_attrs.clone();
    let summary = |id: &str, period: Period| {
        let body_attrs = attrs.clone();
        let statistic = Statistic::for_variable(&inputs.variable);
        Task::new(id, "time_summary", 2, ArtifactKind::Zarr, move |ctx| {
            let daily = ctx.open_input("daily")?;
            let (labels, periods) = summary_labels(daily.template(), period, statistic)?;
            let &[days, rows, columns] = daily.shape() else {
                return Err(TaskError::new(format!("{}: not a (time, lat, lon) field", daily.template().source)));
            };
            // Tile by tile of the daily store's chunks, which the summary's chunks follow.
            let tile = chunk_shape(daily.shape(), true, ChunkLayout::FullTime, 4, PUBLISHED_CHUNK_BYTES);
            let options = WriteOptions {
                chunk_shape: Some(vec![periods.len(), tile[1], tile[2]]),
                ..write_options(match period {
                    Period::Month => "BCSD monthly summary",
                    Period::Year => "BCSD annual summary",
                })
            };
            let shape = [periods.len(), rows, columns];
            let cell_bytes = 4 * (days + periods.len());
            map_tiles(ctx, &with_attrs(labels, &body_attrs), &shape, cell_bytes, &options, |lat, lon| {
                let block = daily.read_block(&[0..days, lat, lon])?;
                let values = block.data.view().into_dimensionality::<Ix3>().map_err(TaskError::new)?;
                Ok(summary_values(values, &periods, statistic).into_dyn())
            })
        })
        .params(json!({"period": period, "statistic": statistic, "attrs": attrs}))
        .input("daily", "postprocess")
    };
    let postprocess_attrs = attrs.clone();
    Ok(vec![
        read("get_obs", "get_obs", &inputs.obs, selection(inputs.train, 0)),
        read("get_experiment_train", "get_experiment", &inputs.train_model, selection(inputs.train, MODEL_MARGIN)),
        read(
            "get_experiment_predict",
            "get_experiment",
            &inputs.predict_model,
            selection(inputs.predict, MODEL_MARGIN),
        ),
        regrid("coarsen_obs", "get_obs", "get_experiment_train", false),
        regrid("interpolate_obs", "coarsen_obs", "get_obs", false),
        Task::new("spatial_anomalies", "bcsd_spatial_anomalies", 1, ArtifactKind::Zarr, move |ctx| {
            let (obs, interpolated) = (ctx.open_input("obs")?, ctx.open_input("interpolated")?);
            let anomalies = spatial_anomalies(&obs, &interpolated, detail, ctx.budget())?;
            ctx.write_array(&anomalies, &intermediate_options("BCSD spatial anomalies"))
        })
        .params(json!({"detail": detail.as_str()}))
        .input("obs", "get_obs")
        .input("interpolated", "interpolate_obs"),
        Task::new("bias_correct", "bcsd_fit_and_predict", 2, ArtifactKind::Zarr, move |ctx| {
            let corrected = correct_points(
                &method,
                &ctx.read_array("reference")?,
                &ctx.read_array("hist")?,
                &ctx.read_array("sim")?,
            )?;
            ctx.write_array(&corrected, &intermediate_options("BCSD bias-corrected model"))
        })
        .params(correction_params(variant, temperature))
        .input("reference", "coarsen_obs")
        .input("hist", "get_experiment_train")
        .input("sim", "get_experiment_predict"),
        regrid("interpolate_corrected", "bias_correct", "get_obs", true),
        Task::new("land_mask", "land_mask", 1, ArtifactKind::Zarr, |ctx| {
            let mask = land_mask(&ctx.read_template("grid")?, LAND_BUFFER_DEGREES)?;
            ctx.write_array(&mask, &intermediate_options("land mask"))
        })
        .params(json!({"land": "natural-earth-10m", "buffer_degrees": LAND_BUFFER_DEGREES}))
        .input("grid", "get_obs"),
        Task::new("postprocess", "bcsd_postprocess", 3, ArtifactKind::Zarr, move |ctx| {
            postprocess(ctx, &postprocess_attrs, detail)
        })
        .params(json!({"attrs": attrs, "detail": detail.as_str()}))
        .input("fine", "interpolate_corrected")
        .input("anomalies", "spatial_anomalies")
        .input("land", "land_mask"),
        summary("summary_month", Period::Month),
        summary("summary_year", Period::Year),
    ])
}

/// The `bias_correct` task's parameters. The BCSD point variants keep the parameters (and so the cache keys) they
/// had before the default variant existed.
fn correction_params(variant: BcsdVariant, temperature: bool) -> Value {
    match variant {
        BcsdVariant::QuantileDeltaMapping { nquantiles } => json!({
            "method": "qdm",
            "kind": if temperature { "additive" } else { "multiplicative" },
            "group": "month",
            "nquantiles": nquantiles,
            "interp": "linear",
            "extrapolation": "constant",
            "jitter_under": (!temperature).then_some(JITTER_UNDER_MM_PER_DAY),
            "seed": 0,
        }),
        BcsdVariant::BcsdPoint | BcsdVariant::CarbonPlanCompat => json!({
            "method": if temperature { "bcsd-temperature" } else { "bcsd-precipitation" },
            "fit_order": if variant == BcsdVariant::BcsdPoint { "documented" } else { "carbonplan" },
        }),
    }
}

fn postprocess(ctx: &TaskContext, attrs: &Value, detail: Detail) -> Result<(), TaskError> {
    let anomalies = ctx.read_array("anomalies")?;
    let land = as_land(&ctx.read_array("land")?)?;
    // The corrected field is stored in the published store's chunks: tile by tile, every day of a block of cells.
    let fine = ctx.open_input("fine")?;
    if land.shape() != &fine.shape()[1..] {
        return Err(TaskError::new(format!("{}: the land mask is not on this grid", fine.template().source)));
    }
    let labels = with_attrs(fine.template().clone(), attrs);
    // A cell's cost: its days read and written.
    map_tiles(ctx, &labels, fine.shape(), 8 * fine.shape()[0], &write_options("BCSD downscaled"), |lat, lon| {
        let block = fine.read_block(&[0..fine.shape()[0], lat.clone(), lon.clone()])?;
        let maps = anomalies.block(&[0..12, lat.clone(), lon.clone()])?;
        let land = land.slice(ndarray::s![lat, lon]).to_owned();
        Ok(restore_detail_and_mask(block, &maps, &land, detail)?.data)
    })
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

/// Intermediates are read once or twice by later tasks from the local cache and never published, so they are coded
/// for speed: Blosc/LZ4 took a fifth off the flow's wall time compared with Blosc's fastest zstd level, for an eighth
/// more bytes written in all (levels 1 and 9 were no faster than 5, zarr-python's default).
const INTERMEDIATE_COMPRESSION: Compression = Compression::Lz4 { level: 5 };

fn intermediate_options(title: &str) -> WriteOptions {
    WriteOptions {
        compression: INTERMEDIATE_COMPRESSION,
        layout: ChunkLayout::FullSpace,
        chunk_bytes: INTERMEDIATE_CHUNK_BYTES,
        provenance: intermediate_provenance(title),
        ..write_options(title)
    }
}

/// An intermediate's attributes add no history entry: a published store lists the run once, not once per task.
fn intermediate_provenance(title: &str) -> Provenance {
    Provenance { history_entry: String::new(), ..write_options(title).provenance }
}

fn write_options(title: &str) -> WriteOptions {
    WriteOptions {
        chunk_bytes: PUBLISHED_CHUNK_BYTES,
        provenance: Provenance {
            title: Some(title.into()),
            source: Some(format!("downscale {}", env!("CARGO_PKG_VERSION"))),
            history_entry: format!("downscale run (BCSD): {title}"),
            ..Provenance::default()
        },
        ..WriteOptions::default()
    }
}

/// The array with a published store's global attributes: the run's `attrs` (its id and parameters, what was
/// downscaled), and of the inputs' attributes only `history` and `frequency`; the rest describe the model's files.
fn with_attrs(mut array: downscale_data::DataArray, attrs: &Value) -> downscale_data::DataArray {
    array.global_attrs.retain(|key, _| key == "history" || key == "frequency");
    if let Some(map) = attrs.as_object() {
        for (key, value) in map {
            let text = value.as_str().map_or_else(|| value.to_string(), str::to_string);
            array.global_attrs.insert(key.clone(), AttrValue::Text(text));
        }
    }
    array
}
