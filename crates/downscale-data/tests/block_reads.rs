//! Blocks read with `VariableReader` are, bit for bit, slices of what `read_variable` returns: values, coordinates
//! and their bounds, and the time axis, whatever decoding did to the stored order (time moved first, latitude
//! flipped, 0–360 longitudes wrapped and sorted) and however the values are stored (fill values, int16 packing,
//! Zarr chunks).

mod common;

use std::ops::Range;

use common::sample;
use downscale_data::chunking::ChunkLayout;
use downscale_data::{CoordValues, DataArray, Location, VariableReader, WriteOptions, read_variable, write_zarr};
use ndarray::Slice;

/// `block` is the slice `ranges` of `full`, checked field by field with slicing written out here, independently of
/// the library's own cutting.
fn assert_is_slice(full: &DataArray, block: &DataArray, ranges: &[Range<usize>]) {
    let what = format!("{} {ranges:?}", full.source);
    let expected = full.data.slice_each_axis(|axis| Slice::from(ranges[axis.axis.index()].clone()));
    assert_eq!(block.shape(), expected.shape(), "{what}: shape");
    assert_eq!(common::count_differing(&block.data, &expected), 0, "{what}: values differ");
    assert!(block.data.is_standard_layout(), "{what}: C order");
    assert_eq!(
        (&block.name, &block.source, &block.dims, &block.attrs, &block.global_attrs),
        (&full.name, &full.source, &full.dims, &full.attrs, &full.global_attrs),
        "{what}: names and attributes"
    );
    if let Some(time) = &full.time {
        let cut = block.time.as_ref().expect("block keeps the time axis");
        assert_eq!((cut.calendar, &cut.units), (time.calendar, &time.units), "{what}: time encoding");
        assert_eq!(cut.dates, time.dates[ranges[0].clone()], "{what}: dates");
    }
    assert_eq!(block.coords.len(), full.coords.len(), "{what}: coordinates");
    for (coord, whole) in block.coords.iter().zip(&full.coords) {
        assert_eq!((&coord.name, &coord.dims, &coord.attrs), (&whole.name, &whole.dims, &whole.attrs));
        match whole.dims.as_slice() {
            [] => assert_eq!(coord, whole, "{what}: scalar {}", whole.name),
            [dim] => {
                let range = ranges[full.axis_of(dim).expect("coordinate on an array dimension")].clone();
                let values = match &whole.values {
                    CoordValues::Numbers(v) => CoordValues::Numbers(v[range.clone()].to_vec()),
                    CoordValues::Labels(v) => CoordValues::Labels(v[range.clone()].to_vec()),
                };
                assert_eq!(coord.values, values, "{what}: {}", whole.name);
                assert_eq!(coord.bounds, whole.bounds.as_ref().map(|b| b[range].to_vec()), "{what}: bounds");
            }
            _ => panic!("{what}: no multi-dimensional coordinate in the samples"),
        }
    }
    let in_memory = full.block(ranges).unwrap();
    assert_eq!((&in_memory.coords, &in_memory.time), (&block.coords, &block.time), "{what}: DataArray::block");
    assert_eq!(common::count_differing(&in_memory.data, &block.data), 0, "{what}: DataArray::block values");
}

/// Opens `location` both ways and checks every block of `blocks` (plus the whole array).
fn check_blocks(location: &str, variable: &str, blocks: &[Vec<Range<usize>>]) -> DataArray {
    let full = read_variable(location, variable).unwrap();
    let reader = VariableReader::open(location, variable).unwrap();
    assert_eq!(reader.shape(), full.shape());
    let template = reader.template();
    assert_eq!(
        (&template.name, &template.source, &template.dims, &template.coords, &template.time),
        (&full.name, &full.source, &full.dims, &full.coords, &full.time)
    );
    assert_eq!((&template.attrs, &template.global_attrs), (&full.attrs, &full.global_attrs));
    assert!(template.data.is_empty(), "the template holds no values");
    let everything: Vec<Range<usize>> = full.shape().iter().map(|&n| 0..n).collect();
    for ranges in blocks.iter().chain([&everything]) {
        assert_is_slice(&full, &reader.read_block(ranges).unwrap(), ranges);
    }
    full
}

/// Consecutive time blocks of `len` steps over everything else, the last one shorter.
fn time_blocks(shape: &[usize], len: usize) -> Vec<Vec<Range<usize>>> {
    (0..shape[0])
        .step_by(len)
        .map(|start| {
            let mut ranges: Vec<Range<usize>> = shape.iter().map(|&n| 0..n).collect();
            ranges[0] = start..(start + len).min(shape[0]);
            ranges
        })
        .collect()
}

/// Tiles of `tile` cells over the last two axes, all time steps.
fn spatial_tiles(shape: &[usize], tile: [usize; 2]) -> Vec<Vec<Range<usize>>> {
    let (ny, nx) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    let mut tiles = Vec::new();
    for y in (0..ny).step_by(tile[0]) {
        for x in (0..nx).step_by(tile[1]) {
            let mut ranges: Vec<Range<usize>> = shape.iter().map(|&n| 0..n).collect();
            ranges[shape.len() - 2] = y..(y + tile[0]).min(ny);
            ranges[shape.len() - 1] = x..(x + tile[1]).min(nx);
            tiles.push(ranges);
        }
    }
    tiles
}

#[test]
fn global_0_360_grid_blocks_straddle_the_wrap_point() {
    // MIROC6 stores longitudes 0..358.6; decoded, 180..358.6 come first, so decoded index 128 is stored index 0.
    let file = sample("cmip_misc/tas_day_MIROC6_ssp119_r1i1p1f1_gn_20150101.nc");
    let full = check_blocks(
        &file,
        "tas",
        &[
            vec![0..1, 60..70, 120..136],
            vec![0..1, 0..128, 127..129],
            vec![0..1, 5..6, 0..256],
            vec![0..1, 0..128, 250..256],
        ],
    );
    let lons = full.coord("lon").unwrap().values.numbers().unwrap();
    assert_eq!((lons[127], lons[128]), (-1.40625, 0.0), "the block 120..136 crosses from stored 255 to stored 0");
    assert!(full.coord("lon").unwrap().bounds.is_some(), "longitude bounds are cut with the block");
    assert!(full.coord("height").is_some_and(|h| h.dims.is_empty()), "scalar height is kept in every block");
    check_blocks(&file, "tas", &spatial_tiles(full.shape(), [50, 100]));
}

#[test]
fn netcdf3_0_360_regional_grid_time_blocks_and_tiles() {
    let file = sample("nunavut_climdown/tiny_gcm.nc");
    let shape = read_variable(&file, "tasmax").unwrap().shape().to_vec();
    check_blocks(&file, "tasmax", &time_blocks(&shape, 1000));
    check_blocks(&file, "tasmax", &spatial_tiles(&shape, [3, 3]));
}

#[test]
fn north_to_south_latitudes_are_read_flipped() {
    let file = sample("era5_british_isles/t2m_1hr_ERA5_british-isles_0.25deg_2019030100-2019033123.nc");
    let shape = read_variable(&file, "t2m").unwrap().shape().to_vec();
    check_blocks(&file, "t2m", &time_blocks(&shape, 100));
    check_blocks(&file, "t2m", &spatial_tiles(&shape, [10, 16]));
    check_blocks(&file, "t2m", &[vec![700..744, 0..1, 48..49], vec![3..4, 12..30, 0..49]]);

    let nrcan = sample("quebec_nrcan/nrcan_canada_daily_pr_1990.nc");
    check_blocks(&nrcan, "pr", &[vec![0..365, 40..84, 0..20], vec![100..130, 0..84, 150..156]]);
}

#[test]
fn integer_fill_values_become_nan_in_blocks() {
    let file = sample("nunavut_climdown/tiny_obs.nc");
    let full = check_blocks(&file, "tasmax", &spatial_tiles(&[751, 26, 26], [7, 5]));
    assert!(full.missing().0 > 0, "the sample has -32768 cells");
}

#[test]
fn station_series_stored_location_first_are_read_time_first() {
    // ahccd stores (location, time); decoded dims are (time, location), with lat(location) and labels cut too.
    let file = sample("stations_sdba/ahccd_1950-2013.nc");
    check_blocks(&file, "pr", &[vec![0..5000, 0..3], vec![20000..23360, 1..2], vec![100..101, 0..0]]);
    check_blocks(&sample("stations_sdba/CanESM2_1950-2100.nc"), "tasmax", &[vec![0..55115, 2..3]]);
}

#[test]
fn packed_int16_values_unpack_in_blocks() {
    // ERA5 as the CDS distributes it: int16 with scale_factor/add_offset and a fill value, latitude north→south.
    let source =
        read_variable(&sample("era5_british_isles/t2m_1hr_ERA5_british-isles_0.25deg_2019030100-2019033123.nc"), "t2m")
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let packed = dir.path().join("t2m_packed.nc");
    let (offset, scale) = write_packed(&source, &packed);
    let file = packed.to_str().unwrap();
    let full = check_blocks(file, "t2m", &[vec![0..744, 0..10, 0..49], vec![37..38, 20..33, 5..9]]);
    check_blocks(file, "t2m", &time_blocks(full.shape(), 200));
    let unpacked_error = full
        .data
        .iter()
        .zip(&source.data)
        .filter(|(a, _)| !a.is_nan())
        .map(|(a, b)| (f64::from(*a) - f64::from(*b)).abs())
        .fold(0.0, f64::max);
    assert!(unpacked_error <= scale * 0.51 + 1e-4, "unpacked within half a step: {unpacked_error}");
    assert_eq!(full.missing().0, 744, "the cell stored as the fill value decodes as NaN at every step");
    assert!(offset > 250.0);
}

/// Writes `array` (time, lat, lon) packed into int16 with the latitude stored north→south and cell (0, 0) set to
/// the fill value; returns the `add_offset` and `scale_factor` used.
fn write_packed(array: &DataArray, path: &std::path::Path) -> (f64, f64) {
    let (low, high) = array.data.iter().fold((f64::MAX, f64::MIN), |(l, h), &x| (l.min(x.into()), h.max(x.into())));
    let scale = (high - low) / 60000.0;
    let offset = (high + low) / 2.0;
    let [nt, ny, nx] = [array.shape()[0], array.shape()[1], array.shape()[2]];
    let mut file = netcdf::create(path).unwrap();
    for (dim, len) in [("time", nt), ("lat", ny), ("lon", nx)] {
        file.add_dimension(dim, len).unwrap();
    }
    let mut time = file.add_variable::<f64>("time", &["time"]).unwrap();
    time.put_attribute("units", "hours since 2019-03-01 00:00:00").unwrap();
    time.put_values(&(0..nt).map(|t| t as f64).collect::<Vec<_>>(), ..).unwrap();
    for (name, units, values) in [
        ("lat", "degrees_north", array.coord("lat").unwrap().values.numbers().unwrap().iter().rev().copied().collect()),
        ("lon", "degrees_east", array.coord("lon").unwrap().values.numbers().unwrap().to_vec()),
    ] {
        let mut var = file.add_variable::<f64>(name, &[name]).unwrap();
        var.put_attribute("units", units).unwrap();
        var.put_values(&values, ..).unwrap();
    }
    let mut var = file.add_variable::<i16>("t2m", &["time", "lat", "lon"]).unwrap();
    var.set_fill_value(-32767i16).unwrap();
    var.put_attribute("scale_factor", scale).unwrap();
    var.put_attribute("add_offset", offset).unwrap();
    var.put_attribute("units", "K").unwrap();
    let mut stored = Vec::with_capacity(array.data.len());
    for t in 0..nt {
        for y in (0..ny).rev() {
            for x in 0..nx {
                let packed = ((f64::from(array.data[[t, y, x]]) - offset) / scale).round() as i16;
                stored.push(if y == ny - 1 && x == 0 { -32767 } else { packed });
            }
        }
    }
    var.put_values(&stored, ..).unwrap();
    (offset, scale)
}

#[test]
fn zarr_store_blocks_cross_chunk_boundaries() {
    let eobs =
        read_variable(&sample("iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc"), "tas")
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tas.zarr");
    // 40 kB chunks of whole series: 1805 x 3 x 3 cells, so tiles cut through chunks.
    let options = WriteOptions { layout: ChunkLayout::FullTime, chunk_bytes: 40_000, ..WriteOptions::default() };
    write_zarr(&eobs, &Location::parse(store.to_str().unwrap()).unwrap(), &options).unwrap();
    let store = store.to_str().unwrap();
    check_blocks(store, "tas", &spatial_tiles(eobs.shape(), [4, 5]));
    check_blocks(store, "tas", &time_blocks(eobs.shape(), 400));
    // The Zarr v2 twin written by xarray reads the same way.
    let twin = sample("zarr/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.zarr");
    check_blocks(&twin, "tas", &[vec![90..95, 3..17, 20..29]]);
}

#[test]
fn blocks_are_read_from_several_threads_at_once() {
    for (file, variable) in [
        (sample("cmip_misc/prsn_day_CanESM5_historical_r1i1p1f1_gn_19910101-20101231.nc"), "prsn"),
        (sample("zarr/tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.zarr"), "tas"),
    ] {
        let full = read_variable(&file, variable).unwrap();
        let reader = VariableReader::open(&file, variable).unwrap();
        let blocks = time_blocks(full.shape(), 97);
        std::thread::scope(|scope| {
            for ranges in &blocks {
                let (reader, full) = (&reader, &full);
                scope.spawn(move || assert_is_slice(full, &reader.read_block(ranges).unwrap(), ranges));
            }
        });
    }
}

#[test]
fn bad_ranges_are_one_line_errors_naming_file_and_variable() {
    let file = sample("iberia/gcm_CNRM-CM5/tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc");
    let reader = VariableReader::open(&file, "tas").unwrap();
    assert_eq!(reader.shape(), [1805, 8, 11]);
    let error = |ranges: &[Range<usize>]| reader.read_block(ranges).unwrap_err().to_string();
    assert_eq!(
        error(&[0..10, 0..8]),
        format!("{file}: variable 'tas': a block needs 3 index ranges, one per dimension (time, lat, lon), got 2")
    );
    assert_eq!(
        error(&[0..10, 0..9, 0..11]),
        format!("{file}: variable 'tas': block range 0..9 for dimension 'lat' exceeds its length 8")
    );
    #[allow(clippy::reversed_empty_ranges, reason = "the reversed range is the input under test")]
    let reversed = [0..10, 0..8, 7..3];
    assert_eq!(
        error(&reversed),
        format!("{file}: variable 'tas': block range 7..3 for dimension 'lon' starts after its end")
    );
    let empty = reader.read_block(&[5..5, 0..8, 0..11]).unwrap();
    assert_eq!((empty.shape(), empty.time.as_ref().unwrap().dates.len()), (&[0, 8, 11][..], 0));

    let missing = VariableReader::open(&file, "pr").err().unwrap().to_string();
    assert!(missing.starts_with(&format!("{file}: variable 'pr' not found")), "{missing}");
    let in_memory = read_variable(&file, "tas").unwrap().block(&[0..1, 0..1]).unwrap_err().to_string();
    assert!(in_memory.contains("variable 'tas': a block needs 3 index ranges"), "{in_memory}");

    // Inconsistent arrays in memory are errors too, not panics.
    let mut short_time = read_variable(&file, "tas").unwrap();
    short_time.time.as_mut().unwrap().dates.truncate(10);
    let error = short_time.block(&[5..20, 0..8, 0..11]).unwrap_err().to_string();
    assert!(error.ends_with("its time axis has 10 steps, fewer than its shape [1805, 8, 11]"), "{error}");
    let mut few_bounds = read_variable(&sample("nunavut_climdown/tiny_gcm.nc"), "tasmax").unwrap();
    few_bounds.coords.iter_mut().find(|c| c.name == "lat").unwrap().bounds.as_mut().unwrap().pop();
    let error = few_bounds.block(&[0..1, 0..2, 0..2]).unwrap_err().to_string();
    assert!(error.ends_with("coordinate 'lat' has 4 values but 3 bounds"), "{error}");
}
