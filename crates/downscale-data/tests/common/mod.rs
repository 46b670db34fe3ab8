//! Helpers shared by the integration tests (included with `mod common;`).

#![allow(dead_code, reason = "each test binary uses only some of the helpers")]

use std::path::PathBuf;

use downscale_data::DataArray;
use downscale_data::calendar::CfDateTime;

/// The sample data shipped in the repository (`data/samples`).
pub(crate) fn sample(relative: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/samples");
    root.join(relative).to_string_lossy().to_string()
}

/// Index of the coordinate value closest to `value` (coordinates are compared by value, not position: decoding
/// reorders latitudes and longitudes).
pub(crate) fn nearest_index(array: &DataArray, coord: &str, value: f64) -> usize {
    let values =
        array.coord(coord).and_then(|c| c.values.numbers()).unwrap_or_else(|| panic!("no numeric coordinate {coord}"));
    let (index, distance) = values
        .iter()
        .enumerate()
        .map(|(i, v)| (i, (v - value).abs()))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or_else(|| panic!("empty coordinate {coord}"));
    assert!(distance < 1e-6, "{coord}={value} not found (nearest is {distance} away)");
    index
}

/// Index of `date` on the array's time axis.
pub(crate) fn time_index(array: &DataArray, date: CfDateTime) -> usize {
    let time = array.time.as_ref().expect("array has a time axis");
    time.dates.iter().position(|d| *d == date).unwrap_or_else(|| panic!("{date} not on the time axis"))
}

/// Value on `date` at the given (lat, lon) of a `(time, lat, lon)` array.
pub(crate) fn value_at(array: &DataArray, date: CfDateTime, lat: f64, lon: f64) -> f32 {
    assert_eq!(array.dims, ["time", "lat", "lon"]);
    let t = time_index(array, date);
    let y = nearest_index(array, "lat", lat);
    let x = nearest_index(array, "lon", lon);
    array.data[[t, y, x]]
}

/// How many values differ, bit for bit, with NaN equal to NaN: decoding and encoding must not change one value.
pub(crate) fn count_differing<'a>(a: impl IntoIterator<Item = &'a f32>, b: impl IntoIterator<Item = &'a f32>) -> usize {
    a.into_iter().zip(b).filter(|(x, y)| x.to_bits() != y.to_bits() && !(x.is_nan() && y.is_nan())).count()
}
