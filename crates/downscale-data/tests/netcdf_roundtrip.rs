//! NetCDF output reads back exactly (values, grid, calendar and times, labels, bounds) and is published atomically.

mod common;

use common::sample;
use downscale_data::{DataArray, Location, Provenance, Replace, read_variable, write_netcdf};

fn write_and_read(array: &DataArray) -> DataArray {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.nc");
    write_netcdf(array, &Location::parse(out.to_str().unwrap()).unwrap(), &Provenance::default(), Replace::OwnOutputs)
        .unwrap();
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(names, ["out.nc"], "no temporary file left behind");
    read_variable(out.to_str().unwrap(), &array.name).unwrap()
}

fn assert_same(a: &DataArray, b: &DataArray) {
    assert_eq!(a.dims, b.dims);
    assert_eq!(common::count_differing(&a.data, &b.data), 0);
    assert_eq!(a.time.as_ref().unwrap().calendar, b.time.as_ref().unwrap().calendar);
    assert_eq!(a.time.as_ref().unwrap().dates, b.time.as_ref().unwrap().dates);
    assert_eq!(a.coords.len(), b.coords.len());
    for coord in &a.coords {
        let other = b.coord(&coord.name).unwrap();
        assert_eq!(
            (&coord.dims, &coord.values, &coord.bounds),
            (&other.dims, &other.values, &other.bounds),
            "{}",
            coord.name
        );
    }
}

#[test]
fn netcdf_output_round_trips() {
    for (file, var) in [
        ("iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc", "tas"),
        ("cmip_misc/tasmax_day_HadGEM2-CC_rcp85_r1i1p1_na10kgrid_qm-moving-50bins-detrend_2095.nc", "tasmax"),
        ("cmip_misc/tas_day_MIROC6_ssp119_r1i1p1f1_gn_20150101.nc", "tas"),
        ("stations_sdba/ahccd_1950-2013.nc", "pr"),
        ("iberia/gcm_CNRM-CM5/ta850_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc", "ta"),
    ] {
        let array = read_variable(&sample(file), var).unwrap();
        assert_same(&array, &write_and_read(&array));
    }
}
