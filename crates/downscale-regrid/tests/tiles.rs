//! Regridding a target tile from its source window gives exactly the values of regridding the whole field: the
//! flows stream the fine grid tile by tile and must not change a bit of the result.

mod common;

use common::sample;
use downscale_data::read_variable;
use downscale_regrid::{Grid, bilinear_weights, conservative_weights};
use ndarray::{Ix3, s};

#[test]
fn tiles_regridded_from_their_windows_equal_the_whole_field() {
    let model = read_variable(
        &sample("iberia/gcm_CNRM-CM5/tas_day_CNRM-CM5_rcp85_r1i1p1_iberia_DJF_20801201-21000228.nc"),
        "tas",
    )
    .unwrap();
    let obs =
        read_variable(&sample("iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc"), "tas")
            .unwrap();
    let (source, target) = (Grid::from_array(&model).unwrap(), Grid::from_array(&obs).unwrap());
    let days = model.data.view().into_dimensionality::<Ix3>().unwrap();
    let days = days.slice(s![..40, .., ..]);
    for weights in [bilinear_weights(&source, &target, true).unwrap(), conservative_weights(&source, &target).unwrap()]
    {
        let whole = weights.apply(days).unwrap();
        let (ny, nx) = target.shape();
        for (lat, lon) in [(0..7, 0..ny.min(nx)), (5..ny, 3..nx - 2), (ny - 1..ny, 0..1), (0..ny, 0..nx)] {
            let (tile, [lat_window, lon_window]) = weights.tile(lat.clone(), lon.clone());
            assert!(lat_window.len() < source.shape().0 || lat.len() == ny, "{lat:?}: a window, not the whole grid");
            let part = tile.apply(days.slice(s![.., lat_window, lon_window])).unwrap();
            let expected = whole.slice(s![.., lat.clone(), lon.clone()]);
            assert_eq!(part.shape(), expected.shape());
            let same = part.iter().zip(expected.iter()).all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(
                same,
                "{} weights, tile {lat:?} x {lon:?}: values differ from the whole field",
                weights.method.name()
            );
        }
    }
}
