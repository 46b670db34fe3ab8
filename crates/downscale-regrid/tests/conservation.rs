//! Conservative regridding preserves area integrals (fields without missing values, targets fully covered).
//! Tolerance 1e-6 relative: the weights are exact overlap areas, so only f32 storage of the regridded values
//! (about 6e-8 relative each) and summation order remain.

mod common;

use common::sample;
use downscale_data::read_variable;
use downscale_regrid::{Grid, conservative_weights, regrid_array};

/// Area-weighted integral of a `(time, lat, lon)` field's first step over `grid`, in f64.
fn integral(values: &[f32], grid: &Grid) -> f64 {
    grid.cell_areas().iter().zip(values).map(|(a, &x)| a * f64::from(x)).sum()
}

#[test]
fn global_integrals_are_preserved() {
    let tas = read_variable(&sample("cmip_misc/tas_day_MIROC6_ssp119_r1i1p1f1_gn_20150101.nc"), "tas").unwrap();
    assert_eq!(tas.missing().0, 0, "the MIROC6 field has no missing values");
    let source = Grid::from_array(&tas).unwrap();
    assert!(source.periodic);
    let source_integral = integral(tas.data.as_slice().unwrap(), &source);
    // Areas of the source cells cover the sphere (4 pi) to rounding.
    assert!((source.cell_areas().iter().sum::<f64>() - 4.0 * std::f64::consts::PI).abs() < 1e-9);
    for step in [2.0, 1.0, 0.25] {
        let target = Grid::global(step).unwrap();
        let regridded = regrid_array(&tas, &target, &conservative_weights(&source, &target).unwrap()).unwrap();
        let target_integral = integral(regridded.data.as_slice().unwrap(), &target);
        let relative = (target_integral - source_integral).abs() / source_integral.abs();
        eprintln!("MIROC6 -> global {step} degrees: relative integral change {relative:.2e}");
        assert!(relative <= 1e-6, "{step} degrees: {relative:e}");
    }
}

#[test]
fn regional_integral_is_preserved_when_coarsening_onto_a_nested_grid() {
    // The E-OBS 0.5 degree box (with sea cells filled by zero to have no missing values) onto its own 1.5 degree
    // blocks: every target is fully covered, every source fully used.
    let mut tas =
        read_variable(&sample("iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc"), "tas")
            .unwrap();
    tas.data.mapv_inplace(|x| if x.is_nan() { 0.0 } else { x });
    let source = Grid::from_array(&tas).unwrap();
    let lat: Vec<f64> = (0..6).map(|i| 35.75 + 1.5 * i as f64).collect();
    let lon: Vec<f64> = (0..9).map(|i| -9.25 + 1.5 * i as f64).collect();
    let target = Grid::from_centres("1.5 degree blocks", lat, lon).unwrap();
    assert_eq!(target.lat_edges[0], source.lat_edges[0]);
    assert_eq!(target.lon_edges[9], source.lon_edges[27]);
    let first_day = tas.select_time(&[0]);
    let regridded = regrid_array(&first_day, &target, &conservative_weights(&source, &target).unwrap()).unwrap();
    // Only the part of the source under the target blocks (the first 18 x 27 cells) is compared.
    let covered: Vec<f32> =
        first_day.data.indexed_iter().filter(|(index, _)| index[1] < 18 && index[2] < 27).map(|(_, &x)| x).collect();
    let covered_grid = Grid::from_centres("covered", source.lat[..18].to_vec(), source.lon[..27].to_vec()).unwrap();
    let expected = integral(&covered, &covered_grid);
    let actual = integral(regridded.data.as_slice().unwrap(), &target);
    let relative = (actual - expected).abs() / expected.abs();
    eprintln!("E-OBS 0.5 -> 1.5 degree blocks: relative integral change {relative:.2e}");
    assert!(relative <= 1e-6, "{relative:e}");
}
