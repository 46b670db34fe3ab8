//! The xsdba family against xsdba 0.7.0 itself: fixtures written by `scripts/oracles/xsdba_synthetic.py` (see its
//! docstring for each anchor).
//!
//! Tolerance: 1e-9 absolute everywhere, on values of order 300 K or 100 mm/d, i.e. about
//! 1e-11 relative. Quantiles, factors, ranks and interpolation reproduce xsdba's arithmetic operation for operation,
//! so most values agree to the last bit; the remaining differences come from summation order (xarray's pairwise or
//! sequential means, `lstsq` versus centred least squares for DQM's trend), which are of order 1e-13 here, far below
//! 1e-9 and far above nothing. Infinite factors (kind '*' with a zero hist quantile) and NaN must match exactly.
//!
//! Randomness (frequency adaptation, jitter): xsdba draws from numpy's legacy global RandomState. The fixtures
//! record the seeds set right before each training and adjustment, and these tests feed the same MT19937 stream
//! (re-implemented below and checked against numpy's draws) through `UniformSource`, so the random paths are
//! compared exactly as well.

mod common;

use std::sync::OnceLock;

use common::{load, time_facts};
use downscale_methods::series::TimeFacts;
use downscale_methods::xsdba::{
    AdjustOptions, DetrendedQuantileMapping, EmpiricalQuantileMapping, Extrapolation, GroupFactors, Grouping, Interp,
    Kind, QuantileDeltaMapping, TrainOptions, UniformSource, jitter_under_threshold,
};
use serde_json::Value;

/// The tolerance of every comparison (see the module documentation).
const TOLERANCE: f64 = 1e-9;

/// numpy's legacy `RandomState` after `np.random.seed(seed)`: MT19937 initialised with `init_genrand(seed)`, and
/// `random_sample` built from two 32-bit outputs as `((a >> 5) 2^26 + (b >> 6)) / 2^53`.
struct NumpyLegacyRandom {
    state: [u32; 624],
    position: usize,
}

impl NumpyLegacyRandom {
    fn new(seed: u32) -> Self {
        let mut state = [0u32; 624];
        state[0] = seed;
        for i in 1..624 {
            state[i] = 1_812_433_253u32.wrapping_mul(state[i - 1] ^ (state[i - 1] >> 30)).wrapping_add(i as u32);
        }
        NumpyLegacyRandom { state, position: 624 }
    }

    fn next_u32(&mut self) -> u32 {
        if self.position >= 624 {
            for i in 0..624 {
                let y = (self.state[i] & 0x8000_0000) | (self.state[(i + 1) % 624] & 0x7fff_ffff);
                let twisted = self.state[(i + 397) % 624] ^ (y >> 1);
                self.state[i] = if y & 1 == 1 { twisted ^ 0x9908_b0df } else { twisted };
            }
            self.position = 0;
        }
        let mut y = self.state[self.position];
        self.position += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }
}

impl UniformSource for NumpyLegacyRandom {
    fn next_uniform(&mut self) -> f64 {
        let a = f64::from(self.next_u32() >> 5);
        let b = f64::from(self.next_u32() >> 6);
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }
}

fn numpy_random(seed: &Value) -> NumpyLegacyRandom {
    NumpyLegacyRandom::new(seed.as_u64().map_or(0, |s| s as u32))
}

fn fixture() -> &'static Value {
    static FIXTURE: OnceLock<Value> = OnceLock::new();
    FIXTURE.get_or_init(|| load("xsdba/synthetic.json"))
}

/// The fixture's floats: strings of Python's shortest repr ("inf" and "-inf" included) parsed with Rust's correctly
/// rounded parser (serde_json's own number parsing, without its `float_roundtrip` feature, can be one ulp off, which
/// would perturb the inputs); null is NaN.
fn floats(value: &Value) -> Vec<f64> {
    let items = value.as_array().unwrap_or_else(|| panic!("expected an array, got {value}"));
    items.iter().map(float).collect()
}

fn float(value: &Value) -> f64 {
    match value {
        Value::String(text) => text.parse().unwrap_or_else(|_| panic!("not a float: {text}")),
        Value::Number(number) => number.as_f64().unwrap_or(f64::NAN),
        _ => f64::NAN,
    }
}

/// Largest absolute difference; NaN matches NaN and an infinity the same infinity, anything else is infinite.
fn max_difference(actual: &[f64], expected: &[f64]) -> f64 {
    assert_eq!(actual.len(), expected.len(), "lengths differ");
    actual
        .iter()
        .zip(expected)
        .map(|(&a, &e)| {
            if a.is_nan() || e.is_nan() {
                if a.is_nan() && e.is_nan() { 0.0 } else { f64::INFINITY }
            } else if a == e {
                0.0
            } else {
                (a - e).abs()
            }
        })
        .fold(0.0, f64::max)
}

struct Inputs {
    reference: Vec<f64>,
    hist: Vec<f64>,
    sim: Vec<f64>,
    train_facts: TimeFacts,
    sim_facts: TimeFacts,
}

fn inputs(doc: &Value, data: &str) -> Inputs {
    let series = |name: &str| floats(&doc["series"][format!("{data}_{name}")]["values"]);
    let facts = |name: &str| {
        let calendar = doc["series"][format!("{data}_{name}")]["calendar"].as_str().unwrap_or_default();
        time_facts(&doc["calendars"][calendar])
    };
    Inputs {
        reference: series("ref"),
        hist: series("hist"),
        sim: series("sim"),
        train_facts: facts("ref"),
        sim_facts: facts("sim"),
    }
}

fn train_options(case: &Value) -> TrainOptions {
    let group = match case["group"]["type"].as_str() {
        Some("time") => Grouping::Time,
        Some("month") => Grouping::Month,
        Some("dayofyear") => Grouping::DayOfYear { window: case["group"]["window"].as_u64().unwrap_or(1) as usize },
        other => panic!("unknown group {other:?}"),
    };
    TrainOptions {
        nquantiles: case["nquantiles"].as_u64().unwrap_or(0) as usize,
        kind: if case["kind"] == "*" { Kind::Multiplicative } else { Kind::Additive },
        group,
        adapt_freq_thresh: (!case["adapt_freq_thresh"].is_null()).then(|| float(&case["adapt_freq_thresh"])),
    }
}

fn adjust_options(entry: &Value) -> AdjustOptions {
    AdjustOptions {
        interp: if entry["interp"] == "linear" { Interp::Linear } else { Interp::Nearest },
        extrapolation: if entry["extrapolation"] == "nan" { Extrapolation::Nan } else { Extrapolation::Constant },
    }
}

/// A trained model of any of the three methods, seen through what the tests compare.
enum Trained {
    Empirical(downscale_methods::xsdba::TrainedEmpiricalQuantileMapping),
    Detrended(downscale_methods::xsdba::TrainedDetrendedQuantileMapping),
    QuantileDelta(downscale_methods::xsdba::TrainedQuantileDeltaMapping),
}

impl Trained {
    fn groups(&self) -> &[GroupFactors] {
        match self {
            Trained::Empirical(model) => model.groups(),
            Trained::Detrended(model) => model.groups(),
            Trained::QuantileDelta(model) => model.groups(),
        }
    }

    fn adjust(&self, sim: downscale_methods::TimeSeries, options: &AdjustOptions, seed: &Value) -> Vec<f64> {
        let random = &mut numpy_random(seed);
        match self {
            Trained::Empirical(model) => model.adjust_with_random(sim, options, random),
            Trained::Detrended(model) => model.adjust_with_random(sim, options, random),
            Trained::QuantileDelta(model) => model.adjust_with_random(sim, options, random),
        }
        .unwrap_or_else(|e| panic!("adjust failed: {e}"))
    }
}

/// Largest differences of one case: (trained factors, adjusted outputs).
#[derive(Debug, Default, Clone, Copy)]
struct Differences {
    trained: f64,
    output: f64,
}

/// Trains and adjusts one case as the fixture describes and compares with xsdba.
fn check_case(doc: &Value, case: &Value) -> Differences {
    let name = case["name"].as_str().unwrap_or_default();
    let data = inputs(doc, case["data"].as_str().unwrap_or_default());
    let options = train_options(case);
    let reference = data.train_facts.series(&data.reference);
    let hist = data.train_facts.series(&data.hist);
    let random = &mut numpy_random(&case["train_seed"]);
    let trained = match case["method"].as_str() {
        Some("eqm") => EmpiricalQuantileMapping::train(&options, reference, hist, random).map(Trained::Empirical),
        Some("dqm") => DetrendedQuantileMapping::train(&options, reference, hist, random).map(Trained::Detrended),
        Some("qdm") => QuantileDeltaMapping::train(&options, reference, hist, random).map(Trained::QuantileDelta),
        other => panic!("unknown method {other:?}"),
    }
    .unwrap_or_else(|e| panic!("{name}: training failed: {e}"));

    let trained_difference = compare_trained(name, &trained, &case["trained"]);
    let mut output_difference: f64 = 0.0;
    let mut constant_outputs: Vec<(String, Vec<f64>)> = Vec::new();
    for entry in case["adjust"].as_array().into_iter().flatten() {
        let interp = entry["interp"].as_str().unwrap_or_default().to_string();
        let actual = trained.adjust(data.sim_facts.series(&data.sim), &adjust_options(entry), &case["adjust_seed"]);
        let expected = match entry.get("output") {
            Some(output) => floats(output),
            None => {
                // The 'nan' output is the 'constant' one with NaN where values fall outside the trained range.
                let (_, constant) = constant_outputs
                    .iter()
                    .find(|(i, _)| *i == interp)
                    .unwrap_or_else(|| panic!("{name}: no constant output before the nan one"));
                let mut expected = constant.clone();
                for index in entry["nan_added_to_constant"].as_array().into_iter().flatten() {
                    expected[index.as_u64().unwrap_or(u64::MAX) as usize] = f64::NAN;
                }
                expected
            }
        };
        let difference = max_difference(&actual, &expected);
        assert!(difference <= TOLERANCE, "{name} {interp} {}: max |difference| {difference:e}", entry["extrapolation"]);
        output_difference = output_difference.max(difference);
        if entry["extrapolation"] == "constant" {
            constant_outputs.push((interp, expected));
        }
    }
    Differences { trained: trained_difference, output: output_difference }
}

/// Compares keys, hist quantiles, factors, DQM scaling and frequency-adaptation facts per group.
fn compare_trained(name: &str, trained: &Trained, expected: &Value) -> f64 {
    let keys: Vec<u16> =
        expected["keys"].as_array().into_iter().flatten().map(|k| k.as_u64().unwrap_or(0) as u16).collect();
    let groups = trained.groups();
    assert_eq!(groups.iter().map(GroupFactors::key).collect::<Vec<_>>(), keys, "{name}: group keys");
    let row = |field: &str, index: usize| floats(&expected[field][index]);
    let scalars = |field: &str| expected.get(field).map(floats);
    let mut worst: f64 = 0.0;
    let mut check = |what: &str, actual: &[f64], expected: &[f64]| {
        let difference = max_difference(actual, expected);
        assert!(difference <= TOLERANCE, "{name}: {what} max |difference| {difference:e}");
        worst = worst.max(difference);
    };
    for (index, group) in groups.iter().enumerate() {
        let key = group.key();
        check(&format!("hist_q of group {key}"), group.hist_quantiles(), &row("hist_q", index));
        check(&format!("af of group {key}"), group.factors(), &row("af", index));
        if let Some(scaling) = scalars("scaling") {
            check(&format!("scaling of group {key}"), &[group.scaling().unwrap_or(f64::NAN)], &[scaling[index]]);
        }
        if let (Some(p0_ref), Some(p0_hist), Some(pth)) = (scalars("p0_ref"), scalars("p0_hist"), scalars("pth")) {
            let adaptation = group.frequency_adaptation().unwrap_or_else(|| panic!("{name}: no frequency adaptation"));
            check(
                &format!("P0_ref, P0_hist, pth of group {key}"),
                &[adaptation.p0_ref, adaptation.p0_hist, adaptation.pth],
                &[p0_ref[index], p0_hist[index], pth[index]],
            );
        }
    }
    worst
}

/// Checks every case whose name passes `select`, printing the largest differences; at least one must exist.
fn check_cases(select: impl Fn(&str) -> bool) {
    let doc = fixture();
    let mut checked = 0;
    for case in doc["cases"].as_array().into_iter().flatten() {
        let name = case["name"].as_str().unwrap_or_default();
        if !select(name) {
            continue;
        }
        let differences = check_case(doc, case);
        println!(
            "{name}: trained max |diff| {:.1e}, outputs max |diff| {:.1e}",
            differences.trained, differences.output
        );
        checked += 1;
    }
    assert!(checked > 0, "no case selected");
}

#[test]
fn numpy_legacy_mt19937_reproduces_numpy_draws() {
    for check in fixture()["rng_check"].as_array().into_iter().flatten() {
        let mut random = numpy_random(&check["seed"]);
        let sample: Vec<f64> = floats(&check["random_sample"]).iter().map(|_| random.next_uniform()).collect();
        assert_eq!(sample, floats(&check["random_sample"]), "seed {}", check["seed"]);
        let uniform: Vec<f64> =
            floats(&check["uniform_0.1_0.25"]).iter().map(|_| 0.1 + (0.25 - 0.1) * random.next_uniform()).collect();
        assert_eq!(uniform, floats(&check["uniform_0.1_0.25"]), "seed {}", check["seed"]);
    }
}

/// tas '+' and pr '*', 20 and 50 quantiles, EQM/DQM/QDM, nearest/linear, constant/nan.
#[test]
fn group_time_matches_xsdba() {
    check_cases(|name| (name.contains(" tas ") || name.contains(" pr ")) && name.ends_with(" time"));
}

/// Row 9: one xsdba group='time' call per month subset; trained factors from xsdba's group='time.month'.
#[test]
fn per_month_matches_separate_xsdba_calls() {
    check_cases(|name| name.ends_with(" month"));
}

/// Day of year with a 31-day window: training equals xsdba's Grouper; adjustment per day of year.
#[test]
fn day_of_year_window_matches_xsdba() {
    check_cases(|name| name.ends_with(" doy31"));
}

/// Kind '*' with dry days: 0/0 nodes dropped, infinite factors kept, dry simulated days NaN (as in xsdba).
#[test]
fn dry_days_with_multiplicative_kind_match_xsdba() {
    check_cases(|name| name.contains(" dry ") && name.ends_with(" time"));
}

/// adapt_freq_thresh = 1 mm/d on a hist drier than ref: hist adapted in training, sim in adjustment, same draws.
#[test]
fn frequency_adaptation_matches_xsdba() {
    check_cases(|name| name.ends_with(" adapt"));
}

/// About 1 % missing values in ref, hist and sim.
#[test]
fn missing_values_match_xsdba() {
    check_cases(|name| name.contains(" gaps "));
}

#[test]
fn jitter_under_threshold_matches_xsdba() {
    let doc = fixture();
    let jitter = &doc["jitter"];
    let mut values = floats(&doc["series"][jitter["series"].as_str().unwrap_or_default()]["values"]);
    let threshold = float(&jitter["threshold"]);
    jitter_under_threshold(&mut values, threshold, &mut numpy_random(&jitter["seed"]));
    let difference = max_difference(&values, &floats(&jitter["output"]));
    println!("jitter: max |diff| {difference:.1e}");
    assert_eq!(difference, 0.0, "jitter draws must match numpy's bit for bit");
}
