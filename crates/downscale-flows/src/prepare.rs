//! From a parameter file to a runnable flow: the method's tasks with their data found in the catalogs, the
//! outputs to publish, and the attributes that record the run.

use downscale_catalog::Catalog;
use downscale_config::Settings;
use downscale_engine::{Flow, Output};
use downscale_params::{Method, RunParameters};
use serde_json::{Value, json};

use crate::error::FlowError;
use crate::sources::{Source, model_run, observations};
use crate::tasks::evaluate::{EvaluateParams, add_evaluation};
use crate::{bcsd, gard};

/// What a method's build function reads: the parameter file (as read from `file`), the configuration and the
/// catalogs.
pub struct RunInputs<'a> {
    /// The run's parameters.
    pub parameters: &'a RunParameters,
    /// The parameter file as the user named it, for messages.
    pub file: &'a str,
    /// The configuration.
    pub settings: &'a Settings,
    /// The catalog of model runs.
    pub model_catalog: &'a Catalog,
    /// The catalog of observations.
    pub obs_catalog: &'a Catalog,
}

impl RunInputs<'_> {
    /// The model run of `experiment` with the run's model, member, table, grid and variable.
    pub fn model(&self, experiment: &str) -> Result<Source, FlowError> {
        let p = self.parameters;
        model_run(self.model_catalog, &p.model, &p.member, &p.table_id, &p.grid_label, experiment, &p.variable)
    }

    /// The model run of `experiment` with the run's model, member, table and grid, of `variable` (a GARD predictor).
    pub fn model_of(&self, experiment: &str, variable: &str) -> Result<Source, FlowError> {
        let p = self.parameters;
        model_run(self.model_catalog, &p.model, &p.member, &p.table_id, &p.grid_label, experiment, variable)
    }

    /// The run's observations of its variable.
    pub fn observations(&self) -> Result<Source, FlowError> {
        observations(self.obs_catalog, &self.parameters.obs, &self.parameters.variable)
    }

    /// An error about the parameter file.
    pub fn refuse(&self, detail: impl Into<String>) -> FlowError {
        FlowError::Parameters { file: self.file.to_string(), detail: detail.into() }
    }
}

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
    let run = RunInputs { parameters, file, settings, model_catalog, obs_catalog };
    // One build function per method: it finds its data, wires its tasks and names its outputs.
    let (mut tasks, mut outputs) = match parameters.method {
        Method::Bcsd => bcsd::build(&run, &mut attrs)?,
        Method::Gard | Method::GardMultivariate => gard::build(&run, &mut attrs)?,
        other => {
            return Err(run.refuse(format!(
                "method '{}' has no flow in this build yet (bcsd, gard and gard_multivariate have)",
                other.as_str()
            )));
        }
    };
    if settings.run_options.evaluate {
        let predicted = parameters.predict.years();
        let in_phase = attrs["driving_activity_id"].as_str().is_some_and(|a| a.eq_ignore_ascii_case("reanalysis"));
        let params = EvaluateParams {
            run_id: run_id.clone(),
            variable: parameters.variable.clone(),
            years: [predicted.0, predicted.1],
            in_phase,
        };
        add_evaluation(&mut tasks, &mut outputs, &params).map_err(|e| run.refuse(e.to_string()))?;
    }
    let flow = Flow::new(parameters.method.as_str(), tasks, crate::kinds())?;
    Ok(PreparedRun { run_id, flow, outputs, parameters: document, attrs })
}

/// The catalog columns that identify a model run or an observational data set (not its files).
const IDENTITY_COLUMNS: [&str; 7] =
    ["activity_id", "institution_id", "source_id", "experiment_id", "member_id", "table_id", "grid_label"];

/// Records what was downscaled, from the catalogs: `driving_<column>` for the predicted model run (as CORDEX names
/// the driving model of a downscaled product) and `observations_<column>` for the observations. The outputs carry
/// these instead of the model files' own global attributes, which describe those files (their product, tracking ids,
/// creation dates), not the downscaled product.
pub(crate) fn add_identities(attrs: &mut Value, model: &Source, obs: &Source) {
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
