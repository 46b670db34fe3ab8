//! Loading the oracle fixtures: JSON documents written by `scripts/oracles/generate.sh` from the real reference
//! packages (scikit-downscale 0.1.5, xsdba 0.7.0) into `target/oracles/` (or `$DOWNSCALE_ORACLES`).
#![allow(dead_code, reason = "each test binary uses only some of the helpers")]

use std::path::PathBuf;

use downscale_methods::series::TimeFacts;
use serde_json::Value;

/// The directory holding the generated fixtures.
pub(crate) fn oracle_dir() -> PathBuf {
    match std::env::var_os("DOWNSCALE_ORACLES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/oracles"),
    }
}

/// Reads one fixture, e.g. `load("skdownscale/synthetic.json")`. A missing fixture fails the test with the
/// command that generates it: these tests must never pass vacuously.
pub(crate) fn load(relative: &str) -> Value {
    let path = oracle_dir().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("cannot read oracle fixture {}: {e}; generate it with scripts/oracles/generate.sh", path.display())
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: invalid JSON: {e}", path.display()))
}

/// A JSON array of numbers (null for NaN) as f64.
pub(crate) fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array of numbers, got {value}"))
        .iter()
        .map(|v| v.as_f64().unwrap_or(f64::NAN))
        .collect()
}

/// Calendar facts from a fixture object with `months`, `days_of_year` and `days` arrays.
pub(crate) fn time_facts(value: &Value) -> TimeFacts {
    TimeFacts {
        months: numbers(&value["months"]).into_iter().map(|m| m as u8).collect(),
        days_of_year: numbers(&value["days_of_year"]).into_iter().map(|d| d as u16).collect(),
        days: numbers(&value["days"]),
    }
}

/// Largest absolute difference, NaN-aware: both NaN counts as equal, one NaN as infinite.
pub(crate) fn max_abs_diff(actual: &[f64], expected: &[f64]) -> f64 {
    max_diff(actual, expected, |_| 1.0)
}

/// Largest difference relative to `max(1, |expected|)`, NaN-aware as [`max_abs_diff`].
pub(crate) fn max_relative_diff(actual: &[f64], expected: &[f64]) -> f64 {
    max_diff(actual, expected, |e| e.abs().max(1.0))
}

/// Largest `|actual - expected| / scale(expected)`; both NaN counts as equal, one NaN as infinite.
fn max_diff(actual: &[f64], expected: &[f64], scale: impl Fn(f64) -> f64) -> f64 {
    assert_eq!(actual.len(), expected.len(), "lengths differ");
    actual
        .iter()
        .zip(expected)
        .map(|(a, e)| match (a.is_nan(), e.is_nan()) {
            (true, true) => 0.0,
            (false, false) => (a - e).abs() / scale(*e),
            _ => f64::INFINITY,
        })
        .fold(0.0, f64::max)
}
