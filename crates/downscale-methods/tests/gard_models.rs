//! The per-cell behaviours of GARD's point models that the reference leaves undefined or gets wrong, each pinned
//! on a small sample built to show it: constant features, missing values, ties among analogues, a sample with no
//! day above the threshold, more analogues than days, standardised distances and the two logistic models.

use downscale_methods::MethodError;
use downscale_methods::gard::{
    AnalogDistance, AnalogKind, AnalogRegression, Compat, GardPrediction, Logistic, PureAnalog, PureRegression,
};
use ndarray::{Array2, Axis, array, concatenate, s};

/// Forty days of a smooth seasonal-like feature and a target linear in it plus a deterministic wobble.
fn sample() -> (Array2<f64>, Vec<f64>) {
    let x = Array2::from_shape_fn((40, 1), |(t, _)| 10.0 + 5.0 * (t as f64 * 0.3).sin());
    let y = (0..40).map(|t| 2.0 + 0.5 * x[[t, 0]] + 0.3 * (t as f64 * 1.7).cos()).collect();
    (x, y)
}

fn pure_regression(thresh: Option<f64>, x: &Array2<f64>, y: &[f64], predict: &Array2<f64>) -> GardPrediction {
    PureRegression { thresh, logistic: Logistic::default() }.fit(x.view(), y).unwrap().predict(predict.view()).unwrap()
}

#[test]
fn a_constant_feature_gets_no_weight() {
    let (x, y) = sample();
    let with_constant = concatenate![Axis(1), x, Array2::from_elem((40, 1), 3.25)];
    let plain = pure_regression(None, &x, &y, &x);
    let padded = pure_regression(None, &with_constant, &y, &with_constant);
    for (a, b) in plain.pred.iter().zip(&padded.pred) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
    assert_eq!(plain.prediction_error, padded.prediction_error);
}

#[test]
fn missing_training_days_are_left_out_and_missing_prediction_days_stay_missing() {
    let (x, mut y) = sample();
    let mut holed = x.clone();
    holed[[3, 0]] = f64::NAN;
    y[7] = f64::NAN;
    let keep: Vec<usize> = (0..40).filter(|&t| t != 3 && t != 7).collect();
    let kept_x = x.select(Axis(0), &keep);
    let kept_y: Vec<f64> = keep.iter().map(|&t| y[t]).collect();
    let expected = pure_regression(None, &kept_x, &kept_y, &x);
    let actual = pure_regression(None, &holed, &y, &holed);
    assert!(actual.pred[3].is_nan() && actual.exceedance_prob[3].is_nan() && actual.prediction_error[3].is_nan());
    for t in keep {
        assert!((actual.pred[t] - expected.pred[t]).abs() < 1e-12);
    }
}

#[test]
fn a_training_sample_with_nothing_valid_is_an_error() {
    let x = Array2::from_elem((5, 1), f64::NAN);
    let error = PureRegression::default().fit(x.view(), &[1.0; 5]).unwrap_err();
    assert!(matches!(error, MethodError::TooFewValues { sample: "training", got: 0, .. }), "{error}");
}

#[test]
fn predicting_from_other_features_is_an_error() {
    let (x, y) = sample();
    let fitted = PureRegression::default().fit(x.view(), &y).unwrap();
    let error = fitted.predict(Array2::zeros((3, 2)).view()).unwrap_err();
    assert_eq!(error.to_string(), "PureRegression: trained on 1 features but asked to predict from 2");
    let nine = Array2::zeros((10, 9));
    let error = PureAnalog::default().fit(nine.view(), &[0.0; 10]).err().expect("nine features");
    assert_eq!(error.to_string(), "analogue search: got 9 features; it takes 1 to 8");
}

#[test]
fn with_more_analogues_than_days_analog_regression_is_the_pure_regression() {
    let (x, y) = sample();
    let predict = x.slice(s![..10, ..]).to_owned();
    let analog = AnalogRegression { n_analogs: 500, ..AnalogRegression::default() };
    let analog = analog.fit(x.view(), &y).unwrap().predict(predict.view()).unwrap();
    let pure = pure_regression(None, &x, &y, &predict);
    for t in 0..10 {
        assert!((analog.pred[t] - pure.pred[t]).abs() < 1e-10);
        assert!((analog.prediction_error[t] - pure.prediction_error[t]).abs() < 1e-10);
    }
}

#[test]
fn tied_analogues_are_the_earliest_days() {
    // Days 0..6 share one feature value with targets 0..6; the two nearest analogues of that value are days 0, 1.
    let x = Array2::from_shape_fn((12, 1), |(t, _)| if t < 6 { 1.0 } else { 5.0 + t as f64 });
    let y: Vec<f64> = (0..12).map(|t| t as f64).collect();
    let model = PureAnalog { n_analogs: 2, kind: AnalogKind::MeanAnalogs, ..PureAnalog::default() };
    let prediction = model.fit(x.view(), &y).unwrap().predict(array![[1.0]].view()).unwrap();
    assert_eq!(prediction.pred, vec![0.5]);
    assert_eq!(prediction.prediction_error, vec![0.5]);
}

#[test]
fn no_analogue_above_the_threshold_gives_zero_amount_and_probability() {
    let (x, mut y) = sample();
    for (t, value) in y.iter_mut().enumerate() {
        // Dry on the days with the lowest feature values.
        if x[[t, 0]] < 8.0 {
            *value = 0.0;
        }
    }
    let dry_day = (0..40).find(|&t| x[[t, 0]] < 6.0).expect("a low day");
    let model = AnalogRegression { n_analogs: 3, thresh: Some(0.0), ..AnalogRegression::default() };
    let prediction = model.fit(x.view(), &y).unwrap().predict(x.slice(s![dry_day..=dry_day, ..])).unwrap();
    assert_eq!((prediction.pred[0], prediction.exceedance_prob[0], prediction.prediction_error[0]), (0.0, 0.0, 0.0));
}

#[test]
fn pure_analog_with_a_threshold_averages_the_wet_analogues_unless_reproducing_the_reference() {
    let x = Array2::from_shape_fn((6, 1), |(t, _)| t as f64);
    let y = vec![0.0, 4.0, 2.0, 0.0, 8.0, 1.0];
    let predict = array![[1.2]];
    let model = PureAnalog { n_analogs: 4, kind: AnalogKind::MeanAnalogs, thresh: Some(0.0), ..PureAnalog::default() };
    // Analogues of 1.2: days 1, 2, 0, 3 → values 4, 2, 0, 0: two wet.
    let corrected = model.fit(x.view(), &y).unwrap().predict(predict.view()).unwrap();
    assert_eq!((corrected.pred[0], corrected.exceedance_prob[0], corrected.prediction_error[0]), (3.0, 0.5, 1.0));
    let reference = PureAnalog { compat: Compat::ScikitDownscale, ..model };
    let reference = reference.fit(x.view(), &y).unwrap().predict(predict.view()).unwrap();
    assert_eq!((reference.pred[0], reference.exceedance_prob[0]), (0.0, 0.5));
    assert!(reference.prediction_error[0].is_nan());
}

#[test]
fn normalised_distances_do_not_depend_on_a_features_units() {
    let (x, y) = sample();
    let second = Array2::from_shape_fn((40, 1), |(t, _)| (t as f64 * 0.77).cos());
    let features = concatenate![Axis(1), x, second];
    let mut rescaled = features.clone();
    rescaled.column_mut(1).mapv_inplace(|v| v * 1000.0);
    let predict = |features: &Array2<f64>, distance| {
        let model = PureAnalog { n_analogs: 5, kind: AnalogKind::MeanAnalogs, distance, ..PureAnalog::default() };
        model.fit(features.view(), &y).unwrap().predict(features.view()).unwrap().pred
    };
    assert_eq!(predict(&features, AnalogDistance::Normalised), predict(&rescaled, AnalogDistance::Normalised));
    assert_ne!(predict(&features, AnalogDistance::Raw), predict(&rescaled, AnalogDistance::Raw));
}

#[test]
fn the_two_logistic_models_agree_roughly_and_the_penalty_pulls_towards_even_odds() {
    let (x, y) = sample();
    let wet_if_high: Vec<f64> = (0..40).map(|t| if y[t] > 7.3 { y[t] } else { 0.0 }).collect();
    let fit = |logistic| {
        PureRegression { thresh: Some(0.0), logistic }.fit(x.view(), &wet_if_high).unwrap().predict(x.view()).unwrap()
    };
    let penalised = fit(Logistic::default()).exceedance_prob;
    let irls = fit(Logistic::Irls).exceedance_prob;
    let mut largest = 0.0_f64;
    for (p, q) in penalised.iter().zip(&irls) {
        assert!((0.0..=1.0).contains(p) && (0.0..=1.0).contains(q));
        // On this sample the penalty shrinks the weight, so the penalised probability is nowhere further from 1/2.
        assert!((p - 0.5).abs() <= (q - 0.5).abs() + 1e-12, "{p} vs {q}");
        largest = largest.max((p - q).abs());
    }
    assert!(largest > 1e-3, "the penalty should show on 40 days: {largest}");
}

/// Standard-normal draws from a fixed seed.
fn normal_draws(n: usize) -> Vec<f64> {
    use rand::SeedableRng;
    use rand_distr::Distribution;
    let mut rng = rand::rngs::StdRng::seed_from_u64(19);
    (0..n).map(|_| rand_distr::StandardNormal.sample(&mut rng)).collect()
}

#[test]
fn precipitation_random_effects_are_wet_with_the_exceedance_probability_and_never_negative() {
    use downscale_methods::gard::random_effects::precipitation;
    let draws = normal_draws(20_000);
    for p in [0.1, 0.5, 0.9] {
        let amounts: Vec<f64> = draws.iter().map(|&z| precipitation(2.0, 0.4, p, z)).collect();
        let wet = amounts.iter().filter(|&&v| v > 0.0).count() as f64 / amounts.len() as f64;
        // Binomial sampling error of 20,000 draws: at most 0.0035; five of it.
        assert!((wet - p).abs() < 0.018, "p {p}: wet fraction {wet}");
        assert!(amounts.iter().all(|&v| v >= 0.0));
        // The wet days' cube roots are ∛2 + 0.4·N(0, 1) (clipped at 0): their median is ∛2.
        let mut roots: Vec<f64> = amounts.iter().filter(|&&v| v > 0.0).map(|v| v.cbrt()).collect();
        roots.sort_by(f64::total_cmp);
        let median = roots[roots.len() / 2];
        assert!((median - 2f64.cbrt()).abs() < 0.03, "p {p}: median root {median}");
    }
    assert!((precipitation(2.0, 0.0, 1.0, 0.3) - 2.0).abs() < 1e-12, "no error: the predicted amount");
    assert_eq!(precipitation(2.0, 0.4, 0.0, 3.0), 0.0, "never wet when p = 0");
    assert!(precipitation(f64::NAN, 0.4, 0.5, 0.0).is_nan());
}

#[test]
fn temperature_random_effects_add_the_scaled_field() {
    use downscale_methods::gard::random_effects::temperature;
    assert_eq!(temperature(280.0, 2.0, -1.5), 277.0);
}
