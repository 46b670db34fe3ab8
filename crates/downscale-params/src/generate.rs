//! Generating parameter files: methods × models × members × scenarios × variables, from what a data catalog holds,
//! with the original's per-method templates and rules.

use serde_json::{Map, Value, json};

use crate::coverage::{Coverage, DataCoverage, ModelData, check_coverage, variables_of};
use crate::method::Method;
use crate::parameters::RunParameters;
use crate::variables::{self, Correction};

/// A model run the catalog holds: one (model, member, experiment) with the grid and table of its daily data.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Experiment {
    /// The model.
    pub source_id: String,
    /// The ensemble member.
    pub member_id: String,
    /// `historical` or a scenario.
    pub experiment_id: String,
    /// The CMIP table of its daily data, e.g. `day`.
    pub table_id: String,
    /// The grid of its daily data, e.g. `gn`.
    pub grid_label: String,
}

/// What to generate. The defaults are the original's production rules.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The downscaling methods to write files for.
    pub methods: Vec<Method>,
    /// Restrict to these models (empty: every one the catalog has).
    pub models: Vec<String>,
    /// Restrict to these members (empty: every one the catalog has).
    pub members: Vec<String>,
    /// Restrict to these scenarios (empty: every one the catalog has); `historical` is a scenario here.
    pub scenarios: Vec<String>,
    /// The target variables.
    pub variables: Vec<String>,
    /// The observation product every run trains on.
    pub obs: String,
    /// `latmin`, `latmax`, `lonmin`, `lonmax`, written as strings as the original did.
    pub bbox: [String; 4],
    /// First and last training year, inclusive.
    pub train: (i32, i32),
    /// Prediction years of historical runs.
    pub historical: (i32, i32),
    /// Prediction years of scenario runs.
    pub future: (i32, i32),
    /// The predictors `gard_multivariate` puts before the target variable.
    pub multivariate_predictors: Vec<String>,
}

impl Default for Plan {
    fn default() -> Plan {
        Plan {
            methods: Method::ALL.to_vec(),
            models: Vec::new(),
            members: Vec::new(),
            scenarios: Vec::new(),
            variables: ["tasmax", "tasmin", "pr"].map(String::from).to_vec(),
            obs: "ERA5".into(),
            bbox: ["-90", "90", "-180", "180"].map(String::from),
            train: (1981, 2010),
            historical: (1950, 2014),
            future: (2015, 2099),
            multivariate_predictors: vec!["ua".into(), "va".into()],
        }
    }
}

/// A combination the plan names that was not written, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The run id the file would have had.
    pub run_id: String,
    /// Which data are missing, or why the combination makes no run.
    pub reason: String,
}

/// The parameter files of a plan: the runs whose data all exist, and the combinations skipped with the reason.
pub fn generate(
    plan: &Plan,
    experiments: &[Experiment],
    coverage: &dyn DataCoverage,
) -> (Vec<RunParameters>, Vec<Skipped>) {
    let selected = |wanted: &[String], value: &str| wanted.is_empty() || wanted.iter().any(|w| w == value);
    let mut runs = Vec::new();
    let mut skipped = Vec::new();
    let mut experiments: Vec<&Experiment> = experiments
        .iter()
        .filter(|e| selected(&plan.models, &e.source_id) && selected(&plan.members, &e.member_id))
        .filter(|e| selected(&plan.scenarios, &e.experiment_id))
        .collect();
    experiments.sort();
    experiments.dedup();
    for &method in &plan.methods {
        for experiment in &experiments {
            if method == Method::Maca && experiment.experiment_id == "historical" {
                continue; // MACA predicts historical and scenario years in one run of each scenario.
            }
            for variable in &plan.variables {
                let document = template(plan, method, experiment, variable);
                let text = serde_json::to_string(&document).expect("a JSON map serialises");
                let parameters = match RunParameters::parse(&text, "generated") {
                    Ok(parameters) => parameters,
                    Err(problems) => {
                        let run_id = document_name(&document);
                        skipped.push(Skipped { run_id, reason: problems.lines().collect::<Vec<_>>().join("; ") });
                        continue;
                    }
                };
                match missing_data(&parameters, coverage) {
                    None => runs.push(parameters),
                    Some(reason) => skipped.push(Skipped { run_id: parameters.run_id(), reason }),
                }
            }
        }
    }
    (runs, skipped)
}

/// Why a run's data do not exist, `None` when they all do.
fn missing_data(parameters: &RunParameters, coverage: &dyn DataCoverage) -> Option<String> {
    // Quick presence check first, so that the common reason reads plainly.
    for variable in variables_of(parameters) {
        let model = ModelData {
            source_id: &parameters.model,
            member_id: &parameters.member,
            experiment_id: &parameters.scenario,
            table_id: &parameters.table_id,
            variable_id: variable,
            grid_label: &parameters.grid_label,
        };
        if matches!(coverage.model(&model), Ok(Coverage::Missing)) {
            return Some(format!(
                "no `{variable}` of {} {} {}",
                parameters.model, parameters.member, parameters.scenario
            ));
        }
    }
    let problems = check_coverage(parameters, coverage);
    (!problems.is_empty()).then(|| problems.iter().map(|p| p.message.clone()).collect::<Vec<_>>().join("; "))
}

/// A name for a combination that did not parse (a plan naming an unknown variable, say).
fn document_name(document: &Map<String, Value>) -> String {
    ["method", "model", "member", "scenario", "variable"]
        .iter()
        .filter_map(|key| document.get(*key).and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("_")
}

/// Whether the original detrended a feature before quantile mapping: temperatures yes, the others no.
fn detrend(feature: &str) -> bool {
    variables::lookup(feature).is_some_and(|v| v.target && v.correction == Correction::Absolute)
}

/// The features the original's GARD template lists options for, whatever the run's features are.
const GARD_OPTION_FEATURES: [&str; 6] = ["pr", "tasmin", "tasmax", "psl", "ua", "va"];

/// The parameter document of one run, keys in the original files' order (MACA's files have their own order).
/// BCSD, MACA and DeepSD leave out `features` (their flows use the variable itself), so that their run ids are the
/// original's file names.
fn template(plan: &Plan, method: Method, experiment: &Experiment, variable: &str) -> Map<String, Value> {
    let mut doc = Map::new();
    let mut put = |key: &str, value: Value| {
        doc.insert(key.to_owned(), value);
    };
    put("method", method.as_str().into());
    put("obs", plan.obs.as_str().into());
    put("model", experiment.source_id.as_str().into());
    put("member", experiment.member_id.as_str().into());
    put("grid_label", experiment.grid_label.as_str().into());
    put("table_id", experiment.table_id.as_str().into());
    put("scenario", experiment.experiment_id.as_str().into());
    let features: Vec<String> = match method {
        Method::Gard => vec![variable.to_owned()],
        Method::GardMultivariate => plan.multivariate_predictors.iter().cloned().chain([variable.to_owned()]).collect(),
        Method::Bcsd | Method::Maca | Method::Deepsd => Vec::new(),
    };
    if !features.is_empty() {
        put("features", json!(features));
    }
    put("variable", variable.into());
    let predict = match (method, experiment.experiment_id.as_str()) {
        (Method::Maca, _) => (plan.historical.0, plan.future.1),
        (_, "historical") => plan.historical,
        _ => plan.future,
    };
    let years = |(start, end): (i32, i32)| json!([start.to_string(), end.to_string()]);
    if method == Method::Maca {
        put("train_dates", years(plan.train));
        put("predict_dates", years(predict));
    }
    for (key, value) in ["latmin", "latmax", "lonmin", "lonmax"].iter().zip(&plan.bbox) {
        put(key, value.as_str().into());
    }
    match method {
        Method::Gard | Method::GardMultivariate => {
            put("bias_correction_method", "quantile_mapper".into());
            let mut named: Vec<&str> = GARD_OPTION_FEATURES.to_vec();
            named.extend(features.iter().map(String::as_str).filter(|f| !GARD_OPTION_FEATURES.contains(f)));
            let per_feature: Map<String, Value> =
                named.into_iter().map(|f| (f.to_owned(), json!({ "detrend": detrend(f) }))).collect();
            put("bias_correction_kwargs", Value::Object(per_feature));
            put("model_type", "PureRegression".into());
            put("model_params", if variable == "pr" { json!({ "thresh": 0 }) } else { json!({}) });
        }
        Method::Deepsd => {
            put("bias_correction_method", "quantile_mapper".into());
            put("bias_correction_kwargs", json!({ "detrend": detrend(variable) }));
        }
        Method::Bcsd | Method::Maca => {}
    }
    if method == Method::Maca {
        put("year_rolling_window", 31.into());
        put("day_rolling_window", 21.into());
    } else {
        put("train_dates", years(plan.train));
        put("predict_dates", years(predict));
    }
    doc
}
