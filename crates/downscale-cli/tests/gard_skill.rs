//! GARD by perfect prognosis on held-out data, as a climate scientist checks it: trained on reanalysed predictors
//! (NCEP-R1, each on its own grid) against E-OBS over the winters of 1983–1992, and applied to the reanalysis of the
//! held-out winters 1993–2002, which is in phase with the observations, so daily values can be scored against
//! E-OBS: bias of the mean, ratio of standard deviations, RMSE and correlation of daily values, and for
//! precipitation the wet-day frequency. The baseline is the reanalysis' own field of the predictand interpolated
//! bilinearly onto the E-OBS grid. Scores are medians over the land cells. Run with `--nocapture` for the table.
//!
//! The reanalysis stands in for the climate model through a model catalog written by the test (its rows are the
//! NCEP-R1 files as a `historical` run); the predictors are used as they are (`bias_correction_method: none`):
//! training and prediction come from the same product, and quantile mapping would map the held-out decade's
//! climate onto the training decade's.

mod common;

use std::path::Path;

use common::skill::{Field, bilinear_onto, correlation, mean, median, reanalysis_catalog, sd, wet_frequency};
use common::{run_with_shipped_catalogs, sample};
use downscale_data::read_variable;
use serde_json::{Value, json};

const TRAIN: [&str; 2] = ["1983", "1992"];
const HELD_OUT: [&str; 2] = ["1993", "2002"];

/// A GARD run of `variable` from `features`, predicting `predict`, with `model_params`; returns the manifest.
fn gard(dir: &Path, name: &str, variable: &str, features: &[&str], predict: [&str; 2], extra: &[&str]) -> Value {
    let method = if features.len() > 1 { "gard_multivariate" } else { "gard" };
    let document = json!({
        "method": method, "obs": "E-OBS", "model": "NCEP-R1", "member": "r1i1p1", "grid_label": "gn",
        "table_id": "day", "scenario": "historical", "features": features, "variable": variable,
        "latmin": "35", "latmax": "45", "lonmin": "-10", "lonmax": "5",
        "bias_correction_method": "none", "model_type": "PureRegression",
        "model_params": if variable == "pr" { json!({"thresh": 0}) } else { json!({}) },
        "train_dates": TRAIN, "predict_dates": predict,
    });
    let param_file = dir.join(format!("{name}.json"));
    std::fs::write(&param_file, document.to_string()).unwrap();
    let catalog = format!("data_catalog.model={}", reanalysis_catalog(dir).display());
    let mut arguments = vec!["--runtime", "ci", "--set", &catalog];
    arguments.extend_from_slice(extra);
    run_with_shipped_catalogs(dir, &format!("results_{name}"), &param_file, &arguments)
}

fn field(manifest: &Value, dataset: &str, variable: &str) -> Field {
    Field::from_array(&read_variable(manifest["datasets"][dataset].as_str().unwrap(), variable).unwrap())
}

/// The reanalysis' field of `variable` interpolated bilinearly onto the E-OBS grid by `downscale regrid`.
fn bilinear_reanalysis(dir: &Path, variable: &str, observations: &str) -> Field {
    let source = sample(&format!("iberia/reanalysis_NCEP-R1/{variable}_day_NCEP-R1_iberia_DJF_19821201-20020228.nc"));
    bilinear_onto(&source, variable, observations, &dir.join(format!("bilinear_{variable}.zarr")))
}

/// Daily skill of a product against the observations on the same days.
#[derive(Debug)]
struct Skill {
    /// Median |bias of the mean|: K, or relative for precipitation.
    mean_bias: f64,
    sd_ratio: f64,
    rmse: f64,
    correlation: f64,
    /// Median |wet-day frequency bias| (days ≥ 1 mm), a fraction of days.
    wet_frequency_bias: f64,
}

fn skill(product: &Field, observed: &Field, relative: bool) -> Skill {
    let observed = observed.on_days_of(product);
    let cells: Vec<usize> = (0..observed.values.len())
        .filter(|&c| [&observed.values[c], &product.values[c]].iter().all(|v| v.iter().all(|x| !x.is_nan())))
        .collect();
    assert!(cells.len() > 250, "{} land cells compared", cells.len());
    let (p, o) = (&product.values, &observed.values);
    let per_cell = |f: &dyn Fn(usize) -> f64| median(cells.iter().map(|&c| f(c)).collect());
    Skill {
        mean_bias: per_cell(&|c| {
            let bias = mean(&p[c]) - mean(&o[c]);
            if relative { (bias / mean(&o[c])).abs() } else { bias.abs() }
        }),
        sd_ratio: per_cell(&|c| sd(&p[c]) / sd(&o[c])),
        rmse: per_cell(&|c| {
            (p[c].iter().zip(&o[c]).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / o[c].len() as f64).sqrt()
        }),
        correlation: per_cell(&|c| correlation(&p[c], &o[c])),
        wet_frequency_bias: per_cell(&|c| (wet_frequency(&p[c]) - wet_frequency(&o[c])).abs()),
    }
}

fn print_table(title: &str, rows: &[(&str, &Skill)], relative: bool) {
    let unit = if relative { "mm" } else { "K" };
    println!("\n{title}: median over land cells, held-out winters 1993–2002 (trained on 1983–1992)");
    println!("| | mean bias | SD ratio | RMSE | correlation | wet-day freq. bias |");
    println!("|---|---|---|---|---|---|");
    for (name, s) in rows {
        let bias = if relative { format!("{:.0}%", 100.0 * s.mean_bias) } else { format!("{:.2} K", s.mean_bias) };
        let wet = if relative { format!("{:.1} pp", 100.0 * s.wet_frequency_bias) } else { "-".into() };
        println!("| {name} | {bias} | {:.2} | {:.2} {unit} | {:.3} | {wet} |", s.sd_ratio, s.rmse, s.correlation);
    }
}

fn observed(variable: &str) -> (String, Field) {
    let path = sample(&format!("iberia/obs_E-OBS/{variable}_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc"));
    let field = Field::from_array(&read_variable(&path, variable).unwrap());
    (path, field)
}

#[test]
fn gard_temperature_beats_the_interpolated_reanalysis_and_draws_residuals_with_the_model_error() {
    let dir = tempfile::tempdir().unwrap();
    let (path, obs) = observed("tas");
    let sv = gard(dir.path(), "sv_tas", "tas", &["tas"], HELD_OUT, &[]);
    let mv = gard(dir.path(), "mv_tas", "tas", &["psl", "ta850", "hus850", "tas"], HELD_OUT, &[]);
    let baseline = bilinear_reanalysis(dir.path(), "tas", &path).years(HELD_OUT);
    let rows = [
        ("GARD-SV daily", skill(&field(&sv, "daily", "tas"), &obs, false)),
        ("GARD-SV pred", skill(&field(&sv, "model", "pred"), &obs, false)),
        ("GARD-MV daily", skill(&field(&mv, "daily", "tas"), &obs, false)),
        ("GARD-MV pred", skill(&field(&mv, "model", "pred"), &obs, false)),
        ("NCEP-R1 bilinear", skill(&baseline, &obs, false)),
    ];
    print_table("tas", &rows.iter().map(|(n, s)| (*n, s)).collect::<Vec<_>>(), false);
    let [(_, sv_daily), (_, sv_pred), (_, mv_daily), (_, mv_pred), (_, raw)] = &rows;
    for product in [sv_daily, sv_pred, mv_daily, mv_pred] {
        assert!(product.mean_bias < raw.mean_bias, "{product:?} vs {raw:?}");
    }
    // The regression's prediction is in phase with the observations and closer to them than the interpolated
    // field. With one predictor it is a linear function of it, so it keeps that predictor's correlation; the
    // multivariate model's other predictors add to it.
    assert!(sv_pred.rmse < raw.rmse && (sv_pred.correlation - raw.correlation).abs() < 0.01, "{sv_pred:?} vs {raw:?}");
    assert!(mv_pred.rmse < sv_pred.rmse && mv_pred.correlation > raw.correlation + 0.01, "{mv_pred:?} vs {raw:?}");
    // The random effects restore the variance the regression leaves out.
    assert!((0.9..=1.1).contains(&sv_daily.sd_ratio) && sv_pred.sd_ratio < sv_daily.sd_ratio, "{sv_daily:?}");

    // The temperature residuals are the random field scaled by the model's error: standard normal.
    let (daily, model) =
        (field(&sv, "daily", "tas"), [field(&sv, "model", "pred"), field(&sv, "model", "prediction_error")]);
    let residuals: Vec<f64> = (0..daily.values.len())
        .flat_map(|c| {
            let (d, p, e) = (&daily.values[c], &model[0].values[c], &model[1].values[c]);
            (0..d.len()).map(move |t| (d[t] - p[t]) / e[t])
        })
        .filter(|v| v.is_finite())
        .collect();
    assert!(residuals.len() > 250_000, "{} residuals", residuals.len());
    assert!(
        mean(&residuals).abs() < 0.05 && (sd(&residuals) - 1.0).abs() < 0.05,
        "{} {}",
        mean(&residuals),
        sd(&residuals)
    );
}

#[test]
fn gard_precipitation_is_never_negative_and_wet_as_often_as_observed() {
    let dir = tempfile::tempdir().unwrap();
    let (path, obs) = observed("pr");
    let held_out = gard(dir.path(), "sv_pr", "pr", &["pr"], HELD_OUT, &[]);
    let mv = gard(dir.path(), "mv_pr", "pr", &["psl", "ta850", "hus850", "pr"], HELD_OUT, &[]);
    let baseline = bilinear_reanalysis(dir.path(), "pr", &path).years(HELD_OUT);
    let rows = [
        ("GARD-SV daily", skill(&field(&held_out, "daily", "pr"), &obs, true)),
        ("GARD-MV daily", skill(&field(&mv, "daily", "pr"), &obs, true)),
        ("NCEP-R1 bilinear", skill(&baseline, &obs, true)),
    ];
    print_table("pr", &rows.iter().map(|(n, s)| (*n, s)).collect::<Vec<_>>(), true);
    let [(_, sv), (_, mv_skill), (_, raw)] = &rows;
    for (product, manifest) in [(sv, &held_out), (mv_skill, &mv)] {
        assert!(product.wet_frequency_bias < raw.wet_frequency_bias, "{product:?} vs {raw:?}");
        let values = field(manifest, "daily", "pr");
        assert!(values.values.iter().flatten().all(|v| v.is_nan() || *v >= 0.0), "negative precipitation");
    }

    // On the training winters, each land cell is wet (> 0) about as often as observed.
    let training = field(&gard(dir.path(), "sv_pr_train", "pr", &["pr"], TRAIN, &[]), "daily", "pr");
    let observed = obs.on_days_of(&training);
    let wet = |x: &[f64]| x.iter().filter(|&&v| v > 0.0).count() as f64 / x.len() as f64;
    let biases: Vec<f64> = (0..observed.values.len())
        .filter(|&c| observed.values[c].iter().chain(&training.values[c]).all(|v| !v.is_nan()))
        .map(|c| wet(&training.values[c]) - wet(&observed.values[c]))
        .collect();
    // Each cell's frequency over ~900 days has a sampling error of about 1.6 percentage points.
    let (bias, worst) =
        (median(biases.iter().map(|b| b.abs()).collect()), biases.iter().fold(0.0_f64, |m, b| m.max(b.abs())));
    assert!(bias < 0.02 && worst < 0.08, "wet-day frequency bias: median {bias}, largest {worst}");
}
