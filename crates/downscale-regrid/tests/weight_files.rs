//! Weight files: ours round-trip, cdo's (SCRIP) are read with its cell numbering mapped onto our normalised grids,
//! and a file for other grids is refused.

mod common;

use std::path::Path;

use common::{cdo, sample};

use downscale_data::read_variable;
use downscale_regrid::weight_file::{read_weight_file, write_esmf};
use downscale_regrid::{Grid, RegridMethod, Weights, conservative_weights, regrid_array};

const CNRM: &str = "iberia/gcm_CNRM-CM5/tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc";
const EOBS: &str = "iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc";
const NRCAN: &str = "quebec_nrcan/nrcan_canada_daily_pr_1990.nc";
const CANESM5: &str = "cmip_misc/prsn_day_CanESM5_historical_r1i1p1f1_gn_19910101-20101231.nc";

fn grid(file: &str, var: &str) -> Grid {
    Grid::from_array(&read_variable(&sample(file), var).unwrap()).unwrap()
}

/// `cdo gencon,<target> -selname,<var> <source> <out>`: cdo's conservative weights as a SCRIP file.
fn cdo_gencon(source: &str, var: &str, target: &str, out: &Path) {
    let target = format!("gencon,{}", sample(target));
    cdo(&["-s", "-O", &target, &format!("-selname,{var}"), &sample(source), out.to_str().unwrap()]);
}

/// Each row divided by its sum: cdo normalises by the covered fraction of a target cell, we by its whole area;
/// applied weights are renormalised, so only the row shapes matter.
fn normalised_rows(weights: &Weights) -> Vec<Vec<(usize, f64)>> {
    weights
        .matrix
        .outer_iterator()
        .map(|row| {
            let sum: f64 = row.data().iter().sum();
            row.iter().map(|(col, &w)| (col, w / sum)).collect()
        })
        .collect()
}

#[test]
fn cdo_conservative_weights_equal_ours() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cnrm-to-eobs.nc");
    cdo_gencon(CNRM, "tas", EOBS, &file);
    let (source, target) = (grid(CNRM, "tas"), grid(EOBS, "tas"));
    let theirs = read_weight_file(&file, &source, &target, RegridMethod::Conservative).unwrap();
    let ours = conservative_weights(&source, &target).unwrap();
    assert_eq!(ours.nnz(), theirs.nnz());
    let mut worst = 0.0f64;
    for (a, b) in normalised_rows(&ours).iter().zip(&normalised_rows(&theirs)) {
        assert_eq!(a.iter().map(|e| e.0).collect::<Vec<_>>(), b.iter().map(|e| e.0).collect::<Vec<_>>());
        for ((_, x), (_, y)) in a.iter().zip(b) {
            worst = worst.max((x - y).abs());
        }
    }
    eprintln!("largest difference between normalised weights: {worst:.2e}");
    // Overlap areas computed on the sphere by both; 1e-9 absolute on weights in [0, 1].
    assert!(worst < 1e-9, "{worst:e}");
}

#[test]
fn cdo_weights_for_a_north_to_south_source_apply_like_cdo() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nrcan-to-canesm5.nc");
    cdo_gencon(NRCAN, "pr", CANESM5, &file);
    let pr = read_variable(&sample(NRCAN), "pr").unwrap().select_time(&[0, 1, 2]);
    let (source, target) = (Grid::from_array(&pr).unwrap(), grid(CANESM5, "prsn"));
    let theirs = read_weight_file(&file, &source, &target, RegridMethod::Conservative).unwrap();
    let with_their_weights = regrid_array(&pr, &target, &theirs).unwrap();
    let with_ours = regrid_array(&pr, &target, &conservative_weights(&source, &target).unwrap()).unwrap();
    let mut compared = 0;
    for (a, b) in with_their_weights.data.iter().zip(with_ours.data.iter()) {
        assert_eq!(a.is_nan(), b.is_nan());
        if !a.is_nan() {
            compared += 1;
            assert!((a - b).abs() <= 1e-5 * b.abs(), "{a} vs {b}");
        }
    }
    assert!(compared > 0);
}

#[test]
fn our_files_round_trip_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ours.nc");
    let (source, target) = (grid(NRCAN, "pr"), grid(CANESM5, "prsn"));
    let weights = conservative_weights(&source, &target).unwrap();
    write_esmf(&weights, &source, &target, &file).unwrap();
    let back = read_weight_file(&file, &source, &target, RegridMethod::Conservative).unwrap();
    assert_eq!(weights.matrix, back.matrix);
}

#[test]
fn a_file_for_other_grids_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cnrm-to-eobs.nc");
    cdo_gencon(CNRM, "tas", EOBS, &file);
    let error =
        read_weight_file(&file, &grid(NRCAN, "pr"), &grid(CANESM5, "prsn"), RegridMethod::Conservative).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("cnrm-to-eobs.nc") && message.contains("mismatched weight file"), "{message}");
    let missing =
        read_weight_file(&dir.path().join("absent.nc"), &grid(CNRM, "tas"), &grid(EOBS, "tas"), RegridMethod::Nearest)
            .unwrap_err()
            .to_string();
    assert!(missing.contains("absent.nc"), "{missing}");
}

#[test]
fn the_cache_keys_on_geometry_and_options() {
    use downscale_regrid::{CacheOutcome, WeightCache, WeightOptions};
    let dir = tempfile::tempdir().unwrap();
    let cache = WeightCache::new(dir.path().join("weights"));
    let (source, target) = (grid(CNRM, "tas"), grid(EOBS, "tas"));
    let bilinear = WeightOptions { method: RegridMethod::Bilinear, extrapolate: true };
    let (first, outcome) = cache.weights(&source, &target, bilinear).unwrap();
    assert_eq!(outcome, CacheOutcome::Computed);
    let (again, outcome) = cache.weights(&source, &target, bilinear).unwrap();
    assert_eq!(outcome, CacheOutcome::Hit);
    assert_eq!(first.matrix, again.matrix);

    // The same geometry under another name hits; another method, option or grid does not.
    let mut renamed = source.clone();
    renamed.name = "a copy elsewhere".into();
    assert_eq!(WeightCache::key(&renamed, &target, bilinear), WeightCache::key(&source, &target, bilinear));
    let keys = [
        WeightCache::key(&source, &target, bilinear),
        WeightCache::key(&source, &target, WeightOptions { method: RegridMethod::Bilinear, extrapolate: false }),
        WeightCache::key(&source, &target, WeightOptions { method: RegridMethod::Conservative, extrapolate: true }),
        WeightCache::key(&target, &source, bilinear),
    ];
    let distinct: std::collections::HashSet<_> = keys.iter().collect();
    assert_eq!(distinct.len(), keys.len());
    // Nothing but finished files in the cache directory.
    let names: Vec<String> = std::fs::read_dir(dir.path().join("weights"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, [format!("bilinear-{}.nc", keys[0])]);
}
