//! Stores written by `downscale` open in a real xarray/zarr-python install with `xr.open_zarr(path)` and no
//! arguments, with the same values (bitwise), dims, coordinates, decoded times, calendar and attributes.
//!
//! Needs Python with xarray and zarr: `DOWNSCALE_PYTHON` names the interpreter (`.ci/run` creates a venv and sets
//! it); without it `python3` is tried, and the test fails, not skips, when xarray is missing.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::sample;
use downscale_data::calendar::CfDateTime;
use downscale_data::{
    AttrValue, Compression, CoordValues, DataArray, Location, WriteOptions, read_variable, write_zarr,
};
use serde_json::Value;

fn python() -> String {
    std::env::var("DOWNSCALE_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/xarray_read.py")
}

fn date_text(d: &CfDateTime) -> String {
    format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", d.year, d.month, d.day, d.hour, d.minute, d.second)
}

fn check_with_xarray(array: &DataArray, options: &WriteOptions) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join(format!("{}.zarr", array.name));
    write_zarr(array, &Location::parse(store.to_str().unwrap()).unwrap(), options).unwrap();
    let raw = dir.path().join("values.f32");
    let output = Command::new(python())
        .arg(script())
        .args([store.to_str().unwrap(), &array.name, raw.to_str().unwrap()])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e} (set DOWNSCALE_PYTHON to a Python with xarray)", python()));
    assert!(output.status.success(), "xarray failed on {}: {}", array.source, String::from_utf8_lossy(&output.stderr));
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap();

    assert_eq!(seen["dims"], serde_json::json!(array.dims), "{}", array.source);
    assert_eq!(seen["shape"], serde_json::json!(array.shape()));
    let bytes = std::fs::read(&raw).unwrap();
    let values: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    let ours: Vec<f32> = array.data.iter().copied().collect();
    assert_eq!(values.len(), ours.len());
    assert_eq!(common::count_differing(&values, &ours), 0, "values differ in {}", array.source);

    let time = array.time.as_ref().unwrap();
    let expected_times: Vec<String> = time.dates.iter().map(date_text).collect();
    assert_eq!(seen["times"], serde_json::json!(expected_times));
    assert_eq!(seen["calendar"], serde_json::json!(time.calendar.cf_name()));

    for coord in &array.coords {
        let theirs = &seen["coords"][&coord.name];
        assert_eq!(theirs["dims"], serde_json::json!(coord.dims), "coordinate {}", coord.name);
        match &coord.values {
            CoordValues::Numbers(v) => assert_eq!(theirs["values"], serde_json::json!(v), "coordinate {}", coord.name),
            CoordValues::Labels(v) => assert_eq!(theirs["values"], serde_json::json!(v), "coordinate {}", coord.name),
        }
    }
    for (key, value) in &array.attrs {
        if let AttrValue::Text(text) = value {
            assert_eq!(seen["attrs"][key], serde_json::json!(text), "attribute {key}");
        }
    }
    assert_eq!(seen["global_attrs"]["Conventions"], "CF-1.8");
    for key in ["title", "history", "institution", "source", "version", "references"] {
        assert!(seen["global_attrs"].get(key).is_some(), "global attribute {key}");
    }
}

#[test]
fn xarray_opens_our_stores() {
    for (file, var) in [
        ("iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc", "tas"),
        ("iberia/gcm_CNRM-CM5/ta850_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc", "ta"),
        ("nunavut_climdown/tiny_gcm.nc", "tasmax"),
        ("cmip_misc/tasmax_day_HadGEM2-CC_rcp85_r1i1p1_na10kgrid_qm-moving-50bins-detrend_2095.nc", "tasmax"),
        ("stations_sdba/ahccd_1950-2013.nc", "pr"),
        ("era5_british_isles/t2m_1hr_ERA5_british-isles_0.25deg_2019030100-2019033123.nc", "t2m"),
    ] {
        check_with_xarray(&read_variable(&sample(file), var).unwrap(), &WriteOptions::default());
    }
    // A flow's intermediates are Blosc/LZ4 (the published stores Blosc/zstd, the default).
    let lz4 = WriteOptions { compression: Compression::Lz4 { level: 5 }, ..WriteOptions::default() };
    let tas = "iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc";
    check_with_xarray(&read_variable(&sample(tas), "tas").unwrap(), &lz4);
}

/// Zarr v3 stores written by xarray (base64 `_FillValue` attributes, numpy fixed-width strings, fill values
/// re-encoded from integers) decode exactly like the NetCDF files they came from.
#[test]
fn zarr_v3_stores_written_by_xarray_read_like_their_sources() {
    let writer = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/xarray_write_v3.py");
    for (file, var) in [
        ("iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc", "tas"),
        ("nunavut_climdown/tiny_obs.nc", "tasmax"),
        ("stations_sdba/ahccd_1950-2013.nc", "pr"),
        ("quebec_nrcan/nrcan_canada_daily_pr_1990.nc", "pr"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("v3.zarr");
        let output = Command::new(python()).arg(&writer).arg(sample(file)).arg(&store).output().unwrap();
        assert!(output.status.success(), "xarray could not write {file}: {}", String::from_utf8_lossy(&output.stderr));
        let original = read_variable(&sample(file), var).unwrap();
        let from_v3 = read_variable(store.to_str().unwrap(), var).unwrap();
        assert_eq!(original.dims, from_v3.dims, "{file}");
        assert_eq!(common::count_differing(&original.data, &from_v3.data), 0, "{file}: values differ");
        assert_eq!(original.time.as_ref().unwrap().dates, from_v3.time.as_ref().unwrap().dates, "{file}");
        assert_eq!(original.coords, from_v3.coords, "{file}: coordinates");
    }
}
