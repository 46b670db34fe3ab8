//! Damaged Zarr stores and inputs that are no dataset at all: shapes no machine could hold, lost and empty chunks, lost array metadata, coordinates that
//! are missing or out of order. Every command gives one line naming the store and what was expected and never
//! aborts, hangs or turns the damage into data (a constant time axis, a variable that silently disappears);
//! `validate` reports each as a problem.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_one_line_error, bounded, copy_tree, downscale, sample};
use serde_json::Value;

const STORE: &str = "zarr/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.zarr";

/// A copy of the sample Zarr v2 store in `dir`.
fn store_copy(dir: &Path, name: &str) -> PathBuf {
    let target = dir.join(name);
    copy_tree(Path::new(&sample(STORE)), &target);
    target
}

/// Rewrites the JSON document at `path` with `change`.
fn edit_json(path: &Path, change: impl FnOnce(&mut Value)) {
    let mut document: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    change(&mut document);
    std::fs::write(path, serde_json::to_vec(&document).unwrap()).unwrap();
}

/// `inspect` and `convert` refuse the store with one line containing `what`, and `convert` publishes nothing;
/// `validate` exits 1 and lists a problem containing `problem`.
fn refused_everywhere(store: &Path, what: &[&str], problem: &str) {
    let store = store.to_str().unwrap();
    let out = format!("{store}-converted.zarr");
    assert_one_line_error(&bounded(&["inspect", store]), what);
    assert_one_line_error(&bounded(&["convert", "--in", store, "--out", &out]), what);
    assert!(!Path::new(&out).exists(), "nothing is published from a damaged store");
    let validated = bounded(&["validate", store]);
    let stdout = String::from_utf8_lossy(&validated.stdout);
    assert_eq!(validated.status.code(), Some(1), "{stdout}");
    assert!(stdout.lines().any(|l| l.contains("problem:") && l.contains(problem)), "{stdout}");
}

#[test]
fn a_shape_of_ten_to_the_twelfth_is_refused_before_anything_is_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_copy(dir.path(), "huge.zarr");
    edit_json(&store.join("tas/.zarray"), |m| m["shape"][0] = 1_000_000_000_000u64.into());
    refused_everywhere(&store, &["huge.zarr", "1000000000000 steps along 'time'", "coordinate has 1805"], "length");

    // The coordinate grows with it, in one chunk: that chunk is refused against the memory the process may use.
    let store = store_copy(dir.path(), "huge_time.zarr");
    for array in ["tas", "time"] {
        edit_json(&store.join(array).join(".zarray"), |m| m["shape"][0] = 1_000_000_000_000u64.into());
    }
    edit_json(&store.join("time/.zarray"), |m| m["chunks"][0] = 1_000_000_000_000u64.into());
    refused_everywhere(
        &store,
        &["huge_time.zarr", "'time'", "cannot be decoded in memory"],
        "cannot be decoded in memory",
    );
}

#[test]
fn a_shape_of_two_to_the_sixty_second_is_refused_and_validate_returns_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_copy(dir.path(), "overflow.zarr");
    edit_json(&store.join("tas/.zarray"), |m| m["shape"][0] = (1u64 << 62).into());
    refused_everywhere(&store, &["overflow.zarr", "array 'tas'", "more elements than can be counted"], "tas");
}

#[test]
fn a_lost_time_chunk_is_an_error_not_a_constant_time_axis() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_copy(dir.path(), "lost.zarr");
    std::fs::remove_file(store.join("time/0")).unwrap();
    refused_everywhere(
        &store,
        &["lost.zarr", "variable 'time'", "chunks are missing", "time/0"],
        "1 of 1 chunks missing",
    );
}

#[test]
fn an_empty_or_cut_chunk_is_data_lost() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_copy(dir.path(), "empty.zarr");
    std::fs::write(store.join("time/0"), b"").unwrap();
    refused_everywhere(&store, &["empty.zarr", "variable 'time'"], "chunk time/0 cannot be decoded");

    // A data chunk cut short: validate finds it although no coordinate reads it.
    let store = store_copy(dir.path(), "cut.zarr");
    let chunk = store.join("tas/2.0.0");
    let bytes = std::fs::read(&chunk).unwrap();
    std::fs::write(&chunk, &bytes[..bytes.len() / 2]).unwrap();
    let validated = bounded(&["validate", store.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&validated.stdout);
    assert_eq!(validated.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("chunk tas/2.0.0 cannot be decoded"), "{stdout}");
}

#[test]
fn an_array_whose_metadata_file_is_lost_does_not_silently_disappear() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_copy(dir.path(), "no_zarray.zarr");
    std::fs::remove_file(store.join("tas/.zarray")).unwrap();
    refused_everywhere(&store, &["no_zarray.zarr", "array 'tas' has no .zarray"], "tas/.zarray is missing");

    // The same in a Zarr v3 store this tool wrote. Its consolidated metadata holds a full copy of the array's, so
    // readers (xarray too) still read the array; `validate` says the store is damaged.
    let v3 = dir.path().join("ours.zarr");
    let converted = downscale().args(["convert", "--in", &sample(STORE), "--out"]).arg(&v3).output().unwrap();
    assert!(converted.status.success(), "{}", String::from_utf8_lossy(&converted.stderr));
    std::fs::remove_file(v3.join("tas/zarr.json")).unwrap();
    let inspected = bounded(&["inspect", v3.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&inspected.stdout).contains("tas "), "the array is still read");
    let validated = bounded(&["validate", v3.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&validated.stdout);
    assert_eq!(validated.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("tas/zarr.json is missing"), "{stdout}");
}

#[test]
fn missing_or_unordered_coordinates_are_errors_never_filled_in() {
    let dir = tempfile::tempdir().unwrap();
    let nan_lat = store_copy(dir.path(), "nan_lat.zarr");
    let lat = nan_lat.join("lat/0");
    let mut values: Vec<u8> = std::fs::read(&lat).unwrap();
    assert_eq!(values.len(), 19 * 8, "lat is stored uncompressed as 19 float64 values");
    values[16..24].copy_from_slice(&f64::NAN.to_le_bytes());
    std::fs::write(&lat, &values).unwrap();
    let out = dir.path().join("out.zarr");
    for command in [&["inspect"][..], &["convert", "--out", out.to_str().unwrap(), "--in"][..]] {
        let mut args = command.to_vec();
        args.push(nan_lat.to_str().unwrap());
        assert_one_line_error(&bounded(&args), &["nan_lat.zarr", "variable 'lat'", "value 2 is NaN"]);
    }
    assert!(!out.exists());

    let unordered = store_copy(dir.path(), "unordered_time.zarr");
    let time = unordered.join("time/0");
    let mut steps: Vec<u8> = std::fs::read(&time).unwrap();
    let (first, second) = steps.split_at_mut(8 * 11);
    first[8 * 10..].swap_with_slice(&mut second[..8]);
    std::fs::write(&time, &steps).unwrap();
    assert_one_line_error(
        &bounded(&["inspect", unordered.to_str().unwrap()]),
        &["unordered_time.zarr", "variable 'time'", "time must increase", "step 11"],
    );
}

#[test]
fn inputs_that_are_neither_files_nor_stores_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.nc");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let empty = dir.path().join("empty.nc");
    std::fs::write(&empty, b"").unwrap();
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("notes.txt"), b"not a store").unwrap();
    let out = dir.path().join("out.zarr");
    let cases: [(&Path, &str); 4] = [
        (&fifo, "a named pipe, device or socket"),
        (Path::new("/dev/zero"), "a named pipe, device or socket"),
        (&empty, "a file of 0 bytes"),
        (&folder, "a folder without zarr.json"),
    ];
    for (input, what) in cases {
        let input = input.to_str().unwrap();
        assert_one_line_error(&bounded(&["inspect", input]), &[input, what]);
        assert_one_line_error(&bounded(&["convert", "--in", input, "--out", out.to_str().unwrap()]), &[input, what]);
        assert!(!out.exists());
    }
    for input in [&fifo, &empty] {
        let input = input.to_str().unwrap();
        assert_one_line_error(&bounded(&["validate", input]), &[input, "validate checks Zarr stores"]);
    }
}
