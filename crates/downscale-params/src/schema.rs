//! The checks of one run's parameters that need no data: names, boxes, and what each method accepts.

use serde_json::{Map, Value};

use crate::loose::{self, describe};
use crate::method::{
    ANALOG_DISTANCES, ANALOG_KINDS, BiasCorrectionKind, GARD_MODEL_TYPES, LOGISTIC_KWARGS, MAX_NQUANTILES,
    MODEL_PARAMS, Method, UnnamedCorrection,
};
use crate::parameters::{BiasCorrectionKwargs, RunParameters};
use crate::problem::{Note, Problem, did_you_mean};
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

/// The problems of already well-typed parameters, and the keys they hold to no effect.
pub(crate) fn check(parameters: &RunParameters) -> (Vec<Problem>, Vec<Note>) {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    names(parameters, &mut problems);
    variable(parameters, &mut problems);
    features(parameters, &mut problems, &mut notes);
    bbox(parameters, &mut problems, &mut notes);
    bias_correction(parameters, &mut problems, &mut notes);
    model(parameters, &mut problems, &mut notes);
    problems.extend(run_id_problems(parameters));
    (problems, notes)
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

fn features(parameters: &RunParameters, problems: &mut Vec<Problem>, notes: &mut Vec<Note>) {
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
        // The original's BCSD flow never read `features`; one of its BCSD files lists three.
        Method::Bcsd if !single => notes.push(Note::at(
            "features",
            format!(
                "ignored by `bcsd`, which downscales `{}` from itself (the original's BCSD flow did not read it), found {}",
                parameters.variable,
                describe(&Value::from(features.clone()))
            ),
        )),
        Method::Maca | Method::Deepsd if !single => problems.push(Problem::at(
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

fn bbox(parameters: &RunParameters, problems: &mut Vec<Problem>, notes: &mut Vec<Note>) {
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
    if b.latmin.value > b.latmax.value {
        notes.push(Note::at(
            "latmin",
            format!(
                "latmin ({}) is above latmax ({}): the box is read as latitudes {} to {} (the original sliced its \
                 north-to-south data with the bounds in this order)",
                b.latmin.value, b.latmax.value, b.latmax.value, b.latmin.value
            ),
        ));
    } else if b.latmin.value == b.latmax.value {
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

/// The options a bias correction takes, and those accepted only to be ignored.
struct Options {
    /// How messages name the correction.
    shown: String,
    allowed: &'static [&'static str],
    ignored: &'static [&'static str],
    /// The default correction, when no name gave it: its options need its name.
    unnamed_default: Option<BiasCorrectionKind>,
}

fn bias_correction(parameters: &RunParameters, problems: &mut Vec<Problem>, notes: &mut Vec<Note>) {
    let method = parameters.method;
    let name = parameters.bias_correction_method.as_deref().unwrap_or("");
    let accepted = method.bias_corrections();
    let options = if name.is_empty() {
        match method.unnamed_bias_correction() {
            UnnamedCorrection::Required => {
                problems.push(Problem::at(
                    "bias_correction_method",
                    format!(
                        "missing: GARD corrects its predictors first; give one of {}, e.g. \"quantile_mapper\"",
                        accepted_names(method)
                    ),
                ));
                return;
            }
            UnnamedCorrection::Default { correction, ignored_options } => Options {
                shown: "an empty `bias_correction_method`".to_owned(),
                allowed: &[],
                ignored: ignored_options,
                unnamed_default: Some(correction),
            },
            UnnamedCorrection::Empty { options } => {
                Options { shown: "this method".to_owned(), allowed: options, ignored: &[], unnamed_default: None }
            }
        }
    } else {
        match BiasCorrectionKind::parse(name) {
            Some(kind) if accepted.contains(&kind) => {
                Options { shown: format!("`{kind}`"), allowed: kind.options(), ignored: &[], unnamed_default: None }
            }
            Some(kind) if method.ignored_bias_corrections().contains(&kind) => {
                notes.push(Note::at(
                    "bias_correction_method",
                    format!(
                        "`{kind}` is ignored by `{method}` (the original's {method} flow did not read it), and so are \
                         its options; `{method}` corrects with {}",
                        accepted_names(method)
                    ),
                ));
                return;
            }
            Some(kind) => {
                problems.push(Problem::at(
                    "bias_correction_method",
                    format!("`{kind}` is not a bias correction of `{method}`: it takes {}", accepted_names(method)),
                ));
                return;
            }
            None => {
                let hint = did_you_mean(name, accepted.iter().map(|kind| kind.as_str()));
                problems.push(Problem::at(
                    "bias_correction_method",
                    format!("unknown bias correction `{name}`{hint}: `{method}` takes {}", accepted_names(method)),
                ));
                return;
            }
        }
    };
    match &parameters.bias_correction_kwargs {
        None => {}
        Some(BiasCorrectionKwargs::Flat(flat)) => {
            bias_options("bias_correction_kwargs", flat, method, &options, problems, notes)
        }
        Some(BiasCorrectionKwargs::PerFeature(by_feature)) => {
            for (feature, value) in by_feature {
                let key = format!("bias_correction_kwargs.{feature}");
                if variables::lookup(feature).is_none() {
                    let hint = did_you_mean(feature, variables::VARIABLES.iter().map(|v| v.name));
                    problems.push(Problem::at(key, format!("unknown variable `{feature}`{hint}")));
                } else if let Some(map) = value.as_object() {
                    bias_options(&key, map, method, &options, problems, notes);
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

/// The bias corrections of `method` as a message lists them: `a, b or c`, the default marked.
fn accepted_names(method: Method) -> String {
    let default = match method.unnamed_bias_correction() {
        UnnamedCorrection::Default { correction, .. } => Some(correction),
        UnnamedCorrection::Required | UnnamedCorrection::Empty { .. } => None,
    };
    let names: Vec<String> = method
        .bias_corrections()
        .iter()
        .map(|&kind| match default {
            Some(default) if default == kind => format!("{kind} (the default, also when empty or absent)"),
            _ => kind.to_string(),
        })
        .collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// The options of one bias correction: known names, each of the right type; the ignored ones noted.
fn bias_options(
    key: &str,
    given: &Map<String, Value>,
    method: Method,
    options: &Options,
    problems: &mut Vec<Problem>,
    notes: &mut Vec<Note>,
) {
    for (option, value) in given {
        let key = format!("{key}.{option}");
        if options.ignored.contains(&option.as_str()) {
            notes.push(Note::at(
                key,
                format!(
                    "ignored by `{method}` (the original's {} files carry it with an empty `bias_correction_method`; \
                     it has no effect)",
                    method.as_str().to_uppercase()
                ),
            ));
            continue;
        }
        let allowed = options.allowed;
        if let Some(default) = options.unnamed_default.filter(|d| d.options().contains(&option.as_str())) {
            problems.push(Problem::at(
                key,
                format!(
                    "an option of `{default}`, the default, which takes options only when named: set \
                     `bias_correction_method` to \"{default}\""
                ),
            ));
            continue;
        }
        if !allowed.contains(&option.as_str()) {
            let hint = did_you_mean(option, allowed.iter().copied());
            let accepted = if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") };
            problems.push(Problem::at(key, format!("not an option of {}{hint}; it takes: {accepted}", options.shown)));
            continue;
        }
        let checked = match option.as_str() {
            "detrend" | "with_mean" | "with_std" => loose::boolean(value).map(drop),
            "n_endpoints" | "n_quantiles" => match loose::integer(value) {
                Ok(n) if n >= 2 => Ok(()),
                Ok(n) => Err(format!("expected 2 or more, found {n}")),
                Err(message) => Err(message),
            },
            "nquantiles" => match loose::integer(value) {
                Ok(n) if (2..=MAX_NQUANTILES).contains(&n) => Ok(()),
                Ok(n) => Err(format!("expected 2 to {MAX_NQUANTILES} quantiles, found {n}")),
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

fn model(parameters: &RunParameters, problems: &mut Vec<Problem>, notes: &mut Vec<Note>) {
    let method = parameters.method;
    let model_type = parameters.model_type.as_deref().unwrap_or("");
    if !method.is_gard() {
        // The original's BCSD flow once required `model_type`, and its files of every method carry `model_type`
        // and `model_params`: only GARD reads them.
        if !model_type.is_empty() {
            let why =
                if method == Method::Bcsd { "the original's BCSD flow required it" } else { "model types are GARD's" };
            notes.push(Note::at("model_type", format!("ignored by `{method}` ({why}; it has no effect)")));
        }
        if parameters.model_params.as_ref().is_some_and(|params| !params.is_empty()) {
            notes.push(Note::at(
                "model_params",
                format!("ignored by `{method}` (model options are GARD's; it has no effect)"),
            ));
        }
        return;
    }
    if !GARD_MODEL_TYPES.contains(&model_type) {
        let hint = did_you_mean(model_type, GARD_MODEL_TYPES);
        let found = if model_type.is_empty() { "nothing".to_owned() } else { format!("`{model_type}`") };
        problems.push(Problem::at(
            "model_type",
            format!("expected one of {}{hint}, found {found}", GARD_MODEL_TYPES.join(", ")),
        ));
    }
    let Some(params) = &parameters.model_params else { return };
    for (name, value) in params {
        let key = format!("model_params.{name}");
        let checked = match name.as_str() {
            "thresh" => match value {
                Value::Null => Ok(()),
                _ if variables::lookup(&parameters.variable).is_some_and(|v| v.correction == Correction::Absolute) => {
                    Err(format!(
                        "a threshold models the occurrence of precipitation; `{}` is not an amount (use null or leave \
                         it out)",
                        parameters.variable
                    ))
                }
                other => loose::number(other).map(drop),
            },
            "kind" if model_type != "PureAnalog" => Err(format!("only PureAnalog takes a kind, not {model_type}")),
            "kind" => one_of(value, &ANALOG_KINDS, false),
            "analog_distance" if model_type == "PureRegression" => {
                Err("only AnalogRegression and PureAnalog search analogues; PureRegression takes no analog_distance"
                    .into())
            }
            "analog_distance" => one_of(value, &ANALOG_DISTANCES, false),
            "logistic_kwargs" => logistic_kwargs(value),
            "n_analogs" => match loose::integer(value) {
                Ok(n) if n < 1 => Err(format!("expected 1 or more analogues, found {n}")),
                Ok(_) if model_type == "PureRegression" => {
                    Err("only AnalogRegression and PureAnalog use analogues; PureRegression takes no n_analogs".into())
                }
                Ok(_) => Ok(()),
                Err(message) => Err(message),
            },
            "kdtree_kwargs" | "query_kwargs" | "lr_kwargs" => match value {
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

/// `logistic_kwargs`: an object of [`LOGISTIC_KWARGS`], with a penalty the occurrence model has and a positive `C`.
fn logistic_kwargs(value: &Value) -> Result<(), String> {
    let Value::Object(options) = value else {
        return Err(format!("expected an object of keyword options, found {}", describe(value)));
    };
    for (name, option) in options {
        match name.as_str() {
            "penalty" => one_of(option, &["l2", "none"], true)?,
            "C" => match loose::number(option)? {
                c if c > 0.0 && c.is_finite() => {}
                c => return Err(format!("C must be a positive number, found {c}")),
            },
            "tol" | "max_iter" => {}
            other => {
                return Err(format!(
                    "`{other}` is not an option of the occurrence model{}; accepted: {}",
                    did_you_mean(other, LOGISTIC_KWARGS),
                    LOGISTIC_KWARGS.join(", ")
                ));
            }
        }
    }
    Ok(())
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
