//! Every NetCDF file and Zarr store of the sample corpus opens, and every data variable in it decodes with a
//! time axis and real values. Runs over `data/samples`, and also over the full internal corpus when
//! `DOWNSCALE_CORPUS` names it (`.ci/run` does when the corpus sits beside the checkout).

use std::path::{Path, PathBuf};

use downscale_data::backend::open;
use downscale_data::decode::{data_variables, decode_variable};
use downscale_data::{DataError, Location};

/// NetCDF files and Zarr stores under `root` (a `.zarr` directory counts as one dataset).
fn datasets(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let is_zarr = path.extension().is_some_and(|e| e == "zarr");
            if is_zarr || path.extension().is_some_and(|e| e == "nc") {
                found.push(path);
            } else if path.is_dir() {
                pending.push(path);
            }
        }
    }
    found.sort();
    found
}

fn check_corpus(root: &Path) -> usize {
    let all = datasets(root);
    assert!(!all.is_empty(), "no datasets under {}", root.display());
    for path in &all {
        let location = Location::parse(path.to_str().unwrap()).unwrap();
        let dataset = open(&location).unwrap_or_else(|e: DataError| panic!("{e}"));
        let names = data_variables(dataset.as_ref());
        assert!(!names.is_empty(), "{}: no data variable", path.display());
        for name in names {
            // `cdo ymonmean` stamps the months of its climatology out of order (tiny_clims.nc starts with January
            // 1972, then February 1971), which CF does not allow for a coordinate variable: decoding refuses it.
            if path.file_name().is_some_and(|f| f == "tiny_clims.nc") {
                let error = decode_variable(dataset.as_ref(), &name).unwrap_err().to_string();
                assert!(error.contains("time must increase"), "{error}");
                continue;
            }
            let array = decode_variable(dataset.as_ref(), &name).unwrap_or_else(|e| panic!("{e}"));
            let time = array.time.as_ref().unwrap_or_else(|| panic!("{}: {name} has no time axis", path.display()));
            assert_eq!(time.dates.len(), array.shape()[0]);
            assert!(array.valid_mean().is_some_and(f64::is_finite), "{}: {name} has no valid values", path.display());
        }
    }
    all.len()
}

#[test]
fn every_shipped_sample_decodes() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/samples");
    // 27 NetCDF files and 2 Zarr stores are shipped.
    assert_eq!(check_corpus(&root), 29);
}

#[test]
fn the_full_corpus_decodes_when_present() {
    let Ok(root) = std::env::var("DOWNSCALE_CORPUS") else {
        eprintln!("DOWNSCALE_CORPUS not set: only the shipped samples are checked");
        return;
    };
    // 31 NetCDF files and 2 Zarr stores.
    assert_eq!(check_corpus(Path::new(&root)), 33);
}
