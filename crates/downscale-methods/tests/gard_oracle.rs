//! GARD's point models against scikit-downscale: `PureRegression` and `PureAnalog` from the PyPI release 0.1.5
//! (`scripts/oracles/skdownscale_gard.py` writes `skdownscale/gard.json`), `AnalogRegression` from the package's
//! source tree, where it runs (`scripts/oracles/skdownscale_head_analog_regression.py` wrote the committed
//! `tests/fixtures/skdownscale_head_analog_regression.json`), and the unregularised logistic fit against
//! statsmodels' `Logit`. The cases are real station and Iberia series and synthetic Gaussian features.
//!
//! Tolerances, relative to `max(1, |expected|)`: 1e-6 for `pred` and `prediction_error` (both sides solve the same
//! least-squares problems in double precision; they differ by the solvers' rounding, far below that);
//! `exceedance_prob` 1e-6 against scikit-learn run with `tol = 1e-12`; against its default `tol = 1e-4`, at which
//! lbfgs stops short of the optimum this fit reaches, 2e-4 for `PureRegression` (thousands of days) and 1e-3 for
//! `AnalogRegression`, where lbfgs stops on the relative decrease of the loss of a 200-day sample and is off by up
//! to 4.7e-4 (on the three-feature Iberia case); the statsmodels probabilities 1e-6.

mod common;

use common::{load, max_relative_diff, numbers};
use downscale_methods::gard::{
    AnalogDistance, AnalogKind, AnalogRegression, Compat, GardPrediction, Logistic, PureAnalog, PureRegression,
};
use ndarray::Array2;
use serde_json::Value;

fn matrix(value: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = value.as_array().expect("a matrix is an array of rows").iter().map(numbers).collect();
    let columns = rows.first().map_or(0, Vec::len);
    Array2::from_shape_vec((rows.len(), columns), rows.concat()).expect("rows of equal length")
}

fn thresh(case: &Value) -> Option<f64> {
    case["thresh"].as_f64()
}

fn name(case: &Value) -> &str {
    case["name"].as_str().unwrap_or("?")
}

fn assert_close(case: &Value, output: &str, actual: &[f64], key: &str, tolerance: f64) {
    let expected = numbers(&case[key]);
    let diff = max_relative_diff(actual, &expected);
    assert!(diff <= tolerance, "{}: {output} differs from {key} by {diff:e} (tolerance {tolerance:e})", name(case));
}

/// Compares the three outputs; `default_tol_bound` is the tolerance against scikit-learn's default logistic fit.
fn assert_matches(case: &Value, prediction: &GardPrediction, compare_pred: bool, default_tol_bound: f64) {
    if compare_pred {
        assert_close(case, "pred", &prediction.pred, "pred", 1e-6);
    }
    assert_close(case, "prediction_error", &prediction.prediction_error, "prediction_error", 1e-6);
    assert_close(case, "exceedance_prob", &prediction.exceedance_prob, "exceedance_prob", 1e-6);
    if case.get("exceedance_prob_default_tol").is_some() {
        assert_close(
            case,
            "exceedance_prob",
            &prediction.exceedance_prob,
            "exceedance_prob_default_tol",
            default_tol_bound,
        );
    }
}

fn cases<'a>(fixture: &'a Value, model: &str) -> Vec<&'a Value> {
    let cases: Vec<&Value> =
        fixture["cases"].as_array().expect("cases").iter().filter(|case| case["model"] == model).collect();
    assert!(!cases.is_empty(), "no {model} cases");
    cases
}

#[test]
fn fixtures_record_the_reference_versions() {
    let released = load("skdownscale/gard.json");
    assert_eq!(released["versions"]["scikit-downscale"], "0.1.5");
    assert!(released["versions"]["statsmodels"].is_string());
    let source_tree = committed_fixture();
    let version = source_tree["versions"]["scikit-downscale"].as_str().expect("version");
    assert!(version.contains("44d042584e0fd96bc16e2fca4caa928c5718b970"), "{version}");
}

#[test]
fn pure_regression_matches_scikit_downscale() {
    let fixture = load("skdownscale/gard.json");
    for case in cases(&fixture, "PureRegression") {
        let model = PureRegression { thresh: thresh(case), logistic: Logistic::default() };
        let prediction = model
            .fit(matrix(&case["train_x"]).view(), &numbers(&case["train_y"]))
            .and_then(|fitted| fitted.predict(matrix(&case["predict_x"]).view()))
            .unwrap_or_else(|e| panic!("{}: {e}", name(case)));
        assert_matches(case, &prediction, true, 2e-4);
    }
}

fn kind(case: &Value) -> AnalogKind {
    let kind = case["kind"].as_str().expect("kind");
    AnalogKind::NAMES.iter().find(|(name, _)| *name == kind).unwrap_or_else(|| panic!("unknown kind {kind}")).1
}

#[test]
fn pure_analog_matches_scikit_downscale() {
    let fixture = load("skdownscale/gard.json");
    for case in cases(&fixture, "PureAnalog") {
        let model = PureAnalog {
            n_analogs: case["n_analogs"].as_u64().expect("n_analogs") as usize,
            kind: kind(case),
            thresh: thresh(case),
            distance: AnalogDistance::Raw,
            compat: Compat::ScikitDownscale,
            seed: 0,
        };
        let train_x = matrix(&case["train_x"]);
        let train_y = numbers(&case["train_y"]);
        let predict_x = matrix(&case["predict_x"]);
        let prediction = model
            .fit(train_x.view(), &train_y)
            .and_then(|fitted| fitted.predict(predict_x.view()))
            .unwrap_or_else(|e| panic!("{}: {e}", name(case)));
        let sampled = model.kind == AnalogKind::SampleAnalogs;
        // A random draw cannot repeat numpy's generator: each value must be one of the day's analogues instead.
        assert_matches(case, &prediction, !sampled, 2e-4);
        if sampled {
            for (day, (ours, theirs)) in prediction.pred.iter().zip(numbers(&case["pred"])).enumerate() {
                let analogs =
                    nearest_values(&train_x, &train_y, predict_x.row(day).as_slice().expect("row"), model.n_analogs);
                assert!(analogs.contains(ours) && analogs.contains(&theirs), "{}: day {day}", name(case));
            }
        }
    }
}

/// The targets of the `k` training rows nearest to `features`, by a full scan (the fixtures have no ties at the
/// k-th distance).
fn nearest_values(train_x: &Array2<f64>, train_y: &[f64], features: &[f64], k: usize) -> Vec<f64> {
    let mut by_distance: Vec<(f64, f64)> = train_x
        .rows()
        .into_iter()
        .zip(train_y)
        .map(|(row, &y)| (row.iter().zip(features).map(|(a, b)| (a - b).powi(2)).sum::<f64>(), y))
        .collect();
    by_distance.sort_by(|a, b| a.0.total_cmp(&b.0));
    by_distance.into_iter().take(k).map(|(_, y)| y).collect()
}

fn committed_fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/skdownscale_head_analog_regression.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("committed fixture")).expect("valid JSON")
}

#[test]
fn analog_regression_matches_scikit_downscale_source_tree() {
    let fixture = committed_fixture();
    for case in cases(&fixture, "AnalogRegression") {
        let p_dry = case["exceedance_prob_is_p_dry"].as_bool().unwrap_or(false);
        let model = AnalogRegression {
            n_analogs: case["n_analogs"].as_u64().expect("n_analogs") as usize,
            thresh: thresh(case),
            compat: if p_dry { Compat::ScikitDownscale } else { Compat::Corrected },
            ..AnalogRegression::default()
        };
        let fitted = model.fit(matrix(&case["train_x"]).view(), &numbers(&case["train_y"])).expect("fit");
        let prediction = fitted.predict(matrix(&case["predict_x"]).view()).expect("predict");
        assert_matches(case, &prediction, true, 1e-3);
        if p_dry {
            // The corrected model reports the complement: the probability of exceeding the threshold.
            let corrected = AnalogRegression { compat: Compat::Corrected, ..model };
            let fitted = corrected.fit(matrix(&case["train_x"]).view(), &numbers(&case["train_y"])).expect("fit");
            let wet = fitted.predict(matrix(&case["predict_x"]).view()).expect("predict").exceedance_prob;
            for (day, (wet, dry)) in wet.iter().zip(&prediction.exceedance_prob).enumerate() {
                // Both are 1 when every analogue is wet; otherwise they are complements.
                let complements = (wet + dry - 1.0).abs() <= 1e-12 || (*wet == 1.0 && *dry == 1.0);
                assert!(complements, "{}: day {day}: P(wet) {wet}, reference output {dry}", name(case));
            }
        }
    }
}

#[test]
fn irls_logistic_matches_statsmodels() {
    let fixture = load("skdownscale/gard.json");
    let cases = fixture["logit"].as_array().expect("logit cases");
    assert!(!cases.is_empty());
    for case in cases {
        let train_x = matrix(&case["train_x"]);
        let wet: Vec<f64> = numbers(&case["train_y"]);
        // The occurrence target as a threshold model sees it: wet when above 0.5.
        let model = PureRegression { thresh: Some(0.5), logistic: Logistic::Irls };
        let fitted = model.fit(train_x.view(), &wet).expect("fit");
        let prediction = fitted.predict(matrix(&case["predict_x"]).view()).expect("predict");
        assert_close(case, "exceedance_prob", &prediction.exceedance_prob, "probability", 1e-6);
    }
}
