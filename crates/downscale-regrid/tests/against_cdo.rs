//! Our weights against `cdo` 2.1 (Debian's package, installed by CI) on real grids: each case regrids the first
//! days of a real field with both tools and compares cell by cell.
//!
//! Tolerances: 1e-5 relative for conservative and bilinear (the bar; differences come from f32 storage of
//! cdo's output and from summation order), exact equality for nearest (both pick the same source cell).

mod common;

use std::path::Path;

use common::{cdo, sample};

use downscale_data::{DataArray, read_variable};
use downscale_regrid::{Grid, Weights, bilinear_weights, conservative_weights, nearest_weights, regrid_array};
use ndarray::Axis;

const DAYS: usize = 5;

/// Runs `cdo -s -seltimestep,1/DAYS -<operator>,<target> -selname,<var> <source> <out>` and reads the result.
fn cdo_regrid(operator: &str, source: &str, var: &str, target: &str, dir: &Path) -> DataArray {
    let out = dir.join(format!("{operator}-{}.nc", Path::new(source).file_stem().unwrap().to_string_lossy()));
    cdo(&[
        "-s",
        "-O",
        &format!("-seltimestep,1/{DAYS}"),
        &format!("-{operator},{target}"),
        &format!("-selname,{var}"),
        source,
        out.to_str().unwrap(),
    ]);
    read_variable(out.to_str().unwrap(), var).unwrap()
}

/// Our regridding of the first DAYS steps of `source`.
fn ours(source: &DataArray, target: &Grid, weights: &Weights) -> DataArray {
    let mut first = source.clone();
    let steps = DAYS.min(source.shape()[0]);
    first.data = source.data.slice_axis(Axis(0), (0..steps).into()).to_owned();
    regrid_array(&first, target, weights).unwrap()
}

fn target_grid(file: &str, var: &str) -> Grid {
    Grid::from_array(&read_variable(&sample(file), var).unwrap()).unwrap()
}

/// Compares on the cells where `select(lat, lon)` holds and both tools give a value; returns (compared, max
/// relative difference, cells where only we give a value, cells where only cdo gives a value).
fn compare(
    ours: &DataArray,
    theirs: &DataArray,
    target: &Grid,
    select: impl Fn(f64, f64) -> bool,
) -> (usize, f64, usize, usize) {
    let (a, b) = (ours.data.view(), theirs.data.view());
    assert_eq!(a.shape(), b.shape());
    let mut compared = 0;
    let mut worst = 0.0f64;
    let (mut ours_only, mut theirs_only) = (0, 0);
    for t in 0..a.shape()[0] {
        for (i, &lat) in target.lat.iter().enumerate() {
            for (j, &lon) in target.lon.iter().enumerate() {
                let (x, y) = (a[[t, i, j]], b[[t, i, j]]);
                if !select(lat, lon) {
                    continue;
                }
                ours_only += usize::from(!x.is_nan() && y.is_nan());
                theirs_only += usize::from(x.is_nan() && !y.is_nan());
                if x.is_nan() || y.is_nan() {
                    continue;
                }
                compared += 1;
                let relative = f64::from((x - y).abs()) / f64::from(y.abs()).max(1e-30);
                worst = worst.max(relative);
            }
        }
    }
    (compared, worst, ours_only, theirs_only)
}

/// Values agree within `tolerance` and both tools give values on the same cells.
fn assert_close(label: &str, result: (usize, f64, usize, usize), tolerance: f64) {
    assert_close_allowing(label, result, tolerance, 0);
}

/// As `assert_close`, with exactly `ours_only_expected` cells where we give a value and cdo does not.
fn assert_close_allowing(label: &str, result: (usize, f64, usize, usize), tolerance: f64, ours_only_expected: usize) {
    let (compared, worst, ours_only, theirs_only) = result;
    eprintln!(
        "{label}: {compared} values compared, max relative difference {worst:.3e}; valid only in ours: {ours_only}, only in cdo's: {theirs_only}"
    );
    assert_eq!((ours_only, theirs_only), (ours_only_expected, 0), "{label}: cells valid in one tool only");
    assert!(compared > 0, "{label}: nothing compared");
    assert!(worst <= tolerance, "{label}: max relative difference {worst:e} > {tolerance:e}");
}

struct Case {
    source: &'static str,
    var: &'static str,
    target: &'static str,
    target_var: &'static str,
}

const CNRM_TO_EOBS: Case = Case {
    source: "iberia/gcm_CNRM-CM5/tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc",
    var: "tas",
    target: "iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc",
    target_var: "tas",
};
const EOBS_TO_CNRM: Case =
    Case { source: CNRM_TO_EOBS.target, var: "tas", target: CNRM_TO_EOBS.source, target_var: "tas" };
const MIROC_TO_EOBS: Case = Case {
    source: "cmip_misc/tas_day_MIROC6_ssp119_r1i1p1f1_gn_20150101.nc",
    var: "tas",
    target: CNRM_TO_EOBS.target,
    target_var: "tas",
};
const NRCAN_TO_CANESM5: Case = Case {
    source: "quebec_nrcan/nrcan_canada_daily_pr_1990.nc",
    var: "pr",
    target: "cmip_misc/prsn_day_CanESM5_historical_r1i1p1f1_gn_19910101-20101231.nc",
    target_var: "prsn",
};

fn run_case(case: &Case, operator: &str, weights: impl Fn(&Grid, &Grid) -> Weights) -> (DataArray, DataArray, Grid) {
    let dir = tempfile::tempdir().unwrap();
    let source = read_variable(&sample(case.source), case.var).unwrap();
    let target = target_grid(case.target, case.target_var);
    let w = weights(&Grid::from_array(&source).unwrap(), &target);
    let mine = ours(&source, &target, &w);
    let theirs = cdo_regrid(operator, &sample(case.source), case.var, &sample(case.target), dir.path());
    (mine, theirs, target)
}

#[test]
fn conservative_matches_cdo_remapcon() {
    for (label, case) in [
        ("CNRM-CM5 -> E-OBS", CNRM_TO_EOBS),
        ("E-OBS -> CNRM-CM5", EOBS_TO_CNRM),
        ("MIROC6 -> E-OBS", MIROC_TO_EOBS),
        ("NRCan -> CanESM5", NRCAN_TO_CANESM5),
    ] {
        let (mine, theirs, target) = run_case(&case, "remapcon", |s, t| conservative_weights(s, t).unwrap());
        assert_close(&format!("remapcon {label}"), compare(&mine, &theirs, &target, |_, _| true), 1e-5);
    }
}

#[test]
fn nearest_matches_cdo_remapnn_exactly() {
    for (label, case) in [
        ("CNRM-CM5 -> E-OBS", CNRM_TO_EOBS),
        ("E-OBS -> CNRM-CM5", EOBS_TO_CNRM),
        ("MIROC6 -> E-OBS", MIROC_TO_EOBS),
        ("NRCan -> CanESM5", NRCAN_TO_CANESM5),
    ] {
        let (mine, theirs, target) = run_case(&case, "remapnn", |s, t| nearest_weights(s, t).unwrap());
        assert_close(&format!("remapnn {label}"), compare(&mine, &theirs, &target, |_, _| true), 0.0);
    }
}

/// Inside the hull of source centres bilinear matches `cdo remapbil`; outside it our values are the nearest source
/// cell's, i.e. exactly `cdo remapnn`'s.
#[test]
fn bilinear_matches_cdo_remapbil_inside_and_nearest_outside() {
    // A documented convention difference: where some, not all, of the four source neighbours are missing (coasts of
    // a land-only source), we average the valid ones and cdo leaves the cell missing. E-OBS -> CNRM-CM5 has 16 such
    // coastal cells on each of the 5 days.
    for (label, case, coastal_cells) in [
        ("CNRM-CM5 -> E-OBS", CNRM_TO_EOBS, 0),
        ("E-OBS -> CNRM-CM5", EOBS_TO_CNRM, 16 * DAYS),
        ("MIROC6 -> E-OBS", MIROC_TO_EOBS, 0),
        ("NRCan -> CanESM5", NRCAN_TO_CANESM5, 0),
    ] {
        let source_grid = Grid::from_array(&read_variable(&sample(case.source), case.var).unwrap()).unwrap();
        let inside = |lat: f64, lon: f64| {
            let (lats, lons) = (&source_grid.lat, &source_grid.lon);
            let lon = lons[0] + (lon - lons[0]).rem_euclid(360.0);
            let in_lat = lat >= lats[0] && lat <= lats[lats.len() - 1];
            in_lat && (source_grid.periodic || lon <= lons[lons.len() - 1])
        };
        let (mine, theirs, target) = run_case(&case, "remapbil", |s, t| bilinear_weights(s, t, true).unwrap());
        let result = compare(&mine, &theirs, &target, inside);
        assert_close_allowing(&format!("remapbil {label} inside"), result, 1e-5, coastal_cells);
        let dir = tempfile::tempdir().unwrap();
        let nearest = cdo_regrid("remapnn", &sample(case.source), case.var, &sample(case.target), dir.path());
        let outside = compare(&mine, &nearest, &target, |lat, lon| !inside(lat, lon));
        if outside.0 > 0 {
            assert_close(&format!("remapbil {label} outside = remapnn"), outside, 0.0);
        }
    }
}
