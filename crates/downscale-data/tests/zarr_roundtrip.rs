//! Zarr reading and writing: the NetCDF/Zarr twins agree exactly, our stores read back exactly, and `validate`
//! catches a store that lost a chunk.

mod common;

use common::sample;
use downscale_data::chunking::ChunkLayout;
use downscale_data::validate::validate_store;
use downscale_data::{AttrValue, DataArray, Location, WriteOptions, read_variable, write_zarr};

/// Bitwise equality with NaN == NaN: decoding must not change a single value.
fn assert_same_data(a: &DataArray, b: &DataArray) {
    assert_eq!(a.shape(), b.shape());
    let differing = common::count_differing(&a.data, &b.data);
    assert_eq!(differing, 0, "{differing} values differ");
}

fn assert_same_grid_and_time(a: &DataArray, b: &DataArray) {
    assert_eq!(a.dims, b.dims);
    for name in ["lat", "lon"] {
        assert_eq!(a.coord(name).unwrap().values, b.coord(name).unwrap().values, "{name}");
    }
    let (ta, tb) = (a.time.as_ref().unwrap(), b.time.as_ref().unwrap());
    assert_eq!(ta.calendar, tb.calendar);
    assert_eq!(ta.dates, tb.dates);
}

#[test]
fn netcdf_and_zarr_v2_twins_are_identical() {
    let pairs = [
        (
            "iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc",
            "zarr/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.zarr",
        ),
        (
            "iberia/gcm_CNRM-CM5/tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc",
            "zarr/tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.zarr",
        ),
    ];
    for (nc, zarr) in pairs {
        let from_nc = read_variable(&sample(nc), "tas").unwrap();
        let from_zarr = read_variable(&sample(zarr), "tas").unwrap();
        assert_same_data(&from_nc, &from_zarr);
        assert_same_grid_and_time(&from_nc, &from_zarr);
        assert_eq!(from_nc.attrs, from_zarr.attrs, "variable attributes");
        // The Zarr twin encodes time as int64 hours, the NetCDF file as float64 days: decoded dates still agree.
        assert_ne!(from_nc.time.as_ref().unwrap().units, from_zarr.time.as_ref().unwrap().units);
    }
}

#[test]
fn file_urls_read_like_paths() {
    let path = sample("zarr/tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.zarr");
    let canonical = std::fs::canonicalize(&path).unwrap();
    let from_url = read_variable(&format!("file://{}", canonical.display()), "tas").unwrap();
    let from_path = read_variable(&path, "tas").unwrap();
    assert_same_data(&from_url, &from_path);
}

fn write_and_read_back(array: &DataArray, options: &WriteOptions) -> (tempfile::TempDir, String, DataArray) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.zarr").to_string_lossy().to_string();
    write_zarr(array, &Location::parse(&out).unwrap(), options).unwrap();
    let back = read_variable(&out, &array.name).unwrap();
    (dir, out, back)
}

#[test]
fn written_store_reads_back_exactly() {
    let tas =
        read_variable(&sample("iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc"), "tas")
            .unwrap();
    let options = WriteOptions { layout: ChunkLayout::FullSpace, chunk_bytes: 200_000, ..WriteOptions::default() };
    let (dir, out, back) = write_and_read_back(&tas, &options);
    assert_same_data(&tas, &back);
    assert_same_grid_and_time(&tas, &back);
    for key in ["units", "standard_name", "long_name"] {
        assert_eq!(tas.attrs.get(key), back.attrs.get(key), "{key}");
    }
    assert_eq!(back.global_attrs.get("Conventions"), Some(&AttrValue::Text("CF-1.8".into())));
    for key in ["title", "history", "institution", "source", "version", "references"] {
        assert!(back.global_attrs.contains_key(key), "global attribute {key}");
    }
    // Only the final store is left behind: no temporary directory.
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    assert_eq!(names, ["out.zarr"]);

    let report = validate_store(&Location::parse(&out).unwrap()).unwrap();
    assert!(report.is_complete(), "{:?}", report.problems);
    let data = report.arrays.iter().find(|a| a.name == "tas").unwrap();
    // 200 kB chunks of 19x29 float32 maps hold 91 days: ceil(1805 / 91) = 20 chunks, all written.
    assert_eq!((data.chunks_expected, data.chunks_present), (20, 20));
    assert_eq!(data.nan_count, Some(tas.missing().0 as u64));
}

#[test]
fn noon_stamps_noleap_calendar_and_station_labels_round_trip() {
    for (file, var) in [
        ("iberia/gcm_CNRM-CM5/tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc", "tas"),
        ("nunavut_climdown/tiny_gcm.nc", "tasmax"),
        ("cmip_misc/tasmax_day_HadGEM2-CC_rcp85_r1i1p1_na10kgrid_qm-moving-50bins-detrend_2095.nc", "tasmax"),
    ] {
        let array = read_variable(&sample(file), var).unwrap();
        let (_dir, _out, back) = write_and_read_back(&array, &WriteOptions::default());
        assert_same_data(&array, &back);
        assert_same_grid_and_time(&array, &back);
    }
    let stations = read_variable(&sample("stations_sdba/ahccd_1950-2013.nc"), "tasmax").unwrap();
    let (_dir, _out, back) = write_and_read_back(&stations, &WriteOptions::default());
    assert_same_data(&stations, &back);
    assert_eq!(stations.coord("location").unwrap().values, back.coord("location").unwrap().values);
    assert_eq!(stations.coord("lat").unwrap().values, back.coord("lat").unwrap().values);
}

#[test]
fn validate_flags_a_deleted_chunk() {
    let tas = read_variable(
        &sample("iberia/gcm_CNRM-CM5/tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc"),
        "tas",
    )
    .unwrap();
    let options = WriteOptions { layout: ChunkLayout::FullSpace, chunk_bytes: 50_000, ..WriteOptions::default() };
    let (_dir, out, _) = write_and_read_back(&tas, &options);
    let chunk = std::path::Path::new(&out).join("tas/c/3/0/0");
    assert!(chunk.exists(), "chunk layout is c/<t>/<y>/<x>");
    std::fs::remove_file(&chunk).unwrap();
    let report = validate_store(&Location::parse(&out).unwrap()).unwrap();
    assert!(!report.is_complete());
    assert!(report.problems.iter().any(|p| p.contains("tas") && p.contains("c/3/0/0")), "{:?}", report.problems);
}

#[test]
fn all_nan_chunks_are_materialised() {
    let mut tas =
        read_variable(&sample("iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc"), "tas")
            .unwrap();
    tas.data.fill(f32::NAN);
    let options = WriteOptions { layout: ChunkLayout::FullSpace, chunk_bytes: 200_000, ..WriteOptions::default() };
    let (_dir, out, _) = write_and_read_back(&tas, &options);
    let report = validate_store(&Location::parse(&out).unwrap()).unwrap();
    assert!(report.is_complete(), "{:?}", report.problems);
    let data = report.arrays.iter().find(|a| a.name == "tas").unwrap();
    assert_eq!(data.nan_count, Some(data.element_count));
}

#[test]
fn validate_flags_lost_metadata_and_unfinalised_stores() {
    let tas = read_variable(
        &sample("iberia/gcm_CNRM-CM5/tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc"),
        "tas",
    )
    .unwrap();
    let (_dir, out, _) = write_and_read_back(&tas, &WriteOptions::default());
    let location = Location::parse(&out).unwrap();
    assert!(validate_store(&location).unwrap().is_complete());

    // An array whose own zarr.json is lost, although the consolidated copy survives.
    std::fs::remove_file(std::path::Path::new(&out).join("tas/zarr.json")).unwrap();
    let report = validate_store(&location).unwrap();
    assert_eq!(report.problems, ["array 'tas': its metadata file tas/zarr.json is missing"]);

    // No root metadata: what a writer killed on object storage leaves behind.
    std::fs::remove_file(std::path::Path::new(&out).join("zarr.json")).unwrap();
    let report = validate_store(&location).unwrap();
    assert_eq!(report.problems, ["no root zarr.json or .zgroup: the store was never finalised"]);

    let missing = validate_store(&Location::parse(&format!("{out}-absent")).unwrap()).unwrap_err();
    assert!(missing.to_string().ends_with("-absent: file not found"), "{missing}");
}
