//! `downscale regrid` end to end: NetCDF and Zarr outputs, cached and supplied weights, and one-line errors for bad
//! grids and bad weight files.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Altered, altered_copy, assert_one_line_error, run, sample};

const CNRM: &str = "iberia/gcm_CNRM-CM5/tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc";
const EOBS: &str = "iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc";
const MIROC: &str = "cmip_misc/tas_day_MIROC6_ssp119_r1i1p1f1_gn_20150101.nc";

#[test]
fn regrid_writes_netcdf_and_zarr_and_reuses_cached_weights() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("weights");
    let nc = dir.path().join("tas_eobs_grid.nc");
    let zarr = dir.path().join("tas_eobs_grid.zarr");
    for out in [&nc, &zarr] {
        let output = run(&[
            "regrid",
            "--in",
            &sample(CNRM),
            "--var",
            "tas",
            "--grid-like",
            &sample(EOBS),
            "--method",
            "conservative",
            "--weights-cache",
            cache.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    // One weight file serves both runs.
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1);
    let from_nc = downscale_data::read_variable(nc.to_str().unwrap(), "tas").unwrap();
    let from_zarr = downscale_data::read_variable(zarr.to_str().unwrap(), "tas").unwrap();
    assert_eq!(from_nc.shape(), [1805, 19, 29]);
    assert_eq!(from_nc.data, from_zarr.data);
    assert_eq!(from_nc.attrs.get("regrid_method").and_then(|v| v.as_text()), Some("conservative"));
    assert!(run(&["validate", zarr.to_str().unwrap()]).status.success());
}

#[test]
fn bad_grids_and_weight_files_give_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.nc");
    let out = out.to_str().unwrap();
    let regrid = |input: &str, grid_like: &str, extra: &[&str]| {
        let mut args = vec!["regrid", "--in", input, "--grid-like", grid_like, "--out", out];
        args.extend_from_slice(extra);
        run(&args)
    };

    // A grid without coordinates: station series have no lat/lon dimensions.
    let stations = sample("stations_sdba/ahccd_1950-2013.nc");
    assert_one_line_error(
        &regrid(&stations, &sample(EOBS), &["--var", "pr", "--method", "nearest"]),
        &[&stations, "no lat coordinate"],
    );

    // Non-monotonic latitudes.
    let spec =
        Altered { file: EOBS, var: "tas", days: 3, units: "degC", calendar: "standard", swap_latitudes: Some((3, 11)) };
    let shuffled = altered_copy(dir.path(), "shuffled.nc", &spec);
    assert_one_line_error(
        &regrid(&shuffled, &sample(EOBS), &["--method", "bilinear"]),
        &[&shuffled, "variable 'lat'", "must be strictly increasing or decreasing"],
    );

    // A regional source cannot cover a global target without extrapolation.
    assert_one_line_error(
        &regrid(&sample(CNRM), &sample(MIROC), &["--method", "bilinear", "--no-extrapolate"]),
        &["outside the source grid", "extrapolation is off"],
    );

    // Weights made for other grids.
    let weights = dir.path().join("miroc-weights.nc");
    let made = Command::new(std::env::var("DOWNSCALE_CDO").unwrap_or_else(|_| "cdo".into()))
        .args(["-s", &format!("gencon,{}", sample(EOBS)), &sample(MIROC)])
        .arg(&weights)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert_one_line_error(
        &regrid(&sample(CNRM), &sample(EOBS), &["--method", "conservative", "--weights", weights.to_str().unwrap()]),
        &["miroc-weights.nc", "mismatched weight file"],
    );

    // An output that is neither NetCDF nor Zarr.
    let output =
        run(&["regrid", "--in", &sample(CNRM), "--grid-like", &sample(EOBS), "--method", "nearest", "--out", "x.tif"]);
    assert_one_line_error(&output, &["x.tif", "must end in .nc"]);
    assert!(!Path::new(out).exists());
}
