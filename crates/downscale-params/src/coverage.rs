//! Checking a run's years against the data that exist: a run whose training or prediction years are not in the
//! data would fail hours later in a flow; here it fails at once, naming the key.

use crate::parameters::{PeriodKeys, RunParameters, YearRange};
use crate::problem::{Problem, did_you_mean};

/// One model variable of one experiment, keyed like CMIP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelData<'a> {
    /// The model (`model` key).
    pub source_id: &'a str,
    /// The ensemble member (`member` key).
    pub member_id: &'a str,
    /// `historical` for training, or the run's `scenario`.
    pub experiment_id: &'a str,
    /// The CMIP table (`table_id` key).
    pub table_id: &'a str,
    /// The target variable or a predictor.
    pub variable_id: &'a str,
    /// The grid (`grid_label` key).
    pub grid_label: &'a str,
}

/// Whether data exist, and which years they cover when the catalog says (`None`: present, years unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// No such data.
    Missing,
    /// The data exist, over these first and last years (inclusive) when known.
    Present(Option<(i32, i32)>),
}

/// What data exist: answered by data catalogs. `Err` is a catalog that cannot answer (e.g. an ambiguous match),
/// with a one-line message.
pub trait DataCoverage {
    /// Whether the model variable exists, and its years.
    fn model(&self, data: &ModelData<'_>) -> Result<Coverage, String>;
    /// Whether the observation product has the variable, and its years.
    fn obs(&self, source_id: &str, variable_id: &str) -> Result<Coverage, String>;
    /// When [`DataCoverage::model`] finds nothing for `data`: the catalog column whose value leaves no entry
    /// (`member_id`, `table_id`, `grid_label`, ...; the most general first) and the values it has among the entries
    /// the earlier columns leave, so a problem blames the key that is wrong. `None` when the source cannot tell.
    fn model_miss(&self, _data: &ModelData<'_>) -> Option<Miss> {
        None
    }
    /// Every model (`source_id`) the catalogs hold, for suggestions when a file names an unknown one.
    fn models(&self) -> Vec<String>;
    /// Every observation product, for suggestions when a file names an unknown one.
    fn obs_products(&self) -> Vec<String>;
    /// Where the model data are listed (a catalog file), for messages.
    fn model_source(&self) -> String;
    /// Where the observation data are listed (a catalog file), for messages.
    fn obs_source(&self) -> String;
}

/// Why model data are missing: `column` leaves no entry; it has `available` among the entries the columns before it
/// leave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miss {
    /// The catalog column, e.g. `member_id`.
    pub column: String,
    /// Its values among the entries the earlier columns leave.
    pub available: Vec<String>,
}

/// The parameter key behind a model catalog column, for a run predicting `scenario` and reading `variable`.
fn key_of_column(column: &str, parameters: &RunParameters, variable: &str) -> &'static str {
    match column {
        "member_id" => "member",
        "table_id" => "table_id",
        "grid_label" => "grid_label",
        "variable_id" if variable != parameters.variable => "features",
        "variable_id" => "variable",
        "experiment_id" if parameters.scenario != "historical" => "scenario",
        _ => "model",
    }
}

/// The variables a run reads: its target and its predictors.
pub(crate) fn variables_of(parameters: &RunParameters) -> Vec<&str> {
    let mut names = vec![parameters.variable.as_str()];
    for feature in parameters.features.iter().flatten() {
        if !names.contains(&feature.as_str()) {
            names.push(feature);
        }
    }
    names
}

/// The problems of a run whose data are missing or do not cover its years. Training needs the model's historical
/// run and the observations over `train_dates`; prediction needs the scenario over `predict_dates`, with the
/// historical run in front of it when the years start before the scenario does (as the original concatenated them).
pub fn check_coverage(parameters: &RunParameters, coverage: &dyn DataCoverage) -> Vec<Problem> {
    let (train_key, predict_key) = match parameters.period_keys {
        PeriodKeys::Dates => ("train_dates", "predict_dates"),
        PeriodKeys::LegacyPeriods => ("train_period", "predict_period"),
    };
    let mut problems = Vec::new();
    let (model_source, obs_source) = (coverage.model_source(), coverage.obs_source());
    // An unknown model or product is one problem, not one per variable and experiment.
    for (key, name, known, source) in [
        ("model", &parameters.model, coverage.models(), &model_source),
        ("obs", &parameters.obs, coverage.obs_products(), &obs_source),
    ] {
        if !known.contains(name) {
            let hint = did_you_mean(name, known.iter().map(String::as_str));
            problems.push(Problem::at(key, format!("`{name}` is not in {source}{hint}; it has {}", known.join(", "))));
        }
    }
    if !problems.is_empty() {
        return problems;
    }
    let mut fail = |key: &str, message: String| problems.push(Problem::at(key, message));
    for variable in variables_of(parameters) {
        let model = |experiment_id| ModelData {
            source_id: &parameters.model,
            member_id: &parameters.member,
            experiment_id,
            table_id: &parameters.table_id,
            variable_id: variable,
            grid_label: &parameters.grid_label,
        };
        let label = |experiment: &str| {
            format!(
                "{} {} {experiment} `{variable}` ({}, {})",
                parameters.model, parameters.member, parameters.table_id, parameters.grid_label
            )
        };
        let missing = |data: &ModelData<'_>| {
            let what = format!("no {} in {model_source}", label(data.experiment_id));
            match coverage.model_miss(data) {
                Some(miss) => (
                    key_of_column(&miss.column, parameters, variable),
                    format!("{what}: its {} values there are {}", miss.column, listed(&miss.available)),
                ),
                None => ("model", what),
            }
        };
        let historical = match coverage.model(&model("historical")) {
            Ok(Coverage::Missing) => {
                let (key, message) = missing(&model("historical"));
                // The historical run is what training reads, so an experiment it lacks is the model's doing.
                let key = if key == "scenario" { "model" } else { key };
                fail(key, message);
                None
            }
            Ok(Coverage::Present(years)) => Some(years),
            Err(message) => {
                fail("model", message);
                None
            }
        };
        if let Some(years) = historical {
            within(&parameters.train, years, &format!("{} (training)", label("historical")), train_key, &mut fail);
        }
        match coverage.obs(&parameters.obs, variable) {
            Ok(Coverage::Missing) => fail("obs", format!("no `{variable}` of {} in {obs_source}", parameters.obs)),
            Ok(Coverage::Present(years)) => {
                within(&parameters.train, years, &format!("{} `{variable}`", parameters.obs), train_key, &mut fail)
            }
            Err(message) => fail("obs", message),
        }
        if parameters.scenario == "historical" {
            if let Some(years) = historical {
                within(&parameters.predict, years, &label("historical"), predict_key, &mut fail);
            }
            continue;
        }
        match coverage.model(&model(&parameters.scenario)) {
            Ok(Coverage::Missing) => {
                let (key, message) = missing(&model(&parameters.scenario));
                fail(if key == "model" { "scenario" } else { key }, message)
            }
            Ok(Coverage::Present(scenario_years)) => {
                let years = joined(historical.flatten(), scenario_years, parameters.predict.start.value);
                within(&parameters.predict, years, &label(&parameters.scenario), predict_key, &mut fail);
            }
            Err(message) => fail("scenario", message),
        }
    }
    problems
}

/// `a, b, c`, or `none` for an empty list.
fn listed(values: &[String]) -> String {
    if values.is_empty() { "none".to_owned() } else { values.join(", ") }
}

/// The years prediction can use: the scenario's, extended back by the historical run when the prediction starts
/// before the scenario and the two runs are contiguous.
fn joined(historical: Option<(i32, i32)>, scenario: Option<(i32, i32)>, start: i32) -> Option<(i32, i32)> {
    match (historical, scenario) {
        (Some((h0, h1)), Some((s0, s1))) if start < s0 && h1 + 1 >= s0 => Some((h0.min(s0), s1)),
        (_, scenario) => scenario,
    }
}

fn within(range: &YearRange, years: Option<(i32, i32)>, what: &str, key: &str, fail: &mut impl FnMut(&str, String)) {
    let Some((first, last)) = years else { return };
    let (start, end) = range.years();
    if start < first || end > last {
        fail(key, format!("years {start}–{end} are outside the data of {what}, which cover {first}–{last}"));
    }
}
