//! A store written block by block with `ZarrWriter` (time blocks, spatial tiles, blocks from several threads,
//! aligned to chunks or not) is the store `write_zarr` writes: the same files byte for byte, the same metadata, the
//! same values read back. An unfinished writer publishes nothing and leaves nothing behind.

mod common;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use common::sample;
use downscale_data::chunking::ChunkLayout;
use downscale_data::validate::validate_store;
use downscale_data::{DataArray, Location, VariableReader, WriteOptions, ZarrWriter, read_variable, write_zarr};
use ndarray::Slice;

fn eobs() -> DataArray {
    read_variable(&sample("iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc"), "tas").unwrap()
}

fn location(path: &Path) -> Location {
    Location::parse(path.to_str().unwrap()).unwrap()
}

/// Every file of a store by relative path, but the root `zarr.json` (see [`root_metadata`]).
fn store_files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(root).unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                pending.push(path);
            } else if relative != "zarr.json" {
                files.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// The root `zarr.json` as JSON without its time-stamped `history`. Compared as JSON, not bytes: the consolidated
/// metadata lists arrays in no fixed order (a hash map in zarrs), even between two runs of `write_zarr`.
fn root_metadata(root: &Path) -> serde_json::Value {
    let mut json: serde_json::Value = serde_json::from_slice(&std::fs::read(root.join("zarr.json")).unwrap()).unwrap();
    json["attributes"].as_object_mut().unwrap().remove("history").expect("root history");
    json
}

/// The two stores hold the same files with the same bytes, and the same root metadata.
fn assert_same_files(a: &Path, b: &Path) {
    assert_eq!(root_metadata(a), root_metadata(b), "root zarr.json");
    let (a, b) = (store_files(a), store_files(b));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>(), "same files");
    for (name, bytes) in &a {
        if name.ends_with(".json") {
            assert_eq!(String::from_utf8_lossy(bytes), String::from_utf8_lossy(&b[name]), "{name} differs");
        }
        assert!(*bytes == b[name], "{name} differs");
    }
}

/// Writes `array` whole with `write_zarr` and block by block with `ZarrWriter` (the blocks `blocks_for` chooses
/// from the chunk shape, written by `write` in any order or concurrency), and checks the two stores are the same.
fn assert_same_store(
    array: &DataArray,
    options: &WriteOptions,
    blocks_for: impl Fn(&[usize]) -> Vec<Vec<Range<usize>>>,
    parallel: bool,
) {
    let dir = tempfile::tempdir().unwrap();
    let (whole, blockwise) = (dir.path().join("whole.zarr"), dir.path().join("blocks.zarr"));
    write_zarr(array, &location(&whole), options).unwrap();

    let writer = ZarrWriter::create(array, array.shape(), &location(&blockwise), options).unwrap();
    let blocks = blocks_for(writer.chunk_shape());
    assert!(blocks.len() > 1, "several blocks");
    let write = |ranges: &Vec<Range<usize>>| {
        let values = array.data.slice_each_axis(|axis| Slice::from(ranges[axis.axis.index()].clone()));
        let offset: Vec<usize> = ranges.iter().map(|r| r.start).collect();
        writer.write_block(&offset, values).unwrap();
    };
    if parallel {
        std::thread::scope(|scope| {
            for ranges in &blocks {
                scope.spawn(|| write(ranges));
            }
        });
    } else {
        blocks.iter().rev().for_each(write);
    }
    writer.finish().unwrap();

    assert_same_files(&whole, &blockwise);
    let back = read_variable(blockwise.to_str().unwrap(), &array.name).unwrap();
    assert_eq!(common::count_differing(&array.data, &back.data), 0);
    assert_eq!(array.time.as_ref().unwrap().dates, back.time.as_ref().unwrap().dates);
    assert_eq!(array.coord("lat").unwrap().values, back.coord("lat").unwrap().values);
    assert!(validate_store(&location(&blockwise)).unwrap().is_complete());
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    assert_eq!(names.len(), 2, "no staging directory left: {names:?}");
}

/// Blocks of `len` steps along time, everything else whole.
fn time_blocks(shape: &[usize], len: usize) -> Vec<Vec<Range<usize>>> {
    (0..shape[0])
        .step_by(len)
        .map(|t| std::iter::once(t..(t + len).min(shape[0])).chain(shape[1..].iter().map(|&n| 0..n)).collect())
        .collect()
}

/// Tiles of `tile` cells over (lat, lon), all time steps.
fn tiles(shape: &[usize], tile: [usize; 2]) -> Vec<Vec<Range<usize>>> {
    let mut out = Vec::new();
    for y in (0..shape[1]).step_by(tile[0]) {
        for x in (0..shape[2]).step_by(tile[1]) {
            out.push(vec![0..shape[0], y..(y + tile[0]).min(shape[1]), x..(x + tile[1]).min(shape[2])]);
        }
    }
    out
}

fn full_space(chunk_bytes: usize) -> WriteOptions {
    WriteOptions { layout: ChunkLayout::FullSpace, chunk_bytes, ..WriteOptions::default() }
}

fn full_time(chunk_bytes: usize) -> WriteOptions {
    WriteOptions { layout: ChunkLayout::FullTime, chunk_bytes, ..WriteOptions::default() }
}

#[test]
fn time_blocks_aligned_to_chunks_write_the_same_store() {
    // 200 kB of 19 x 29 maps is 91 days a chunk; blocks of three chunks, the last one cut by the end of time.
    assert_same_store(&eobs(), &full_space(200_000), |chunks| time_blocks(&[1805, 19, 29], chunks[0] * 3), false);
}

#[test]
fn time_blocks_across_chunk_boundaries_write_the_same_store() {
    assert_same_store(&eobs(), &full_space(200_000), |_| time_blocks(&[1805, 19, 29], 100), false);
    assert_same_store(&eobs(), &full_space(200_000), |_| time_blocks(&[1805, 19, 29], 37), true);
}

#[test]
fn spatial_tiles_write_the_same_store_from_several_threads() {
    // 50 kB of 1805-day series is 3 x 3 cells a chunk.
    let array = eobs();
    assert_same_store(&array, &full_time(50_000), |chunks| tiles(array.shape(), [chunks[1] * 2, chunks[2]]), true);
    assert_same_store(&array, &full_time(50_000), |_| tiles(array.shape(), [4, 5]), true);
}

#[test]
fn station_series_and_0_360_grids_write_the_same_store() {
    let stations = read_variable(&sample("stations_sdba/ahccd_1950-2013.nc"), "pr").unwrap();
    let blocks = |_: &[usize]| vec![vec![0..10000, 0..3], vec![10000..23360, 0..1], vec![10000..23360, 1..3]];
    let dir = tempfile::tempdir().unwrap();
    let (whole, blockwise) = (dir.path().join("whole.zarr"), dir.path().join("blocks.zarr"));
    write_zarr(&stations, &location(&whole), &full_space(100_000)).unwrap();
    let writer = ZarrWriter::create(&stations, stations.shape(), &location(&blockwise), &full_space(100_000)).unwrap();
    for ranges in blocks(writer.chunk_shape()) {
        let values = stations.data.slice_each_axis(|axis| Slice::from(ranges[axis.axis.index()].clone()));
        writer.write_block(&[ranges[0].start, ranges[1].start], values).unwrap();
    }
    writer.finish().unwrap();
    assert_same_files(&whole, &blockwise);

    let miroc = read_variable(&sample("cmip_misc/tas_day_MIROC6_ssp119_r1i1p1f1_gn_20150101.nc"), "tas").unwrap();
    assert_same_store(&miroc, &full_time(10_000), |_| tiles(miroc.shape(), [64, 100]), true);
}

#[test]
fn blocks_stream_from_a_reader_into_a_writer() {
    // The streaming pattern: labels from the reader's template, values one block at a time, never the whole array.
    let source = sample("cmip_misc/tas_day_MIROC6_ssp119_r1i1p1f1_gn_20150101.nc");
    let reader = VariableReader::open(&source, "tas").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tas.zarr");
    let writer = ZarrWriter::create(reader.template(), reader.shape(), &location(&out), &full_time(20_000)).unwrap();
    let (ny, nx) = (reader.shape()[1], reader.shape()[2]);
    let step = writer.chunk_shape()[2] * 3;
    std::thread::scope(|scope| {
        for x in (0..nx).step_by(step) {
            let (reader, writer) = (&reader, &writer);
            scope.spawn(move || {
                let block = reader.read_block(&[0..1, 0..ny, x..(x + step).min(nx)]).unwrap();
                writer.write_block(&[0, 0, x], block.data.view()).unwrap();
            });
        }
    });
    writer.finish().unwrap();
    let (original, back) =
        (read_variable(&source, "tas").unwrap(), read_variable(out.to_str().unwrap(), "tas").unwrap());
    assert_eq!(common::count_differing(&original.data, &back.data), 0);
    assert_eq!(original.coord("lon").unwrap().values, back.coord("lon").unwrap().values);
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect()
}

#[test]
fn a_dropped_writer_leaves_no_store_and_no_staging_directory() {
    let array = eobs();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tas.zarr");
    let writer = ZarrWriter::create(&array, array.shape(), &location(&out), &full_space(200_000)).unwrap();
    writer.write_block(&[0, 0, 0], array.data.slice_each_axis(|a| Slice::from(..(a.len / 2)))).unwrap();
    let staging = entries(dir.path());
    assert_eq!(staging.len(), 1);
    let name = staging[0].file_name().unwrap().to_string_lossy().to_string();
    assert!(name.starts_with(".tas.zarr.partial-"), "hidden staging directory: {name}");
    assert!(!out.exists(), "nothing under the final name while writing");
    drop(writer);
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[test]
fn missing_chunks_are_an_error_and_nothing_is_published() {
    let array = eobs();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tas.zarr");
    let display = out.to_str().unwrap();
    let writer = ZarrWriter::create(&array, array.shape(), &location(&out), &full_space(200_000)).unwrap();
    assert_eq!(writer.chunk_shape(), [91, 19, 29]);
    // Days 0..100 and 200..1805: chunk 1 (days 91..182) and chunk 2 (182..273) lack days 100..200.
    for range in [0..100, 200..1805] {
        let values = array
            .data
            .slice_each_axis(|a| if a.axis.index() == 0 { Slice::from(range.clone()) } else { Slice::from(..) });
        writer.write_block(&[range.start, 0, 0], values).unwrap();
    }
    let error = writer.finish().unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "{display}: cannot write: 2 of 20 chunks of 'tas' were never written (the first is tas/c/1/0/0); nothing was published"
        )
    );
    assert!(entries(dir.path()).is_empty(), "no store, no staging directory");

    // An empty writer: every chunk missing.
    let writer = ZarrWriter::create(&array, array.shape(), &location(&out), &full_space(200_000)).unwrap();
    assert!(writer.finish().unwrap_err().to_string().contains("20 of 20 chunks of 'tas' were never written"));
}

#[test]
fn blocks_that_do_not_fit_or_overlap_are_refused() {
    let array = eobs();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tas.zarr");
    let display = out.to_str().unwrap();
    let writer = ZarrWriter::create(&array, array.shape(), &location(&out), &full_space(200_000)).unwrap();
    let days = |range: Range<usize>| {
        array
            .data
            .slice_each_axis(move |a| if a.axis.index() == 0 { Slice::from(range.clone()) } else { Slice::from(..) })
    };
    assert_eq!(
        writer.write_block(&[1800, 0, 0], days(0..10)).unwrap_err().to_string(),
        format!(
            "{display}: cannot write: a block of shape [10, 19, 29] at offset [1800, 0, 0] does not fit the array 'tas' of shape [1805, 19, 29] (time, lat, lon)"
        )
    );
    assert!(writer.write_block(&[0, 0], days(0..10)).is_err(), "one offset per dimension");
    writer.write_block(&[0, 0, 0], days(0..100)).unwrap();
    writer.write_block(&[0, 0, 0], days(0..100)).unwrap();
    let overlap = writer.write_block(&[50, 0, 0], days(50..150)).unwrap_err().to_string();
    assert!(overlap.starts_with(&format!("{display}: cannot write: the block overlaps")), "{overlap}");
    writer.write_block(&[100, 0, 0], days(100..1805)).unwrap();
    writer.finish().unwrap();
    let back = read_variable(display, "tas").unwrap();
    assert_eq!(common::count_differing(&array.data, &back.data), 0, "a rewritten block replaces itself");

    let mut short_time = array.clone();
    short_time.time.as_mut().unwrap().dates.pop();
    let error =
        ZarrWriter::create(&short_time, array.shape(), &location(&out), &WriteOptions::default()).err().unwrap();
    assert_eq!(
        error.to_string(),
        format!("{display}: cannot write: the time axis has 1804 steps but the shape [1805, 19, 29] has 1805")
    );
    let error = ZarrWriter::create(&array, &[1805, 19, 30], &location(&out), &WriteOptions::default()).err().unwrap();
    assert!(error.to_string().ends_with("coordinate 'lon' has 29 values for shape [30]"), "{error}");
    assert_eq!(entries(dir.path()), [out], "refused templates leave nothing behind");
}

#[test]
fn writers_are_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ZarrWriter>();
}

#[test]
fn shards_written_by_separate_writers_are_published_once_every_chunk_is_there() {
    let array = eobs();
    let options = full_space(200_000);
    let dir = tempfile::tempdir().unwrap();
    let (whole, sharded) = (dir.path().join("whole.zarr"), dir.path().join("tas.zarr"));
    write_zarr(&array, &location(&whole), &options).unwrap();
    // Four shards of five 91-day chunks; each has a writer of its own, as separate processes would.
    let shards = time_blocks(array.shape(), 5 * 91);
    assert_eq!(shards.len(), 4);
    let write_shard = |ranges: &Vec<Range<usize>>| {
        let writer = ZarrWriter::open_shared(&array, array.shape(), &location(&sharded), &options).unwrap();
        assert_eq!(writer.chunk_shape(), [91, 19, 29]);
        let values = array.data.slice_each_axis(|axis| Slice::from(ranges[axis.axis.index()].clone()));
        writer.write_block(&[ranges[0].start, 0, 0], values).unwrap();
    };
    shards[..3].iter().for_each(write_shard);

    // The last shard never ran: publishing refuses, and the other shards' chunks stay for it.
    let writer = ZarrWriter::open_shared(&array, array.shape(), &location(&sharded), &options).unwrap();
    let error = writer.finish_shared().unwrap_err().to_string();
    assert!(error.contains("5 of 20 chunks of 'tas' were never written (the first is tas/c/15/0/0)"), "{error}");
    assert!(!sharded.exists(), "nothing published");
    let stage = dir.path().join(".tas.zarr.shards");
    assert_eq!(std::fs::read_dir(stage.join("tas/c")).unwrap().count(), 15, "the written chunks stay");

    write_shard(&shards[3]);
    ZarrWriter::open_shared(&array, array.shape(), &location(&sharded), &options).unwrap().finish_shared().unwrap();
    assert_same_files(&whole, &sharded);
    assert!(!stage.exists(), "the stage became the store");
    assert!(validate_store(&location(&sharded)).unwrap().is_complete());

    // Clearing removes a stage and its chunks, and is no error without one.
    write_shard(&shards[0]);
    assert!(stage.exists());
    ZarrWriter::clear_shared(&location(&sharded)).unwrap();
    assert!(!stage.exists());
    ZarrWriter::clear_shared(&location(&sharded)).unwrap();
}
