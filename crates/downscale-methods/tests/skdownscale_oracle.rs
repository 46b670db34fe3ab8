//! The scikit-downscale family against the real scikit-downscale 0.1.5 on the synthetic cases of the design
//! notes §8 rows 1–7 (`scripts/oracles/skdownscale_synthetic.py` writes `skdownscale/synthetic.json`), plus tests
//! that pin the behaviours that are easy to get wrong (§0): the tie rule, detrending's level reset, the BCSD
//! argument orders, and EDCDFm ratio on dry days.
//!
//! Tolerance: 1e-9 absolute everywhere unless stated. Both sides compute in f64 with the same positions and the
//! same interpolation formula, so most values agree to the last bit; what remains comes from the least-squares end
//! lines (sklearn's LAPACK `lstsq` against a closed form about the means), pandas' summation order in means and
//! rolling means, and the analytic form of QM-REG's extrapolated tails, all ~1e-12 or smaller on values of order
//! 1–300. 1e-9 leaves three orders of magnitude for platform differences while still catching any rule change
//! (the smallest rule change exercised here, the stable tie rank, moves values by more than 1).

mod common;

use std::collections::HashMap;
use std::sync::OnceLock;

use common::{load, max_abs_diff, numbers, time_facts};
use downscale_methods::bcsd::{BcsdPrecipitation, BcsdTemperature, FitOrder};
use downscale_methods::edcdfm::{DEFAULT_MAX_RATIO, DryPolicy, EdcdfmKind, EquidistantCdfMatcher};
use downscale_methods::qm_rank::{CunnaneCdf, QuantileMapper, cunnane_position, index_trend};
use downscale_methods::qm_regressor::{Extrapolate, QuantileMappingRegressor, TrendAwareQuantileMappingRegressor};
use downscale_methods::series::TimeFacts;
use serde_json::Value;

const TOLERANCE: f64 = 1e-9;

fn fixture() -> &'static Value {
    static FIXTURE: OnceLock<Value> = OnceLock::new();
    FIXTURE.get_or_init(|| load("skdownscale/synthetic.json"))
}

/// An input series of the fixture by name (`case[key]` holds the name).
fn series(case: &Value, key: &str) -> Vec<f64> {
    let name = case[key].as_str().unwrap_or_else(|| panic!("{key} is not a series name in {}", case["name"]));
    numbers(&fixture()["series"][name])
}

fn cases(method: &str) -> &'static [Value] {
    let cases = fixture()[method].as_array().unwrap_or_else(|| panic!("no {method} cases"));
    assert!(!cases.is_empty(), "no {method} cases");
    cases
}

fn name(case: &Value) -> &str {
    case["name"].as_str().unwrap_or("?")
}

fn extrapolate(case: &Value) -> Extrapolate {
    match case["extrapolate"].as_str() {
        None => Extrapolate::None,
        Some("1to1") => Extrapolate::OneToOne,
        Some("min") => Extrapolate::Min,
        Some("max") => Extrapolate::Max,
        Some("both") => Extrapolate::Both,
        Some(other) => panic!("unknown extrapolate {other}"),
    }
}

fn calendar(case: &Value, key: &str) -> TimeFacts {
    let calendar = case[key].as_str().unwrap_or_else(|| panic!("{key} missing"));
    time_facts(&fixture()["calendars"][calendar])
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

#[test]
fn fixture_records_the_reference_versions() {
    let versions = &fixture()["versions"];
    assert_eq!(versions["scikit-downscale"], "0.1.5");
    for package in ["scikit-learn", "numpy", "pandas"] {
        assert!(versions[package].is_string(), "{package} version missing");
    }
}

#[test]
fn quantile_mapper_matches_reference() {
    for case in cases("quantile_mapper") {
        let detrend = case["detrend"].as_bool().unwrap_or_else(|| panic!("detrend missing"));
        let fitted = QuantileMapper { detrend }.fit(&series(case, "reference")).unwrap();
        let output = fitted.transform(&series(case, "x")).unwrap();
        let difference = max_abs_diff(&output, &numbers(&case["output"]));
        println!("QuantileMapper {}: max |diff| = {difference:.2e}", name(case));
        assert!(difference <= TOLERANCE, "{}: {difference:e}", name(case));
    }
}

/// QM-REG. For `min`/`both` the reference's lower tail is excluded from the comparison: there it evaluates a
/// segment starting at position -1e20 and cancels two numbers of size 1e20, so its values are rounding noise
/// (0.0 on these data; see `qm_regressor_lower_tail_continues_where_the_reference_breaks_down`). That region is
/// every value whose model-historical probability lies below the first position of either training CDF.
#[test]
fn quantile_mapping_regressor_matches_reference() {
    for case in cases("qm_regressor") {
        let (hist, reference, x) = (series(case, "hist"), series(case, "reference"), series(case, "x"));
        let mode = extrapolate(case);
        let output =
            QuantileMappingRegressor { extrapolate: mode }.fit(&hist, &reference).unwrap().predict(&x).unwrap();
        let expected = numbers(&case["output"]);
        let broken = reference_lower_tail_is_broken(&hist, &reference, &x, mode);
        let kept: Vec<usize> = (0..x.len()).filter(|&i| !broken[i]).collect();
        let pick = |values: &[f64]| kept.iter().map(|&i| values[i]).collect::<Vec<_>>();
        let difference = max_abs_diff(&pick(&output), &pick(&expected));
        println!(
            "QuantileMappingReressor {}: max |diff| = {difference:.2e} ({} values left out)",
            name(case),
            x.len() - kept.len()
        );
        assert!(difference <= TOLERANCE, "{}: {difference:e}", name(case));
    }
}

/// Where the reference's `min`/`both` lower tail is numerically broken (see above).
fn reference_lower_tail_is_broken(hist: &[f64], reference: &[f64], x: &[f64], mode: Extrapolate) -> Vec<bool> {
    if !matches!(mode, Extrapolate::Min | Extrapolate::Both) {
        return vec![false; x.len()];
    }
    let hist_cdf = CunnaneCdf::new(hist, 1, "hist", "test").unwrap();
    let first_reference_position = cunnane_position(1, reference.len());
    x.iter().map(|&v| v < hist_cdf.values()[0] || hist_cdf.probability(v) < first_reference_position).collect()
}

/// Pins the deviation documented in `qm_regressor`: below the model-historical minimum the reference returns a
/// constant (rounding noise), ours continues the CDF linearly, decreasing with the input below the reference's
/// smallest value.
#[test]
fn qm_regressor_lower_tail_continues_where_the_reference_breaks_down() {
    let case = cases("qm_regressor").iter().find(|case| name(case) == "wide_both").expect("wide_both case");
    let (hist, reference, x) = (series(case, "hist"), series(case, "reference"), series(case, "x"));
    let output = QuantileMappingRegressor { extrapolate: Extrapolate::Both }
        .fit(&hist, &reference)
        .unwrap()
        .predict(&x)
        .unwrap();
    let expected = numbers(&case["output"]);
    let hist_min = hist.iter().copied().fold(f64::INFINITY, f64::min);
    let reference_min = reference.iter().copied().fold(f64::INFINITY, f64::min);
    let mut below: Vec<usize> = (0..x.len()).filter(|&i| x[i] < hist_min).collect();
    assert!(below.len() > 50, "the wide case must reach below the training minimum");
    below.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let reference_values: Vec<f64> = below.iter().map(|&i| expected[i]).collect();
    assert!(reference_values.iter().all(|&v| v == reference_values[0]), "the reference's tail is not constant");
    for pair in below.windows(2) {
        assert!(output[pair[0]] <= output[pair[1]], "not monotone");
    }
    assert!(below.iter().all(|&i| output[i] < reference_min));
}

/// Trend-aware QM-REG. With `both` the same lower-tail region of the reference is left out, now in terms of the
/// detrended series (the inner regressor sees residuals).
#[test]
fn trend_aware_regressor_matches_reference() {
    for case in cases("trend_aware") {
        let (hist, reference, x) = (series(case, "hist"), series(case, "reference"), series(case, "x"));
        let mode = extrapolate(case);
        let inner = QuantileMappingRegressor { extrapolate: mode };
        let output = TrendAwareQuantileMappingRegressor { inner }.fit(&hist, &reference).unwrap().predict(&x).unwrap();
        let expected = numbers(&case["output"]);
        let broken = reference_lower_tail_is_broken(&residuals(&hist), &residuals(&reference), &residuals(&x), mode);
        let kept: Vec<usize> = (0..x.len()).filter(|&i| !broken[i]).collect();
        let pick = |values: &[f64]| kept.iter().map(|&i| values[i]).collect::<Vec<_>>();
        let difference = max_abs_diff(&pick(&output), &pick(&expected));
        let left_out = x.len() - kept.len();
        println!(
            "TrendAwareQuantileMappingRegressor {}: max |diff| = {difference:.2e} ({left_out} left out)",
            name(case)
        );
        assert!(difference <= TOLERANCE, "{}: {difference:e}", name(case));
    }
}

/// The residuals about the least-squares index trend.
fn residuals(values: &[f64]) -> Vec<f64> {
    let trend = index_trend(values).unwrap();
    values.iter().enumerate().map(|(i, v)| v - trend.at(i as f64)).collect()
}

/// Largest difference with the outputs of each block of equal inputs compared as sorted groups (NaN last): the
/// reference orders tied inputs with numpy's unstable argsort, so only the set of a block's outputs is defined.
fn max_abs_diff_tie_groups(x: &[f64], actual: &[f64], expected: &[f64]) -> f64 {
    let mut groups: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, value) in x.iter().enumerate() {
        groups.entry(value.to_bits()).or_default().push(i);
    }
    let sorted = |values: &[f64], group: &[usize]| {
        let mut picked: Vec<f64> = group.iter().map(|&i| values[i]).collect();
        // NaN last whatever its sign bit (0/0 gives a negative NaN on x86, JSON's null a positive one).
        picked.sort_by(|a, b| a.is_nan().cmp(&b.is_nan()).then(a.total_cmp(b)));
        picked
    };
    groups.values().map(|group| max_abs_diff(&sorted(actual, group), &sorted(expected, group))).fold(0.0, f64::max)
}

fn edcdfm_kind(case: &Value) -> EdcdfmKind {
    match case["kind"].as_str() {
        Some("difference") => EdcdfmKind::Difference,
        Some("ratio") => EdcdfmKind::Ratio,
        other => panic!("unknown kind {other:?}"),
    }
}

/// EDCDFm with the reference's dry policy, NaN included: `max_abs_diff` counts NaN against a number as an infinite
/// difference, so the NaN count of every tie block must match exactly (on `dry_ratio`, every NaN is a zero input).
#[test]
fn equidistant_cdf_matcher_matches_reference() {
    for case in cases("edcdfm") {
        let (hist, reference, x) = (series(case, "hist"), series(case, "reference"), series(case, "x"));
        let matcher = EquidistantCdfMatcher { kind: edcdfm_kind(case), dry_policy: DryPolicy::Reference };
        let output = matcher.fit(&hist, &reference).unwrap().predict(&x).unwrap();
        let expected = numbers(&case["output"]);
        let difference = max_abs_diff_tie_groups(&x, &output, &expected);
        let nan_count = |values: &[f64]| values.iter().filter(|v| v.is_nan()).count();
        println!(
            "EquidistantCdfMatcher {}: max |diff| (tie blocks as sorted groups) = {difference:.2e}, NaN {} / {}",
            name(case),
            nan_count(&output),
            nan_count(&expected)
        );
        assert!(difference <= TOLERANCE, "{}: {difference:e}", name(case));
        assert_eq!(nan_count(&output), nan_count(&expected), "{}", name(case));
        // Outside tie blocks the outputs must agree value for value.
        let mut counts: HashMap<u64, usize> = HashMap::new();
        for value in &x {
            *counts.entry(value.to_bits()).or_default() += 1;
        }
        let untied: Vec<usize> = (0..x.len()).filter(|&i| counts[&x[i].to_bits()] == 1).collect();
        let pick = |values: &[f64]| untied.iter().map(|&i| values[i]).collect::<Vec<_>>();
        assert!(max_abs_diff(&pick(&output), &pick(&expected)) <= TOLERANCE, "{}", name(case));
    }
}

/// The default dry policy on zero-inflated precipitation, where the reference returns NaN for about half the
/// values: no NaN, zeros stay zero, and wet values equal the reference's wherever the ratio cap does not bind.
#[test]
fn edcdfm_ratio_default_policy_on_dry_days() {
    let case = cases("edcdfm").iter().find(|case| name(case) == "dry_ratio").expect("dry_ratio case");
    let (hist, reference, x) = (series(case, "hist"), series(case, "reference"), series(case, "x"));
    let expected = numbers(&case["output"]);
    assert!(expected.iter().filter(|v| v.is_nan()).count() > x.len() / 3, "the reference should give NaN here");
    let matcher = EquidistantCdfMatcher { kind: EdcdfmKind::Ratio, ..Default::default() };
    let fitted = matcher.fit(&hist, &reference).unwrap();
    let output = fitted.predict(&x).unwrap();
    assert!(output.iter().all(|v| v.is_finite() && *v >= 0.0));
    for (i, &value) in x.iter().enumerate() {
        if value == 0.0 {
            assert_eq!(output[i], 0.0, "a dry input must stay dry");
        } else {
            assert!((output[i] - expected[i]).abs() <= TOLERANCE, "step {i}: {} vs {}", output[i], expected[i]);
        }
    }

    // A wetter prediction (300 dry days given 0.1 mm) puts wet values at zero model-historical quantiles: the
    // reference rule gives x/0 = inf there (times a dry obs quantile: NaN), the default caps the ratio at
    // DEFAULT_MAX_RATIO.
    let mut wetter = x.clone();
    for value in wetter.iter_mut().filter(|v| **v == 0.0).take(300) {
        *value = 0.1;
    }
    let output = fitted.predict(&wetter).unwrap();
    let unguarded = EquidistantCdfMatcher { kind: EdcdfmKind::Ratio, dry_policy: DryPolicy::Reference }
        .fit(&hist, &reference)
        .unwrap()
        .predict(&wetter)
        .unwrap();
    let wet_non_finite = (0..wetter.len()).filter(|&i| wetter[i] > 0.0 && !unguarded[i].is_finite()).count();
    assert!(wet_non_finite > 0, "the unguarded rule should fail on wet values here");
    assert!(output.iter().all(|v| v.is_finite() && *v >= 0.0));
    // Each wet value, recomputed from its (time-ordered) rank: yo · min(x / xh, cap).
    let (hist_cdf, reference_cdf) = (
        CunnaneCdf::new(&hist, 1, "hist", "test").unwrap(),
        CunnaneCdf::new(&reference, 1, "reference", "test").unwrap(),
    );
    let mut order: Vec<usize> = (0..wetter.len()).collect();
    order.sort_by(|&a, &b| wetter[a].total_cmp(&wetter[b]));
    let mut capped = 0;
    for (rank, &i) in order.iter().enumerate() {
        if wetter[i] == 0.0 {
            assert_eq!(output[i], 0.0);
            continue;
        }
        let p = cunnane_position(rank + 1, wetter.len());
        let ratio = wetter[i] / hist_cdf.quantile(p);
        if ratio > DEFAULT_MAX_RATIO {
            capped += 1;
            assert_eq!(output[i], reference_cdf.quantile(p) * DEFAULT_MAX_RATIO, "step {i}");
        } else {
            assert_eq!(output[i], unguarded[i], "step {i}");
        }
    }
    println!(
        "EDCDFm ratio, default dry policy: {capped} wet values capped; the unguarded rule: {wet_non_finite} NaN/inf"
    );
    assert!(capped >= 100, "the cap should bind on the new wet days");
}

fn bcsd_output(case: &Value, order: FitOrder) -> Vec<f64> {
    let (train, predict) = (calendar(case, "train_calendar"), calendar(case, "predict_calendar"));
    let (obs, hist, future) = (series(case, "obs"), series(case, "model_hist"), series(case, "model_future"));
    let (x, y) = order.fit_arguments(train.series(&hist), train.series(&obs));
    match case["variable"].as_str() {
        Some("temperature") => BcsdTemperature::default().fit(x, y).unwrap().predict(predict.series(&future)),
        Some("precipitation") => BcsdPrecipitation::default().fit(x, y).unwrap().predict(predict.series(&future)),
        other => panic!("unknown variable {other:?}"),
    }
    .unwrap()
}

#[test]
fn bcsd_matches_reference_in_both_fit_orders() {
    for case in cases("bcsd") {
        for (order, key) in [(FitOrder::Documented, "documented"), (FitOrder::CarbonPlan, "carbonplan")] {
            let difference = max_abs_diff(&bcsd_output(case, order), &numbers(&case["outputs"][key]));
            println!("BCSD {} ({key} order): max |diff| = {difference:.2e}", name(case));
            assert!(difference <= TOLERANCE, "{} {key}: {difference:e}", name(case));
        }
    }
}

/// The tie rule (§0 item 2): with a drier model than the obs, every model-dry day of a month takes the largest
/// position of the month's dry block. The result must equal the reference exactly wherever no end line is
/// involved (the end lines come from different least-squares solvers, hence the 1e-12 elsewhere), and the
/// stable-rank rule a port might write instead must be far off.
#[test]
fn tie_rule_matches_reference_exactly() {
    let case = cases("bcsd").iter().find(|case| name(case) == "precipitation_ties").expect("tie case");
    // Bit patterns rather than decimals: a bit-for-bit check needs bit-exact inputs and expectations.
    let exact = |key: &str| -> Vec<f64> {
        let values = case["exact_bits"][key].as_array().unwrap_or_else(|| panic!("exact_bits.{key} missing"));
        values
            .iter()
            .map(|v| f64::from_bits(v.as_u64().unwrap_or_else(|| panic!("{v} is not a bit pattern"))))
            .collect()
    };
    let (obs, future, expected) = (exact("obs"), exact("model_future"), exact("documented"));
    let (train, predict) = (calendar(case, "train_calendar"), calendar(case, "predict_calendar"));
    // BcsdPrecipitation does not use fit's x; the obs stand in for it.
    let fitted = BcsdPrecipitation::default().fit(train.series(&obs), train.series(&obs)).unwrap();
    let output = fitted.predict(predict.series(&future)).unwrap();
    let mut stable_rank_output = vec![f64::NAN; future.len()];
    let (mut bit_identical, mut extrapolated, mut extrapolated_difference) = (0, 0, 0.0_f64);
    for month in 1..=12 {
        let steps: Vec<usize> = (0..future.len()).filter(|&i| predict.months[i] == month).collect();
        let values: Vec<f64> = steps.iter().map(|&i| future[i]).collect();
        let reference: Vec<f64> = (0..obs.len()).filter(|&i| train.months[i] == month).map(|i| obs[i]).collect();
        let (first_position, last_position) =
            (cunnane_position(1, reference.len()), cunnane_position(reference.len(), reference.len()));
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let mut stable_ranks = vec![0.0; values.len()];
        for (rank, &k) in order.iter().enumerate() {
            stable_ranks[k] = rank as f64;
            // The tie rule's position: that of the last member of the block (the largest rank with this value).
            let block_end = rank + order[rank..].iter().take_while(|&&j| values[j] == values[k]).count();
            let p = cunnane_position(block_end, values.len());
            let i = steps[k];
            // Positions beyond the reference's use the end lines: only possible when the month has more days.
            if p < first_position || p > last_position {
                extrapolated += 1;
                extrapolated_difference = extrapolated_difference.max((output[i] - expected[i]).abs());
            } else {
                assert_eq!(output[i].to_bits(), expected[i].to_bits(), "step {i}: {} vs {}", output[i], expected[i]);
                bit_identical += 1;
            }
        }
        // A stable rank: tie-free stand-ins (each step's rank in a stable sort) give every tied day its own position.
        let mapped = QuantileMapper::default().fit(&reference).unwrap().transform(&stable_ranks).unwrap();
        for (&i, value) in steps.iter().zip(mapped) {
            stable_rank_output[i] = value;
        }
    }
    let stable_difference = max_abs_diff(&stable_rank_output, &expected);
    println!(
        "tie case: {bit_identical} values bit-identical, {extrapolated} on the end lines within \
         {extrapolated_difference:.1e}; stable-rank rule off by {stable_difference:.2}"
    );
    assert!(extrapolated_difference <= 1e-12);
    assert!(extrapolated <= 12, "only February's extra leap days reach the end lines");
    assert!(stable_difference > 1.0);
}

/// §0 item 4: with detrending the mapped series starts at the obs trend line's level, not at the GCM's: the
/// warming between the two periods is lost (as in the reference, which the values match).
#[test]
fn detrended_quantile_mapper_resets_the_level() {
    let case = cases("quantile_mapper").iter().find(|case| name(case) == "level_detrend_true").expect("level case");
    let (obs, gcm) = (series(case, "reference"), series(case, "x"));
    let output = QuantileMapper { detrend: true }.fit(&obs).unwrap().transform(&gcm).unwrap();
    assert!(max_abs_diff(&output, &numbers(&case["output"])) <= TOLERANCE);
    let decade = 3652;
    let obs_trend_start = index_trend(&obs).unwrap().intercept;
    let (mapped_start, gcm_start) = (mean(&output[..decade]), mean(&gcm[..decade]));
    println!(
        "obs trend start {obs_trend_start:.2}, GCM first decade {gcm_start:.2}, mapped first decade {mapped_start:.2}"
    );
    // The first decade's mean sits at the obs trend start plus half a decade of the GCM slope (0.05 K/yr).
    assert!((mapped_start - (obs_trend_start + 0.25)).abs() < 0.3, "{mapped_start} vs {obs_trend_start}");
    assert!(gcm_start - mapped_start > 2.0);
}

/// §3.4 pitfall 1: the documented order maps onto the obs (T: fut - hist + obs; pr: the obs mean), CarbonPlan's
/// onto the model-historical distribution (T: fut - obs + hist; pr: the model-historical mean).
#[test]
fn bcsd_fit_orders_give_the_two_documented_means() {
    for case in cases("bcsd").iter().filter(|case| name(case) != "precipitation_ties") {
        let (obs, hist, future) =
            (mean(&series(case, "obs")), mean(&series(case, "model_hist")), mean(&series(case, "model_future")));
        let documented = mean(&bcsd_output(case, FitOrder::Documented));
        let carbonplan = mean(&bcsd_output(case, FitOrder::CarbonPlan));
        assert!((documented - mean(&numbers(&case["outputs"]["documented"]))).abs() <= TOLERANCE);
        assert!((carbonplan - mean(&numbers(&case["outputs"]["carbonplan"]))).abs() <= TOLERANCE);
        println!(
            "BCSD {}: obs {obs:.3} hist {hist:.3} fut {future:.3} | documented {documented:.3} | CarbonPlan \
             {carbonplan:.3}",
            name(case)
        );
        if name(case) == "temperature" {
            assert!((documented - 288.17).abs() < 0.01 && (carbonplan - 284.77).abs() < 0.01);
            assert!((documented - (future - hist + obs)).abs() < 0.1);
            assert!((carbonplan - (future - obs + hist)).abs() < 0.1);
        } else {
            assert!((documented - 1.843).abs() < 0.001 && (carbonplan - 1.425).abs() < 0.001);
            assert!((documented - obs).abs() < 0.01 && (carbonplan - hist).abs() < 0.01);
        }
    }
}
