//! `downscale adjust` on real station series: array layouts, and bad input (each a defined result or a one-line
//! error, never a panic, never an output file left behind).

mod common;

use std::path::Path;

use common::{assert_one_line_error, downscale, sample};
use downscale_data::read_variable;

const NRCAN: &str = "stations_sdba/nrcan_1950-2013.nc";
const CANESM2: &str = "stations_sdba/CanESM2_1950-2100.nc";

/// How to lay out a copy of a station file.
#[derive(Clone, Copy)]
enum Layout {
    /// `(time, location)` as the source.
    Stations,
    /// `(time, lat=1, lon=3)`: the three stations as one row of a grid.
    Grid,
}

/// Writes a copy of `var` of a real station file (all its days) with the given units and layout, after `edit`
/// changed the `(time, location)` values (row-major), returning its path.
fn station_copy(
    dir: &Path,
    name: &str,
    source_file: &str,
    var: &str,
    units: &str,
    layout: Layout,
    edit: impl Fn(&mut [f32], usize),
) -> String {
    let source = netcdf::open(sample(source_file)).unwrap();
    let time_var = source.variable("time").unwrap();
    let times = time_var.get_values::<f64, _>(..).unwrap();
    let time_units = String::try_from(time_var.attribute_value("units").unwrap().unwrap()).unwrap();
    let mut values = source.variable(var).unwrap().get_values::<f32, _>(..).unwrap();
    let locations = values.len() / times.len();
    edit(&mut values, locations);

    let path = dir.join(name);
    let mut file = netcdf::create(&path).unwrap();
    file.add_dimension("time", times.len()).unwrap();
    let mut time = file.add_variable::<f64>("time", &["time"]).unwrap();
    time.put_attribute("units", time_units).unwrap();
    time.put_attribute("calendar", "noleap").unwrap();
    time.put_values(&times, ..).unwrap();
    let dims: Vec<&str> = match layout {
        Layout::Stations => {
            file.add_dimension("location", locations).unwrap();
            vec!["time", "location"]
        }
        Layout::Grid => {
            for (dim, values, units) in
                [("lat", vec![50.0], "degrees_north"), ("lon", vec![-120.0, -110.0, -100.0], "degrees_east")]
            {
                file.add_dimension(dim, values.len()).unwrap();
                let mut coordinate = file.add_variable::<f64>(dim, &[dim]).unwrap();
                coordinate.put_attribute("units", units).unwrap();
                coordinate.put_values(&values, ..).unwrap();
            }
            vec!["time", "lat", "lon"]
        }
    };
    let mut data = file.add_variable::<f32>(var, &dims).unwrap();
    data.put_attribute("units", units).unwrap();
    data.put_values(&values, ..).unwrap();
    path.to_string_lossy().to_string()
}

/// Runs `downscale adjust` with REF, HIST = SIM, train 1981–2010 and predict 2041–2070.
fn adjust(method: &str, var: &str, reference: &str, model: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    downscale()
        .args(["adjust", "--method", method, "--var", var, "--ref", reference, "--hist", model, "--sim", model])
        .args(["--train", "1981", "2010", "--predict", "2041", "2070", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .expect("the binary runs")
}

fn read(out: &Path, var: &str) -> downscale_data::DataArray {
    read_variable(out.to_str().unwrap(), var).expect("the output reads back")
}

#[test]
fn a_grid_of_points_gives_the_same_values_as_the_same_points_as_stations() {
    let dir = tempfile::tempdir().unwrap();
    let grid_ref = station_copy(dir.path(), "ref.nc", NRCAN, "tasmax", "K", Layout::Grid, |_, _| {});
    let grid_model = station_copy(dir.path(), "model.nc", CANESM2, "tasmax", "K", Layout::Grid, |_, _| {});
    for method in ["qdm", "bcsd-temperature"] {
        let (stations_out, grid_out) = (dir.path().join("stations.zarr"), dir.path().join(format!("{method}.zarr")));
        let output = adjust(method, "tasmax", &sample(NRCAN), &sample(CANESM2), &stations_out, &["--group", "time"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let output = adjust(method, "tasmax", &grid_ref, &grid_model, &grid_out, &["--group", "time"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let (stations, grid) = (read(&stations_out, "tasmax"), read(&grid_out, "tasmax"));
        assert_eq!(grid.dims, ["time", "lat", "lon"]);
        assert_eq!(grid.shape(), [10950, 1, 3]);
        let flattened: Vec<f32> = grid.data.iter().copied().collect();
        let station_values: Vec<f32> = stations.data.iter().copied().collect();
        assert_eq!(flattened, station_values, "{method}: same points, same numbers");
        assert!(flattened.iter().all(|v| v.is_finite()));
        std::fs::remove_dir_all(&stations_out).unwrap();
    }
}

#[test]
fn an_all_missing_point_gives_missing_output_and_leaves_the_others_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let full = station_copy(dir.path(), "full.nc", NRCAN, "pr", "mm s-1", Layout::Stations, |_, _| {});
    let gappy = station_copy(dir.path(), "gappy.nc", NRCAN, "pr", "mm s-1", Layout::Stations, |values, n| {
        values.iter_mut().skip(1).step_by(n).for_each(|v| *v = f32::NAN);
    });
    for method in ["eqm", "quantile-mapper", "bcsd-precipitation"] {
        let (a, b) = (dir.path().join(format!("{method}-full.nc")), dir.path().join(format!("{method}-gappy.nc")));
        let kind: &[&str] = if method == "eqm" { &["--kind", "multiplicative"] } else { &[] };
        for (reference, out) in [(&full, &a), (&gappy, &b)] {
            let output = adjust(method, "pr", reference, &sample(CANESM2), out, kind);
            assert!(output.status.success(), "{method}: {}", String::from_utf8_lossy(&output.stderr));
        }
        let (full_out, gappy_out) = (read(&a, "pr"), read(&b, "pr"));
        for t in 0..full_out.shape()[0] {
            assert!(gappy_out.data[[t, 1]].is_nan(), "{method}: the all-missing point stays missing");
            for location in [0, 2] {
                assert_eq!(gappy_out.data[[t, location]], full_out.data[[t, location]], "{method}: others unchanged");
            }
        }
    }
}

/// Day index (noleap, days since 1950-01-01) of 1990-01-01, inside the training years 1981–2010.
const TRAINING_DAY: usize = 40 * 365;

#[test]
fn too_few_values_for_the_method_is_a_one_line_error_naming_the_point() {
    let dir = tempfile::tempdir().unwrap();
    // Kugluktuk (location 1) keeps only 5 observed days of the training period.
    let sparse = station_copy(dir.path(), "sparse.nc", NRCAN, "tasmax", "K", Layout::Stations, |values, n| {
        let days = values.len() / n;
        for t in 0..days {
            if !(TRAINING_DAY..TRAINING_DAY + 5).contains(&t) {
                values[t * n + 1] = f32::NAN;
            }
        }
    });
    // QM-RANK fits its tails through 10 end points; BCSD needs them in every month.
    for method in ["quantile-mapper", "bcsd-temperature"] {
        let out = dir.path().join(format!("{method}.nc"));
        let output = adjust(method, "tasmax", &sparse, &sample(CANESM2), &out, &[]);
        assert_one_line_error(&output, &["sparse.nc", "location=Kugluktuk", "needs at least"]);
        assert!(!out.exists(), "no output file after an error");
    }
    // xsdba estimates type-7 quantiles from any number of valid values, and so do we: 5 values for 20 nodes is a
    // defined result (interpolated between the 5), finite, and the other stations are unaffected.
    let (sparse_out, full_out) = (dir.path().join("eqm-sparse.nc"), dir.path().join("eqm-full.nc"));
    for (reference, out) in [(&sparse, &sparse_out), (&sample(NRCAN), &full_out)] {
        let output = adjust("eqm", "tasmax", reference, &sample(CANESM2), out, &[]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let (sparse_result, full_result) = (read(&sparse_out, "tasmax"), read(&full_out, "tasmax"));
    let observed: Vec<f32> = sparse_result.data.iter().copied().collect();
    assert!(observed.iter().all(|v| v.is_finite()));
    for t in 0..sparse_result.shape()[0] {
        for location in [0, 2] {
            assert_eq!(sparse_result.data[[t, location]], full_result.data[[t, location]]);
        }
    }
}

#[test]
fn constant_series_give_a_defined_result() {
    let dir = tempfile::tempdir().unwrap();
    let constant = station_copy(dir.path(), "constant.nc", NRCAN, "tasmax", "K", Layout::Stations, |values, n| {
        values.iter_mut().skip(2).step_by(n).for_each(|v| *v = 273.15);
    });
    for method in ["eqm", "dqm", "qdm", "quantile-mapper", "qm-regressor", "edcdfm", "bcsd-temperature"] {
        let out = dir.path().join(format!("{method}.nc"));
        // A constant reference: every method maps onto the constant (the only value observed) or keeps the model's
        // anomalies around it; either way the result is finite.
        let output = adjust(method, "tasmax", &constant, &sample(CANESM2), &out, &[]);
        assert!(output.status.success(), "{method}: {}", String::from_utf8_lossy(&output.stderr));
        let result = read(&out, "tasmax");
        assert!(result.data.iter().all(|v| v.is_finite()), "{method}: finite everywhere");
    }
    // A constant model (hist = sim): nothing to rank, every value maps to one reference quantile.
    let constant_model =
        station_copy(dir.path(), "constant-model.nc", CANESM2, "tasmax", "K", Layout::Stations, |values, n| {
            values.iter_mut().skip(2).step_by(n).for_each(|v| *v = 273.15);
        });
    let out = dir.path().join("constant-model-out.nc");
    let output = adjust("eqm", "tasmax", &sample(NRCAN), &constant_model, &out, &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let result = read(&out, "tasmax");
    let at_station_2: Vec<f32> = (0..result.shape()[0]).map(|t| result.data[[t, 2]]).collect();
    assert!(at_station_2.iter().all(|&v| v == at_station_2[0] && v.is_finite()), "one value for one input value");
}

#[test]
fn negative_precipitation_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let negative = station_copy(dir.path(), "negative.nc", NRCAN, "pr", "mm s-1", Layout::Stations, |values, n| {
        values[TRAINING_DAY * n] = -1e-5;
    });
    let out = dir.path().join("out.nc");
    let output = adjust("qdm", "pr", &negative, &sample(CANESM2), &out, &["--kind", "multiplicative"]);
    assert_one_line_error(&output, &["negative.nc", "pr", "negative", "REF"]);
    assert!(!out.exists());
}

#[test]
fn units_that_cannot_be_converted_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wrong =
        station_copy(dir.path(), "wrong-units.nc", CANESM2, "tasmax", "kg m-2 s-1", Layout::Stations, |_, _| {});
    let out = dir.path().join("out.nc");
    let output = adjust("eqm", "tasmax", &sample(NRCAN), &wrong, &out, &[]);
    assert_one_line_error(&output, &["wrong-units.nc", "tasmax", "cannot be converted"]);
    let unknown =
        station_copy(dir.path(), "unknown-units.nc", CANESM2, "tasmax", "furlongs", Layout::Stations, |_, _| {});
    let output = adjust("eqm", "tasmax", &sample(NRCAN), &unknown, &out, &[]);
    assert_one_line_error(&output, &["unknown-units.nc", "furlongs"]);
    assert!(!out.exists());
}

#[test]
fn years_outside_the_data_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.nc");
    let output = downscale()
        .args(["adjust", "--method", "eqm", "--var", "tasmax", "--ref", &sample(NRCAN), "--hist", &sample(CANESM2)])
        .args(["--sim", &sample(CANESM2), "--train", "1930", "2020", "--predict", "2041", "2070", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_one_line_error(&output, &["nrcan_1950-2013.nc", "--train 1930 2020", "1950-2013"]);
    let output = downscale()
        .args(["adjust", "--method", "eqm", "--var", "tasmax", "--ref", &sample(NRCAN), "--hist", &sample(CANESM2)])
        .args(["--sim", &sample(CANESM2), "--train", "1981", "2010", "--predict", "2090", "2110", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_one_line_error(&output, &["CanESM2_1950-2100.nc", "--predict 2090 2110", "1950-2100"]);
    assert!(!out.exists());
}

#[test]
fn options_a_method_does_not_take_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.nc");
    for (method, option) in [
        ("bcsd-temperature", ["--group", "month"]),
        ("eqm", ["--extrapolate", "both"]),
        ("quantile-mapper", ["--adapt-freq-thresh", "1"]),
    ] {
        let output = adjust(method, "tasmax", &sample(NRCAN), &sample(CANESM2), &out, &option);
        assert_one_line_error(&output, &[method, option[0]]);
    }
}

#[test]
fn the_output_records_the_method_and_its_options() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.zarr");
    let output = adjust("qdm", "pr", &sample(NRCAN), &sample(CANESM2), &out, &["--kind", "multiplicative"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let result = read(&out, "pr");
    assert_eq!(result.units(), Some("mm day-1"));
    let text = |key: &str| result.attrs.get(key).and_then(|v| v.as_text()).unwrap_or_default().to_string();
    assert_eq!(text("bias_correction_method"), "qdm");
    assert!(text("bias_correction_options").contains("kind=multiplicative"), "{}", text("bias_correction_options"));
    assert!(text("bias_correction_options").contains("nquantiles=20"));
    let dates = &result.time.as_ref().unwrap().dates;
    assert_eq!((dates[0].year, dates.last().unwrap().year), (2041, 2070));
    assert_eq!(result.time.as_ref().unwrap().calendar.cf_name(), "noleap");
}
