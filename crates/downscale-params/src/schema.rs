//! The checks of one run's parameters that need no data: names, boxes, and what each method accepts.

use serde_json::{Map, Value};

use crate::loose::{self, describe};
use crate::method::{self, GARD_MODEL_TYPES, MODEL_PARAMS, Method};
use crate::parameters::{BiasCorrectionKwargs, RunParameters};
use crate::problem::{Problem, did_you_mean};
use crate::run_id::run_id_problems;
use crate::variables::{self, Correction};

/// Every key a parameter file may hold.
pub const KEYS: [&str; 23] = [
    "method",
    "obs",
    "model",
    "member",
    "grid_label",
    "table_id",
    "scenario",
    "features",
    "variable",
    "latmin",
    "latmax",
    "lonmin",
    "lonmax",
    "bias_correction_method",
    "bias_correction_kwargs",
    "model_type",
    "model_params",
    "train_dates",
    "predict_dates",
    "train_period",
    "predict_period",
    "year_rolling_window",
    "day_rolling_window",
];

/// The problems of already well-typed parameters.
pub(crate) fn check(parameters: &RunParameters) -> Vec<Problem> {
    let mut problems = Vec::new();
    names(parameters, &mut problems);
    variable(parameters, &mut problems);
    features(parameters, &mut problems);
    bbox(parameters, &mut problems);
    bias_correction(parameters, &mut problems);
    model(parameters, &mut problems);
    problems.extend(run_id_problems(parameters));
    problems
}

fn names(parameters: &RunParameters, problems: &mut Vec<Problem>) {
    let scenario = parameters.scenario.as_str();
    if !is_scenario(scenario) {
        problems.push(Problem::at(
            "scenario",
            format!(
                "unknown scenario `{scenario}`: expected `historical`, an SSP like `ssp245` or an RCP like `rcp85`"
            ),
        ));
    }
    if !is_member(&parameters.member) {
        problems.push(Problem::at(
            "member",
            format!("expected a CMIP member id like `r1i1p1f1` or `r1i1p1`, found `{}`", parameters.member),
        ));
    }
    if parameters.table_id != "day" {
        problems.push(Problem::at(
            "table_id",
            format!("expected `day` (every method downscales daily data), found `{}`", parameters.table_id),
        ));
    }
}

/// `historical`, `sspXYZ` or `rcpXY`: the experiments a run can predict.
pub fn is_scenario(name: &str) -> bool {
    let digits = |rest: &str, n: usize| rest.len() == n && rest.bytes().all(|b| b.is_ascii_digit());
    name == "historical"
        || name.strip_prefix("ssp").is_some_and(|rest| digits(rest, 3))
        || name.strip_prefix("rcp").is_some_and(|rest| digits(rest, 2))
}

/// `r<N>i<N>p<N>` with an optional `f<N>` (CMIP6).
fn is_member(member: &str) -> bool {
    let mut rest = member;
    for (i, letter) in ['r', 'i', 'p', 'f'].into_iter().enumerate() {
        if rest.is_empty() && i == 3 {
            return true;
        }
        let Some(after) = rest.strip_prefix(letter) else { return false };
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &after[digits..];
    }
    rest.is_empty()
}

fn variable(parameters: &RunParameters, problems: &mut Vec<Problem>) {
    let name = parameters.variable.as_str();
    let Some(known) = variables::lookup(name) else {
        let hint = did_you_mean(name, variables::VARIABLES.iter().map(|v| v.name));
        problems.push(Problem::at("variable", format!("unknown variable `{name}`{hint}")));
        return;
    };
    let targets = || variables::target_names().collect::<Vec<_>>().join(", ");
    match parameters.method {
        Method::Bcsd if !known.target => {
            let absolute = names_with(Correction::Absolute);
            let relative = names_with(Correction::Relative);
            problems.push(Problem::at(
                "variable",
                format!(
                    "BCSD corrects an absolute variable ({absolute}) or a relative one ({relative}); `{name}` is neither"
                ),
            ));
        }
        Method::Maca | Method::Deepsd if !known.target => problems.push(Problem::at(
            "variable",
            format!("`{}` downscales {}; `{name}` is only a predictor", parameters.method, targets()),
        )),
        _ => {}
    }
}

/// The target variables corrected by differences or by ratios.
fn names_with(correction: Correction) -> String {
    variables::VARIABLES
        .iter()
        .filter(|v| v.target && v.correction == correction)
        .map(|v| v.name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn features(parameters: &RunParameters, problems: &mut Vec<Problem>) {
    let method = parameters.method;
    let Some(features) = &parameters.features else {
        if method.is_gard() {
            problems.push(Problem::at(
                "features",
                format!("missing: `{method}` needs its predictors, e.g. [\"{}\"]", parameters.variable),
            ));
        }
        return;
    };
    if features.is_empty() {
        problems.push(Problem::at("features", "is empty: give at least one predictor, e.g. [\"pr\"]"));
        return;
    }
    for (i, feature) in features.iter().enumerate() {
        if variables::lookup(feature).is_none() {
            let hint = did_you_mean(feature, variables::VARIABLES.iter().map(|v| v.name));
            problems.push(Problem::at(format!("features[{i}]"), format!("unknown variable `{feature}`{hint}")));
        } else if features[..i].contains(feature) {
            problems.push(Problem::at(format!("features[{i}]"), format!("`{feature}` is listed twice")));
        }
    }
    let single = features.len() == 1 && features[0] == parameters.variable;
    match method {
        Method::Bcsd | Method::Maca | Method::Deepsd if !single => problems.push(Problem::at(
            "features",
            format!(
                "`{method}` downscales a variable from itself: expected [\"{}\"] or no `features`, found {}",
                parameters.variable,
                describe(&Value::from(features.clone()))
            ),
        )),
        Method::GardMultivariate if features.len() < 2 => problems.push(Problem::at(
            "features",
            "`gard_multivariate` needs two or more predictors (e.g. [\"ua\", \"va\", \"pr\"]); use `gard` for one",
        )),
        _ => {}
    }
}

fn bbox(parameters: &RunParameters, problems: &mut Vec<Problem>) {
    let b = &parameters.bbox;
    for (key, value, limit) in [
        ("latmin", b.latmin.value, 90.0),
        ("latmax", b.latmax.value, 90.0),
        ("lonmin", b.lonmin.value, 180.0),
        ("lonmax", b.lonmax.value, 180.0),
    ] {
        if value.abs() > limit {
            problems.push(Problem::at(key, format!("{value} is outside -{limit}..{limit}")));
        }
    }
    if b.latmin.value >= b.latmax.value {
        problems.push(Problem::at(
            "latmin",
            format!("latmin ({}) must be below latmax ({})", b.latmin.value, b.latmax.value),
        ));
    }
    if b.lonmin.value >= b.lonmax.value {
        problems.push(Problem::at(
            "lonmin",
            format!(
                "lonmin ({}) must be below lonmax ({}); boxes across the antimeridian are not supported, so give \
                 longitudes in -180..180 with lonmin < lonmax",
                b.lonmin.value, b.lonmax.value
            ),
        ));
    }
}

fn bias_correction(parameters: &RunParameters, problems: &mut Vec<Problem>) {
    let name = parameters.bias_correction_method.as_deref().unwrap_or("");
    let Some(options) = method::bias_correction_options(name) else {
        let names = method::BIAS_CORRECTIONS.iter().map(|(n, _)| *n).filter(|n| !n.is_empty());
        let hint = did_you_mean(name, names.clone());
        let listed = names.collect::<Vec<_>>().join(", ");
        problems.push(Problem::at(
            "bias_correction_method",
            format!("unknown bias correction `{name}`{hint}: expected one of {listed}"),
        ));
        return;
    };
    if parameters.method.is_gard() && name.is_empty() {
        problems.push(Problem::at(
            "bias_correction_method",
            "missing: GARD corrects its predictors first; give e.g. \"quantile_mapper\"",
        ));
    }
    match &parameters.bias_correction_kwargs {
        None => {}
        Some(BiasCorrectionKwargs::Flat(flat)) => bias_options("bias_correction_kwargs", flat, name, options, problems),
        Some(BiasCorrectionKwargs::PerFeature(by_feature)) => {
            for (feature, value) in by_feature {
                let key = format!("bias_correction_kwargs.{feature}");
                if variables::lookup(feature).is_none() {
                    let hint = did_you_mean(feature, variables::VARIABLES.iter().map(|v| v.name));
                    problems.push(Problem::at(key, format!("unknown variable `{feature}`{hint}")));
                } else if let Some(map) = value.as_object() {
                    bias_options(&key, map, name, options, problems);
                }
            }
            for feature in parameters.features.iter().flatten() {
                if !by_feature.contains_key(feature) {
                    problems.push(Problem::at(
                        "bias_correction_kwargs",
                        format!("has options per feature but none for feature `{feature}`: add \"{feature}\": {{...}}"),
                    ));
                }
            }
        }
    }
}

/// The options of one bias correction: known names, each of the right type.
fn bias_options(key: &str, options: &Map<String, Value>, method: &str, allowed: &[&str], problems: &mut Vec<Problem>) {
    for (option, value) in options {
        let key = format!("{key}.{option}");
        if !allowed.contains(&option.as_str()) {
            let shown = if method.is_empty() { "this method".to_owned() } else { format!("`{method}`") };
            let hint = did_you_mean(option, allowed.iter().copied());
            let accepted = if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") };
            problems.push(Problem::at(key, format!("not an option of {shown}{hint}; it takes: {accepted}")));
            continue;
        }
        let checked = match option.as_str() {
            "detrend" | "with_mean" | "with_std" => loose::boolean(value).map(drop),
            "n_endpoints" | "n_quantiles" => match loose::integer(value) {
                Ok(n) if n >= 2 => Ok(()),
                Ok(n) => Err(format!("expected 2 or more, found {n}")),
                Err(message) => Err(message),
            },
            "extrapolate" => one_of(value, &["none", "1to1", "min", "max", "both"], true),
            "output_distribution" => one_of(value, &["uniform", "normal"], false),
            _ => Ok(()),
        };
        if let Err(message) = checked {
            problems.push(Problem::at(key, message));
        }
    }
}

fn one_of(value: &Value, names: &[&str], null_allowed: bool) -> Result<(), String> {
    match value {
        Value::Null if null_allowed => Ok(()),
        Value::String(name) if names.contains(&name.as_str()) => Ok(()),
        other => Err(format!("expected one of {}, found {}", names.join(", "), describe(other))),
    }
}

fn model(parameters: &RunParameters, problems: &mut Vec<Problem>) {
    let method = parameters.method;
    let model_type = parameters.model_type.as_deref().unwrap_or("");
    if method.is_gard() {
        if !GARD_MODEL_TYPES.contains(&model_type) {
            let hint = did_you_mean(model_type, GARD_MODEL_TYPES);
            let found = if model_type.is_empty() { "nothing".to_owned() } else { format!("`{model_type}`") };
            problems.push(Problem::at(
                "model_type",
                format!("expected one of {}{hint}, found {found}", GARD_MODEL_TYPES.join(", ")),
            ));
        }
    } else if !model_type.is_empty() {
        problems.push(Problem::at(
            "model_type",
            format!("`{method}` has no model types (`model_type` applies to gard); leave it out or empty"),
        ));
    }
    let Some(params) = &parameters.model_params else { return };
    for (name, value) in params {
        let key = format!("model_params.{name}");
        let checked = match name.as_str() {
            "thresh" => match value {
                Value::Null => Ok(()),
                other => loose::number(other).map(drop),
            },
            "n_analogs" => match loose::integer(value) {
                Ok(n) if n < 1 => Err(format!("expected 1 or more analogues, found {n}")),
                Ok(_) if method.is_gard() && model_type == "PureRegression" => {
                    Err("only AnalogRegression and PureAnalog use analogues; PureRegression takes no n_analogs".into())
                }
                Ok(_) => Ok(()),
                Err(message) => Err(message),
            },
            "kdtree_kwargs" | "query_kwargs" | "logistic_kwargs" | "lr_kwargs" => match value {
                Value::Object(_) => Ok(()),
                other => Err(format!("expected an object of keyword options, found {}", describe(other))),
            },
            _ => Err(format!(
                "not a model option{}; accepted: {}",
                did_you_mean(name, MODEL_PARAMS),
                MODEL_PARAMS.join(", ")
            )),
        };
        if let Err(message) = checked {
            problems.push(Problem::at(key, message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_and_scenario_names() {
        for good in ["r1i1p1f1", "r10i1p1f2", "r1i1p1"] {
            assert!(is_member(good), "{good}");
        }
        for bad in ["r1i1", "r1i1p1f", "x1i1p1", "r1i1p1f1x", "", "r1i1p1f1f1"] {
            assert!(!is_member(bad), "{bad}");
        }
        for good in ["historical", "ssp585", "rcp85"] {
            assert!(is_scenario(good));
        }
        for bad in ["ssp5", "rcp8.5", "Historical", "future"] {
            assert!(!is_scenario(bad));
        }
    }
}
