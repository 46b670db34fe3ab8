//! From a parameter file to a runnable flow: the method's tasks with their data found in the catalogs, the
//! outputs to publish, and the attributes that record the run.

use downscale_catalog::Catalog;
use downscale_config::Settings;
use downscale_engine::{Flow, Output};
use downscale_params::{BcsdCorrection, Method, RunParameters};
use serde_json::{Value, json};

use crate::bcsd::{self, BcsdInputs, BcsdVariant};
use crate::error::FlowError;
use crate::sources::{Source, model_run, observations};

/// A run ready for the engine.
pub struct PreparedRun {
    /// The original's run id, which names the results folder.
    pub run_id: String,
    /// The method's tasks.
    pub flow: Flow,
    /// What to publish when the flow succeeds, and under which names.
    pub outputs: Vec<Output>,
    /// The parameter file's document.
    pub parameters: Value,
    /// Attributes of the manifest and the outputs.
    pub attrs: Value,
}

/// Prepares the run of `parameters` (read from `file`).
pub fn prepare(
    parameters: &RunParameters,
    file: &str,
    settings: &Settings,
    model_catalog: &Catalog,
    obs_catalog: &Catalog,
) -> Result<PreparedRun, FlowError> {
    let run_id = parameters.run_id();
    let document = Value::Object(parameters.to_json().clone());
    let mut attrs = json!({
        "run_id": run_id,
        "run_id_hash": parameters.run_id_hash(),
        "run_parameters": document.to_string(),
        "method": parameters.method.as_str(),
    });
    let (south, north) = parameters.bbox.latitudes();
    let bbox = [south, north, parameters.bbox.lonmin.value, parameters.bbox.lonmax.value];
    let (train, predict) = (parameters.train.years(), parameters.predict.years());
    let model = |experiment: &str| {
        model_run(
            model_catalog,
            &parameters.model,
            &parameters.member,
            &parameters.table_id,
            &parameters.grid_label,
            experiment,
            &parameters.variable,
        )
    };
    let (tasks, outputs) = match parameters.method {
        Method::Bcsd => {
            let (obs, predict_model) =
                (observations(obs_catalog, &parameters.obs, &parameters.variable)?, model(&parameters.scenario)?);
            add_identities(&mut attrs, &predict_model, &obs);
            let variant = bcsd_variant(parameters, settings.run_options.carbonplan_compat)
                .map_err(|detail| FlowError::Parameters { file: file.to_string(), detail })?;
            attrs["bcsd_variant"] = variant.as_str().into();
            let inputs = BcsdInputs {
                variable: parameters.variable.clone(),
                bbox,
                train: [train.0, train.1],
                predict: [predict.0, predict.1],
                obs,
                train_model: model("historical")?,
                predict_model,
                variant,
                output_attrs: attrs.clone(),
            };
            let tasks = bcsd::tasks(&inputs)
                .map_err(|e| FlowError::Parameters { file: file.to_string(), detail: e.to_string() })?;
            (tasks, bcsd::outputs(&inputs))
        }
        other => {
            return Err(FlowError::Parameters {
                file: file.to_string(),
                detail: format!("method '{}' has no flow in this build yet (bcsd has)", other.as_str()),
            });
        }
    };
    let flow = Flow::new(parameters.method.as_str(), tasks, crate::kinds())?;
    Ok(PreparedRun { run_id, flow, outputs, parameters: document, attrs })
}

/// The BCSD variant of a run: the original system's flow under `run_options.carbonplan_compat`, otherwise what
/// `bias_correction_method` chose (quantile delta mapping when it names none). The original's files name none or
/// `""`; naming this tool's default explicitly while asking for the original's flow is a contradiction, not a choice.
fn bcsd_variant(parameters: &RunParameters, carbonplan_compat: bool) -> Result<BcsdVariant, String> {
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

/// The catalog columns that identify a model run or an observational data set (not its files).
const IDENTITY_COLUMNS: [&str; 7] =
    ["activity_id", "institution_id", "source_id", "experiment_id", "member_id", "table_id", "grid_label"];

/// Records what was downscaled, from the catalogs: `driving_<column>` for the predicted model run (as CORDEX names
/// the driving model of a downscaled product) and `observations_<column>` for the observations. The outputs carry
/// these instead of the model files' own global attributes, which describe those files (their product, tracking ids,
/// creation dates), not the downscaled product.
fn add_identities(attrs: &mut Value, model: &Source, obs: &Source) {
    let Some(attrs) = attrs.as_object_mut() else {
        return;
    };
    for (prefix, source) in [("driving", model), ("observations", obs)] {
        for column in IDENTITY_COLUMNS {
            if let Some(value) = source.fields.get(column) {
                attrs.insert(format!("{prefix}_{column}"), value.clone());
            }
        }
    }
}
