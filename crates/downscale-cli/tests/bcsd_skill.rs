//! What a climate scientist checks first in a BCSD product, on held-out data: trained on the winters of 1983–1992,
//! BCSD predicts the historical winters of 1993–2002 over Iberia, which are scored against E-OBS, and the rcp85
//! winters of 2081–2100, whose change from the historical ones is compared with the model's own. Each score is a
//! median over the land cells. The same scores for the raw model interpolated bilinearly onto the E-OBS grid are the
//! baseline every downscaling must beat; the original system's flow (`run_options.carbonplan_compat`) is scored too,
//! to show what the default changes. Run with `--nocapture` to print the README's table.

mod common;

use std::path::Path;

use common::skill::{Field, WET_DAY_MM, bilinear_onto, correlation, mean, median, percentile, sd, wet_frequency};
use common::{repo, run_with_shipped_catalogs, sample};
use downscale_data::read_variable;
use serde_json::Value;

const TRAIN: [&str; 2] = ["1983", "1992"];
const HELD_OUT: [&str; 2] = ["1993", "2002"];
const FUTURE: [&str; 2] = ["2081", "2100"];

fn wet_intensity(x: &[f64]) -> f64 {
    let wet: Vec<f64> = x.iter().copied().filter(|&v| v >= WET_DAY_MM).collect();
    if wet.is_empty() { 0.0 } else { mean(&wet) }
}

/// The scores of one product against the observations, over the cells where both have every value.
#[derive(Debug)]
struct Scores {
    /// Median |bias of the mean| (K; for precipitation relative, as a fraction).
    mean_bias: f64,
    /// Median ratio of daily standard deviations.
    sd_ratio: f64,
    /// Median |bias| of the 2nd and 98th percentiles.
    p2_bias: f64,
    p98_bias: f64,
    /// Median |bias| of the wet-day frequency (fraction of days) and median |relative bias| of the wet-day intensity.
    wet_frequency_bias: f64,
    wet_intensity_bias: f64,
    /// Pattern correlation of the mean maps.
    pattern_correlation: f64,
    /// Share of values below zero.
    negative_share: f64,
    /// Share of values exactly zero (dry days).
    dry_share: f64,
    /// Median |downscaled change − the model's change| from the historical to the rcp85 winters: K for temperature,
    /// percentage points of relative change for precipitation.
    change_difference: f64,
}

/// `historical` and `future` of a product (and of the raw model) on the obs grid; `observed` on the held-out days.
fn score(historical: &Field, future: &Field, observed: &Field, raw: [&Field; 2], relative: bool) -> Scores {
    let cells: Vec<usize> = (0..observed.values.len())
        .filter(|&c| {
            [&observed.values[c], &historical.values[c], &future.values[c]]
                .iter()
                .all(|v| v.iter().all(|x| !x.is_nan()))
        })
        .collect();
    assert!(cells.len() > 300, "{} land cells compared", cells.len());
    let per_cell = |f: &dyn Fn(usize) -> f64| median(cells.iter().map(|&c| f(c)).collect());
    let (h, o) = (&historical.values, &observed.values);
    let mean_bias = |c: usize| {
        let bias = mean(&h[c]) - mean(&o[c]);
        if relative { (bias / mean(&o[c])).abs() } else { bias.abs() }
    };
    let change = |c: usize| {
        let (product, model) =
            ((mean(&future.values[c]), mean(&h[c])), (mean(&raw[1].values[c]), mean(&raw[0].values[c])));
        if relative {
            100.0 * ((product.0 / product.1 - 1.0) - (model.0 / model.1 - 1.0)).abs()
        } else {
            ((product.0 - product.1) - (model.0 - model.1)).abs()
        }
    };
    let all_values = || cells.iter().flat_map(|&c| h[c].iter().chain(&future.values[c]));
    let count = all_values().count() as f64;
    Scores {
        mean_bias: per_cell(&mean_bias),
        sd_ratio: per_cell(&|c| sd(&h[c]) / sd(&o[c])),
        p2_bias: per_cell(&|c| (percentile(&h[c], 2.0) - percentile(&o[c], 2.0)).abs()),
        p98_bias: per_cell(&|c| (percentile(&h[c], 98.0) - percentile(&o[c], 98.0)).abs()),
        wet_frequency_bias: per_cell(&|c| (wet_frequency(&h[c]) - wet_frequency(&o[c])).abs()),
        wet_intensity_bias: per_cell(&|c| (wet_intensity(&h[c]) / wet_intensity(&o[c]) - 1.0).abs()),
        pattern_correlation: correlation(
            &cells.iter().map(|&c| mean(&h[c])).collect::<Vec<_>>(),
            &cells.iter().map(|&c| mean(&o[c])).collect::<Vec<_>>(),
        ),
        negative_share: all_values().filter(|&&v| v < 0.0).count() as f64 / count,
        dry_share: all_values().filter(|&&v| v == 0.0).count() as f64 / count,
        change_difference: per_cell(&change),
    }
}

/// Runs BCSD of `variable` trained on [`TRAIN`] for `scenario` over `predict`, with the bias correction named
/// `correction` and `extra` arguments, in `dir` (one cache for every run of the test; results under `variant`), and
/// returns its daily output.
fn bcsd(
    dir: &Path,
    variant: &str,
    variable: &str,
    scenario: &str,
    predict: [&str; 2],
    correction: Option<&str>,
    extra: &[&str],
) -> Field {
    let example = repo().join(format!(
        "examples/iberia/bcsd/bcsd_E-OBS_CNRM-CM5_r1i1p1_rcp85_{variable}_35_45_-10_5_1983_2002_2081_2100.json"
    ));
    let mut document: Value = serde_json::from_slice(&std::fs::read(example).unwrap()).unwrap();
    document["scenario"] = scenario.into();
    document["train_dates"] = serde_json::json!(TRAIN);
    document["predict_dates"] = serde_json::json!(predict);
    if let Some(name) = correction {
        document["bias_correction_method"] = name.into();
    }
    let param_file = dir.join(format!("{variant}_{variable}_{scenario}.json"));
    std::fs::write(&param_file, document.to_string()).unwrap();
    let mut arguments = vec!["--runtime", "ci"];
    arguments.extend_from_slice(extra);
    let manifest = run_with_shipped_catalogs(dir, &format!("results_{variant}"), &param_file, &arguments);
    Field::from_array(&read_variable(manifest["datasets"]["daily"].as_str().unwrap(), variable).unwrap())
}

/// The model's `experiment` file interpolated bilinearly onto the E-OBS grid by `downscale regrid`.
fn raw_bilinear(dir: &Path, variable: &str, experiment: &str, observations: &str) -> Field {
    let period = if experiment == "historical" { "19821201-20020228" } else { "20801201-21000228" };
    let model =
        sample(&format!("iberia/gcm_CNRM-CM5/{variable}_day_CNRM-CM5_{experiment}_r1i1p1_iberia_DJF_{period}.nc"));
    bilinear_onto(&model, variable, observations, &dir.join(format!("raw_{variable}_{experiment}.zarr")))
}

/// The scores of the default, the BCSD point models, the original's flow and the raw model for `variable`.
fn scores_of(variable: &str) -> [(&'static str, Scores); 4] {
    let dir = tempfile::tempdir().unwrap();
    let observations =
        sample(&format!("iberia/obs_E-OBS/{variable}_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc"));
    let observed = Field::from_array(&read_variable(&observations, variable).unwrap());
    let raw = [
        raw_bilinear(dir.path(), variable, "historical", &observations).years(HELD_OUT),
        raw_bilinear(dir.path(), variable, "rcp85", &observations).years(FUTURE),
    ];
    let relative = variable == "pr";
    let held_out = observed.on_days_of(&raw[0]);
    let product = |variant: &str, correction: Option<&str>, extra: &[&str]| {
        let historical = bcsd(dir.path(), variant, variable, "historical", HELD_OUT, correction, extra);
        let future = bcsd(dir.path(), variant, variable, "rcp85", FUTURE, correction, extra);
        score(&historical, &future, &observed.on_days_of(&historical), [&raw[0], &raw[1]], relative)
    };
    [
        ("default", product("default", None, &[])),
        ("bcsd_point", product("bcsd_point", Some("bcsd_point"), &[])),
        ("carbonplan_compat", product("compat", None, &["--set", "run_options.carbonplan_compat=true"])),
        ("raw bilinear", score(&raw[0], &raw[1], &held_out, [&raw[0], &raw[1]], relative)),
    ]
}

fn print_table(variable: &str, rows: &[(&str, Scores)]) {
    let relative = variable == "pr";
    println!("\n{variable}: median over land cells, held-out winters 1993–2002 (trained on 1983–1992)");
    if relative {
        println!(
            "| | mean bias | SD ratio | P2 bias | P98 bias | wet-day freq. bias | wet-day intensity bias | pattern corr. | negative | dry days | Δ vs model |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|");
    } else {
        println!("| | mean bias | SD ratio | P2 bias | P98 bias | pattern corr. | Δ vs model |");
        println!("|---|---|---|---|---|---|---|");
    }
    for (name, s) in rows {
        if relative {
            println!(
                "| {name} | {:.0}% | {:.2} | {:.2} mm | {:.2} mm | {:.1} pp | {:.0}% | {:.3} | {:.1}% | {:.1}% | {:.1} pp |",
                100.0 * s.mean_bias,
                s.sd_ratio,
                s.p2_bias,
                s.p98_bias,
                100.0 * s.wet_frequency_bias,
                100.0 * s.wet_intensity_bias,
                s.pattern_correlation,
                100.0 * s.negative_share,
                100.0 * s.dry_share,
                s.change_difference
            );
        } else {
            println!(
                "| {name} | {:.2} K | {:.2} | {:.2} K | {:.2} K | {:.3} | {:.3} K |",
                s.mean_bias, s.sd_ratio, s.p2_bias, s.p98_bias, s.pattern_correlation, s.change_difference
            );
        }
    }
}

#[test]
fn default_bcsd_temperature_keeps_the_observed_variance_and_the_model_change() {
    let rows = scores_of("tas");
    print_table("tas", &rows);
    let [(_, default), (_, point), (_, compat), (_, raw)] = &rows;
    assert!(default.mean_bias < raw.mean_bias, "{default:?} vs {raw:?}");
    assert!((0.9..=1.1).contains(&default.sd_ratio), "{default:?}");
    assert!(default.p2_bias <= raw.p2_bias && default.p98_bias <= raw.p98_bias, "{default:?} vs {raw:?}");
    assert!(default.change_difference <= 0.1, "{default:?}");
    assert!(default.pattern_correlation > raw.pattern_correlation, "{default:?} vs {raw:?}");
    // What the default is for: the point model's 9-day running-mean shift inflates the daily variance.
    assert!(point.sd_ratio > 1.15 && compat.sd_ratio > 1.15, "{point:?} {compat:?}");
}

#[test]
fn default_bcsd_precipitation_is_never_negative_keeps_dry_days_and_the_model_change() {
    let rows = scores_of("pr");
    print_table("pr", &rows);
    let [(_, default), (_, point), (_, compat), (_, raw)] = &rows;
    assert_eq!(default.negative_share, 0.0, "{default:?}");
    assert!(default.wet_frequency_bias <= raw.wet_frequency_bias, "{default:?} vs {raw:?}");
    assert!(default.mean_bias < raw.mean_bias, "{default:?} vs {raw:?}");
    assert!(default.p2_bias <= raw.p2_bias && default.p98_bias <= raw.p98_bias, "{default:?} vs {raw:?}");
    assert!(default.change_difference <= 5.0, "{default:?}");
    // Dry days: E-OBS has about two thirds of its winter days at exactly zero here.
    assert!(default.dry_share > 0.4, "{default:?}");
    // What the default is for: additive anomalies make a fifth or more of the values negative and leave no day dry.
    for other in [point, compat] {
        assert!(other.negative_share > 0.2 && other.dry_share < 0.01, "{other:?}");
    }
}
