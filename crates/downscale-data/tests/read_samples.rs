//! Every sample file decodes, with values checked against what netCDF4-python/xarray give for the same cell and day
//! (values from `xr.open_dataset(f, use_cftime=True)[var].isel(...)`, printed with `float()`).
//!
//! Tolerances: float32 data must match exactly (decoding does not touch the bits); converted units are compared
//! to 1e-6 relative, the rounding of f32 after an f64 multiply.

mod common;

use common::{sample, value_at};
use downscale_data::calendar::{Calendar, CfDateTime};
use downscale_data::units::to_canonical;
use downscale_data::{CoordValues, read_variable};

fn ymd_h(y: i32, m: u32, d: u32, h: u32) -> CfDateTime {
    CfDateTime::ymd(y, m, d).with_time(h, 0, 0, 0)
}

/// `value` is exactly the float32 that xarray printed as the f64 `expected` (float32 decoding is bit-exact).
fn assert_exact(value: f32, expected: f64) {
    assert_eq!(f64::from(value), expected);
}

fn assert_close(actual: f64, expected: f64, relative: f64) {
    assert!(
        (actual - expected).abs() <= relative * expected.abs(),
        "{actual} != {expected} (relative tolerance {relative})"
    );
}

#[test]
fn eobs_tas_cell_value_and_land_mean() {
    let tas =
        read_variable(&sample("iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc"), "tas")
            .unwrap();
    assert_eq!(tas.shape(), [1805, 19, 29]);
    assert_exact(value_at(&tas, CfDateTime::ymd(1983, 12, 11), 40.25, -3.75), 3.4800000190734863);
    // The corpus notes a DJF land-cell mean of about 7.1 degC; numpy over the same file gives 7.0573520282838516.
    assert_close(tas.valid_mean().unwrap(), 7.057_352_028_283_851_6, 1e-9);
    // About 40% of cells are sea (1e20 fill values become NaN).
    let (_, share) = tas.missing();
    assert!((0.35..0.45).contains(&share), "missing share {share}");
}

#[test]
fn eobs_precipitation_amount_becomes_a_daily_rate() {
    let mut pr =
        read_variable(&sample("iberia/obs_E-OBS/pr_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc"), "pr")
            .unwrap();
    assert_eq!(pr.units(), Some("mm"));
    to_canonical(&mut pr).unwrap();
    assert_eq!(pr.units(), Some("mm day-1"));
    assert_exact(value_at(&pr, CfDateTime::ymd(1982, 12, 5), 42.75, -8.25), 7.200000286102295);
}

#[test]
fn cnrm_gaussian_grid_fluxes_and_noon_stamps() {
    let tas = read_variable(
        &sample("iberia/gcm_CNRM-CM5/tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc"),
        "tas",
    )
    .unwrap();
    assert_exact(value_at(&tas, ymd_h(1993, 12, 8, 12), 38.52105712890625, -4.21875), 281.8606262207031);
    let mut pr = read_variable(
        &sample("iberia/gcm_CNRM-CM5/pr_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc"),
        "pr",
    )
    .unwrap();
    let raw = value_at(&pr, ymd_h(1988, 1, 19, 12), 41.322574615478516, -7.03125);
    assert_exact(raw, 1.6416250303574742e-10);
    to_canonical(&mut pr).unwrap();
    let converted = value_at(&pr, ymd_h(1988, 1, 19, 12), 41.322574615478516, -7.03125);
    assert_close(f64::from(converted), 1.6416250303574742e-10 * 86400.0, 1e-6);
}

#[test]
fn scalar_pressure_level_is_a_coordinate() {
    let ta = read_variable(
        &sample("iberia/gcm_CNRM-CM5/ta850_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc"),
        "ta",
    )
    .unwrap();
    assert_exact(value_at(&ta, ymd_h(2002, 2, 28, 12), 34.31877136230469, 4.21875), 280.2774658203125);
    let plev = ta.coord("plev").expect("scalar plev kept");
    assert!(plev.dims.is_empty());
    assert_eq!(plev.values, CoordValues::Numbers(vec![85000.0]));
}

#[test]
fn netcdf3_noleap_with_0_360_longitudes() {
    let tasmax = read_variable(&sample("nunavut_climdown/tiny_gcm.nc"), "tasmax").unwrap();
    let time = tasmax.time.as_ref().unwrap();
    assert_eq!(time.calendar, Calendar::NoLeap);
    assert_eq!(time.dates.len(), 3651);
    // 270 degrees east is -90 after moving longitudes to [-180, 180).
    assert_exact(value_at(&tasmax, ymd_h(1970, 6, 25, 12), 68.36775970458984, -90.0), 287.2721252441406);
    let lons = tasmax.coord("lon").unwrap().values.numbers().unwrap().to_vec();
    assert!(lons.windows(2).all(|w| w[0] < w[1]) && lons.iter().all(|&x| (-180.0..180.0).contains(&x)), "{lons:?}");
}

#[test]
fn integer_fill_value_anusplin() {
    let tasmax = read_variable(&sample("nunavut_climdown/tiny_obs.nc"), "tasmax").unwrap();
    assert_exact(value_at(&tasmax, CfDateTime::ymd(1970, 7, 15), 69.208332205, -92.458335275), 9.319999694824219);
    let (_, share) = tasmax.missing();
    assert_close(share, 0.09911242603550297, 1e-12);
}

#[test]
fn nrcan_flipped_latitude_int16_time_and_domain_mean() {
    let mut pr = read_variable(&sample("quebec_nrcan/nrcan_canada_daily_pr_1990.nc"), "pr").unwrap();
    assert_eq!(pr.dims, ["time", "lat", "lon"]);
    let lats = pr.coord("lat").unwrap().values.numbers().unwrap().to_vec();
    assert!(lats.windows(2).all(|w| w[0] < w[1]), "latitudes ascend after decoding");
    assert_exact(value_at(&pr, CfDateTime::ymd(1990, 6, 30), 48.29166793823242, -76.625), 3.067129728151485e-05);
    to_canonical(&mut pr).unwrap();
    // About 2.9 mm/day over the domain; numpy gives 2.896502413895128 for mean(pr) * 86400.
    assert_close(pr.valid_mean().unwrap(), 2.896502413895128, 1e-6);
    assert_close(pr.missing().1, 0.2876984126984127, 1e-12);
}

#[test]
fn hadgem_360_day_year() {
    let tasmax = read_variable(
        &sample("cmip_misc/tasmax_day_HadGEM2-CC_rcp85_r1i1p1_na10kgrid_qm-moving-50bins-detrend_2095.nc"),
        "tasmax",
    )
    .unwrap();
    let time = tasmax.time.as_ref().unwrap();
    assert_eq!(time.calendar, Calendar::Day360);
    assert_eq!(time.dates.len(), 360);
    assert_eq!(time.dates[59], CfDateTime::ymd(2095, 2, 30));
    assert_exact(
        value_at(&tasmax, CfDateTime::ymd(2095, 2, 30), 44.124210357666016, -73.29583740234375),
        281.46734619140625,
    );
}

#[test]
fn miroc6_global_grid_with_scalar_height() {
    let tas = read_variable(&sample("cmip_misc/tas_day_MIROC6_ssp119_r1i1p1f1_gn_20150101.nc"), "tas").unwrap();
    assert_eq!(tas.shape(), [1, 128, 256]);
    assert_exact(value_at(&tas, ymd_h(2015, 1, 1, 12), 51.12786664235329, 281.25 - 360.0), 262.29571533203125);
    assert!(tas.coord("height").is_some_and(|h| h.dims.is_empty()));
    let lons = tas.coord("lon").unwrap().values.numbers().unwrap().to_vec();
    assert_eq!((lons[0], lons[255]), (-180.0, 178.59375));
}

#[test]
fn canesm5_dangling_time_bounds_is_ignored() {
    let prsn = read_variable(&sample("cmip_misc/prsn_day_CanESM5_historical_r1i1p1f1_gn_19910101-20101231.nc"), "prsn")
        .unwrap();
    assert_eq!(prsn.time.as_ref().unwrap().dates.len(), 7300);
    assert_exact(value_at(&prsn, ymd_h(1991, 1, 31, 12), 46.044726631101724, 289.6875 - 360.0), 3.4482050978112966e-05);
}

fn station_value(file: &str, var: &str, date: CfDateTime, location: &str) -> (downscale_data::DataArray, f32) {
    let array = read_variable(&sample(file), var).unwrap();
    assert_eq!(array.dims, ["time", "location"], "time comes first whatever the file's order");
    let labels = match &array.coord("location").unwrap().values {
        CoordValues::Labels(labels) => labels.clone(),
        other => panic!("location labels expected, got {other:?}"),
    };
    let x = labels.iter().position(|l| l == location).unwrap();
    let t = common::time_index(&array, date);
    let value = array.data[[t, x]];
    (array, value)
}

#[test]
fn station_series_in_both_dimension_orders() {
    let (_, v) =
        station_value("stations_sdba/CanESM2_1950-2100.nc", "tasmax", CfDateTime::ymd(2059, 8, 4), "Kugluktuk");
    assert_exact(v, 287.179931640625);
    let (ahccd, v) = station_value("stations_sdba/ahccd_1950-2013.nc", "pr", CfDateTime::ymd(1983, 10, 28), "Amos");
    assert_exact(v, 3.509999990463257);
    assert!(ahccd.coord("lat").is_some_and(|c| c.dims == ["location"]), "auxiliary lat(location) kept");
    let (_, v) = station_value("stations_sdba/nrcan_1950-2013.nc", "pr", CfDateTime::ymd(2004, 10, 18), "Vancouver");
    assert_exact(v, 4.351851748651825e-05);
}

#[test]
fn era5_hourly_int32_hours_since_1900() {
    let t2m =
        read_variable(&sample("era5_british_isles/t2m_1hr_ERA5_british-isles_0.25deg_2019030100-2019033123.nc"), "t2m")
            .unwrap();
    assert_eq!(t2m.time.as_ref().unwrap().dates.len(), 744);
    assert_exact(value_at(&t2m, ymd_h(2019, 3, 13, 12), 56.75, -7.75), 280.9234619140625);
}

#[test]
fn celsius_becomes_kelvin_and_daily_rates_stay() {
    let mut tas =
        read_variable(&sample("iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc"), "tas")
            .unwrap();
    to_canonical(&mut tas).unwrap();
    assert_eq!(tas.units(), Some("K"));
    // 3.48 degC (xarray: 3.4800000190734863) + 273.15, rounded once to f32.
    assert_eq!(value_at(&tas, CfDateTime::ymd(1983, 12, 11), 40.25, -3.75), (3.4800000190734863_f64 + 273.15) as f32);

    let (mut pr, before) =
        station_value("stations_sdba/ahccd_1950-2013.nc", "pr", CfDateTime::ymd(1983, 10, 28), "Amos");
    to_canonical(&mut pr).unwrap();
    assert_eq!(pr.units(), Some("mm day-1"));
    let t = common::time_index(&pr, CfDateTime::ymd(1983, 10, 28));
    assert_eq!(pr.data[[t, 2]], before);
}

#[test]
fn an_amount_per_hour_is_not_a_daily_rate() {
    let mut t2m =
        read_variable(&sample("era5_british_isles/t2m_1hr_ERA5_british-isles_0.25deg_2019030100-2019033123.nc"), "t2m")
            .unwrap();
    t2m.attrs.insert("units".into(), downscale_data::AttrValue::Text("mm".into()));
    let error = to_canonical(&mut t2m).unwrap_err().to_string();
    assert!(error.contains("t2m_1hr_ERA5") && error.contains("only daily series"), "{error}");
}
