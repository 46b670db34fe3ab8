//! The GARD flows, `gard` (one predictor: the variable itself) and `gard_multivariate` (several): wiring only; the
//! work is in `tasks::gard_model` and the methods crate, GARD's kinds in [`kinds`].
//!
//! ```text
//! get_obs (target) ─────────────────────────────────────────┐
//! per predictor f:                                           ▼
//!   training source of f ─► [coarsen_f] ─► train_f ──► fit_and_predict ──► (model) ──► postprocess ──► summary_month
//!   get_experiment_predict_f ──────────► predict_f ───┘                    random_field ──┘ land_mask ┘ └─► summary_year
//! ```
//!
//! A predictor's training values come from a **predictor product** when the observation catalog has one for the
//! run's observations (rows whose `predictors_for` column names them, such as NCEP-R1 reanalysis for E-OBS): the
//! model learns the observations from reanalysed large-scale fields (perfect prognosis) and is applied to the climate
//! model's fields of the same variables. Otherwise they are the observations of that variable coarsened onto the
//! climate model's grid (CarbonPlan's GARD), so the model learns fine detail from the coarse field. Either way the
//! training and prediction fields are interpolated bilinearly onto the observations' grid tile by tile inside
//! `fit_and_predict`, never stored there, and each predictor of the prediction period is quantile-mapped onto its
//! training distribution at every cell before the model sees it.
//!
//! Published: the daily stochastic output (`...day.GARD-SV.<var>.zarr`, `GARD-MV` for several predictors), its
//! monthly and annual summaries, and the deterministic model output (`model`: `pred`, `prediction_error`,
//! `exceedance_prob` on the observations' grid), from which ensembles of other realisations can be drawn.

mod kinds;

pub use kinds::{FieldParams, FitAndPredict, FitParams, GardPostprocess, PostprocessParams, RandomField};

use downscale_config::FieldLengths;
use downscale_engine::{Output, Task, TaskError};
use downscale_params::{AnalogKindName, GardModel, GardModelType, RunParameters};
use serde_json::Value;

use crate::error::FlowError;
use crate::prepare::{RunInputs, add_identities};
use crate::shared::{
    GetExperiment, GetObs, LandMask, LandMaskParams, ReadParams, Regrid, RegridParams, SummaryParams, TimeSummary,
};
use crate::sources::{Source, observations, predictor_product};
use crate::tasks::gard_model::Predictor;
use crate::tasks::inputs::Selection;
use crate::tasks::summary::{Period, Statistic};

/// Model cells kept around the run's box, so bilinear interpolation onto the box has neighbours everywhere.
const MODEL_MARGIN: usize = 2;

/// Land: Natural Earth 1:10m land buffered by 1°, the original's mask.
const LAND_BUFFER_DEGREES: f64 = 1.0;

/// Where a predictor's training values come from.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainingSource {
    /// A predictor product of the observations (reanalysis), on its own grid.
    Product(Source),
    /// The observations of the variable, coarsened onto the climate model's grid.
    CoarsenedObs(Source),
}

/// One predictor's data.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictorInputs {
    /// How the model uses it.
    pub predictor: Predictor,
    /// Its training values.
    pub training: TrainingSource,
    /// The climate model's run of it over the predicted years.
    pub prediction: Source,
}

/// What a GARD flow needs, resolved from the parameter file, the catalogs and the configuration.
pub struct GardInputs {
    /// The variable downscaled (`tas`, `tasmax`, `tasmin` or `pr`).
    pub variable: String,
    /// `[latmin, latmax, lonmin, lonmax]`.
    pub bbox: [f64; 4],
    /// First and last training year.
    pub train: [i32; 2],
    /// First and last predicted year.
    pub predict: [i32; 2],
    /// The observations of the variable.
    pub obs: Source,
    /// The predictors, in the file's order.
    pub predictors: Vec<PredictorInputs>,
    /// The model.
    pub model: GardModel,
    /// Reproduce scikit-downscale's slips in the analogue models.
    pub compat: bool,
    /// The seed of the random field (and of `sample_analogs`).
    pub seed: u64,
    /// The random field's correlation lengths.
    pub field: FieldLengths,
    /// Global attributes of the outputs.
    pub output_attrs: Value,
}

impl GardInputs {
    /// `GARD-SV` or `GARD-MV`, as the original named its products.
    fn label(&self) -> &'static str {
        if self.predictors.len() > 1 { "GARD-MV" } else { "GARD-SV" }
    }

    fn precipitation(&self) -> bool {
        self.variable == "pr"
    }
}

/// The GARD run of `run`: its data from the catalogs, its tasks and outputs; records the model and the random
/// field in `attrs`.
pub fn build(run: &RunInputs, attrs: &mut Value) -> Result<(Vec<Task>, Vec<Output>), FlowError> {
    let parameters = run.parameters;
    let obs = run.observations()?;
    let features = parameters.features.clone().unwrap_or_else(|| vec![parameters.variable.clone()]);
    let mut predictors = Vec::with_capacity(features.len());
    for (i, feature) in features.iter().enumerate() {
        let correction = parameters.predictor_correction(feature).ok_or_else(|| {
            run.refuse(format!(
                "bias_correction_method: GARD corrects its predictors with quantile_mapper or none, not `{}`",
                parameters.bias_correction_method.as_deref().unwrap_or("")
            ))
        })?;
        let training =
            training_source(run, &obs, feature).map_err(|detail| run.refuse(format!("features[{i}]: {detail}")))?;
        let prediction = run.model_of(&parameters.scenario, feature)?;
        predictors.push(PredictorInputs {
            // Precipitation is skewed: the model sees its cube root.
            predictor: Predictor { variable: feature.clone(), correction, cube_root: feature == "pr" },
            training,
            prediction,
        });
    }
    add_identities(attrs, &predictors[0].prediction, &obs);
    let mut inputs = inputs(run, obs, predictors)?;
    for (key, value) in field_attributes(&inputs) {
        attrs[key] = value;
    }
    inputs.output_attrs = attrs.clone();
    let tasks = tasks(&inputs).map_err(|e| run.refuse(e.to_string()))?;
    Ok((tasks, outputs(&inputs)))
}

/// The run's inputs, its global attributes left for the caller; the random field's lengths are checked here,
/// before anything runs.
fn inputs(run: &RunInputs, obs: Source, predictors: Vec<PredictorInputs>) -> Result<GardInputs, FlowError> {
    let parameters: &RunParameters = run.parameters;
    let (south, north) = parameters.bbox.latitudes();
    let (train, predict) = (parameters.train.years(), parameters.predict.years());
    let settings = run.settings;
    let kind = if parameters.variable == "pr" { "precipitation" } else { "temperature" };
    let fields = &settings.gard.random_fields;
    let field = if kind == "precipitation" { fields.precipitation } else { fields.temperature };
    for (name, value) in [("length_km", field.length_km), ("length_days", field.length_days)] {
        if !(value.is_finite() && value > 0.0) {
            return Err(FlowError::Configuration {
                key: format!("gard.random_fields.{kind}.{name}"),
                detail: format!("expected a positive length, found {value}"),
            });
        }
    }
    Ok(GardInputs {
        variable: parameters.variable.clone(),
        bbox: [south, north, parameters.bbox.lonmin.value, parameters.bbox.lonmax.value],
        train: [train.0, train.1],
        predict: [predict.0, predict.1],
        obs,
        predictors,
        model: parameters.gard_model(),
        compat: settings.run_options.carbonplan_compat,
        seed: settings.run_options.seed,
        field,
        output_attrs: Value::Null,
    })
}

/// The attributes that say how the random effects were drawn, so a user can draw the same realisation again or
/// another one.
fn field_attributes(inputs: &GardInputs) -> Vec<(&'static str, Value)> {
    vec![
        ("gard_model", serde_json::to_string(&inputs.model).unwrap_or_default().into()),
        ("random_field_method", "Gaussian covariance: white noise convolved in space (FFT) and time".into()),
        ("random_field_seed", inputs.seed.into()),
        ("random_field_length_km", inputs.field.length_km.into()),
        ("random_field_length_days", inputs.field.length_days.into()),
    ]
}

/// The training source of `feature`: the predictor product of the observations when the catalog has one for it,
/// else the observations of the feature. `Err` says what the catalog lacks.
fn training_source(run: &RunInputs, obs: &Source, feature: &str) -> Result<TrainingSource, String> {
    let obs_name = &run.parameters.obs;
    if let Some(product) = predictor_product(run.obs_catalog, obs_name, feature).map_err(|e| e.to_string())? {
        return Ok(TrainingSource::Product(product));
    }
    if feature == run.parameters.variable {
        return Ok(TrainingSource::CoarsenedObs(obs.clone()));
    }
    observations(run.obs_catalog, obs_name, feature).map(TrainingSource::CoarsenedObs).map_err(|_| {
        format!(
            "the observation catalog has no `{feature}` for `{obs_name}` and no predictor product for it (a row of \
             `{feature}` whose predictors_for is `{obs_name}`)"
        )
    })
}

/// The flow's tasks, wired as the module's diagram shows; a variable GARD does not downscale is an error.
pub fn tasks(inputs: &GardInputs) -> Result<Vec<Task>, TaskError> {
    let method = inputs.label();
    if !["tas", "tasmax", "tasmin", "pr"].contains(&inputs.variable.as_str()) {
        return Err(TaskError::new(format!("GARD downscales tas, tasmax, tasmin or pr, not '{}'", inputs.variable)));
    }
    let read = |source: &Source, variable: &str, years: [i32; 2], margin: usize| ReadParams {
        file_variable: source.file_variable.clone(),
        selection: Selection { variable: variable.to_string(), years, bbox: inputs.bbox, margin },
        method: method.into(),
    };
    let external =
        |task: Task, source: &Source| task.external("source", source.location.clone(), source.identity.clone());
    let mut tasks = vec![external(
        Task::of::<GetObs>("get_obs", &read(&inputs.obs, &inputs.variable, inputs.train, 0))?,
        &inputs.obs,
    )];
    let mut fit_inputs = vec![("target".to_string(), "get_obs".to_string())];
    for (j, predictor) in inputs.predictors.iter().enumerate() {
        let feature = &predictor.predictor.variable;
        let predict_task = format!("get_experiment_predict_{feature}");
        tasks.push(external(
            Task::of::<GetExperiment>(
                &predict_task,
                &read(&predictor.prediction, feature, inputs.predict, MODEL_MARGIN),
            )?,
            &predictor.prediction,
        ));
        let train_task = match &predictor.training {
            TrainingSource::Product(source) => {
                let id = format!("get_predictor_{feature}");
                tasks.push(external(
                    Task::of::<GetObs>(&id, &read(source, feature, inputs.train, MODEL_MARGIN))?,
                    source,
                ));
                id
            }
            TrainingSource::CoarsenedObs(source) => {
                let obs_task = if *feature == inputs.variable {
                    "get_obs".to_string()
                } else {
                    let id = format!("get_obs_{feature}");
                    tasks.push(external(Task::of::<GetObs>(&id, &read(source, feature, inputs.train, 0))?, source));
                    id
                };
                let id = format!("coarsen_{feature}");
                tasks.push(
                    Task::of::<Regrid>(&id, &RegridParams { method: method.into() })?
                        .input("source", &obs_task)
                        .input("grid", &predict_task),
                );
                id
            }
        };
        fit_inputs.push((format!("train_{j}"), train_task));
        fit_inputs.push((format!("predict_{j}"), predict_task));
    }
    let fit_params = FitParams {
        predictors: inputs.predictors.iter().map(|p| p.predictor.clone()).collect(),
        model: inputs.model,
        cube_root_target: inputs.precipitation(),
        compat: inputs.compat,
        // Only `sample_analogs` draws at random: other models' cache keys do not change with the seed.
        seed: (inputs.model.model_type == GardModelType::PureAnalog
            && inputs.model.kind == AnalogKindName::SampleAnalogs)
            .then_some(inputs.seed),
        method: method.into(),
        attrs: inputs.output_attrs.clone(),
    };
    let mut fit = Task::sharded::<FitAndPredict>("fit_and_predict", &fit_params)?;
    for (role, task) in &fit_inputs {
        fit = fit.input(role, task);
    }
    tasks.push(fit);
    let first_prediction = format!("get_experiment_predict_{}", inputs.predictors[0].predictor.variable);
    let field =
        FieldParams { length_km: inputs.field.length_km, length_days: inputs.field.length_days, seed: inputs.seed };
    tasks.push(
        Task::of::<RandomField>("random_field", &field)?.input("grid", "get_obs").input("days", &first_prediction),
    );
    tasks.push(
        Task::of::<LandMask>(
            "land_mask",
            &LandMaskParams { buffer_degrees: LAND_BUFFER_DEGREES, method: method.into() },
        )?
        .input("grid", "get_obs"),
    );
    let post = PostprocessParams {
        variable: inputs.variable.clone(),
        method: method.into(),
        attrs: inputs.output_attrs.clone(),
    };
    tasks.push(
        Task::sharded::<GardPostprocess>("postprocess", &post)?
            .input("model", "fit_and_predict")
            .input("field", "random_field")
            .input("land", "land_mask"),
    );
    for (id, period, title) in
        [("summary_month", Period::Month, "monthly summary"), ("summary_year", Period::Year, "annual summary")]
    {
        let params = SummaryParams {
            period,
            statistic: Statistic::for_variable(&inputs.variable),
            title: format!("{method} {title}"),
            method: method.into(),
            attrs: inputs.output_attrs.clone(),
        };
        tasks.push(Task::sharded::<TimeSummary>(id, &params)?.input("daily", "postprocess"));
    }
    Ok(tasks)
}

/// The published outputs, named like the original's stores
/// (`<activity>.<institution>.<source>.<experiment>.<member>.<day|month|year>.GARD-SV.<var>.zarr`), and the model
/// output beside the daily store.
pub fn outputs(inputs: &GardInputs) -> Vec<Output> {
    let fields = &inputs.predictors[0].prediction.fields;
    let field = |name: &str| fields.get(name).and_then(Value::as_str).unwrap_or("unknown").to_string();
    let stem =
        [field("activity_id"), field("institution_id"), field("source_id"), field("experiment_id"), field("member_id")]
            .join(".");
    let (label, variable) = (inputs.label(), &inputs.variable);
    let mut outputs: Vec<Output> =
        [("daily", "postprocess", "day"), ("monthly", "summary_month", "month"), ("annual", "summary_year", "year")]
            .into_iter()
            .map(|(dataset, task, timescale)| Output {
                dataset: dataset.into(),
                task_id: task.into(),
                published_name: format!("{stem}.{timescale}.{label}.{variable}.zarr"),
            })
            .collect();
    outputs.push(Output {
        dataset: "model".into(),
        task_id: "fit_and_predict".into(),
        published_name: format!("{stem}.day.{label}.{variable}.model.zarr"),
    });
    outputs
}
