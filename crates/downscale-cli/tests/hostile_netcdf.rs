//! Damaged and incomplete NetCDF files through the real binary: each is refused with one line naming the file and an
//! exit code of 2, never a crash inside libnetcdf (a signal), a silent success or a half-written output; and no real
//! file is refused. Runs over `data/samples`, and also over the full internal corpus when `DOWNSCALE_CORPUS` names it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{assert_one_line_error, run, sample};

/// The exit code of every error (`main.rs`).
const ERROR_EXIT: i32 = 2;

const HDF5_SIGNATURE: &[u8] = b"\x89HDF\r\n\x1a\n";

/// NetCDF files under `root`, recursively, sorted.
fn netcdf_files(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for path in std::fs::read_dir(&dir).unwrap().map(|entry| entry.unwrap().path()) {
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "nc") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn samples_root() -> PathBuf {
    PathBuf::from(sample(""))
}

/// An error exit (not a signal) with one line naming `file` as damaged or incomplete.
fn assert_refused(output: &Output, file: &str) {
    assert_eq!(output.status.code(), Some(ERROR_EXIT), "{file}: {output:?}");
    assert_one_line_error(output, &[file, "damaged or incomplete file"]);
}

/// `inspect` and `convert` both refuse `file`, and `convert` leaves nothing in its (empty) output folder.
fn assert_both_commands_refuse(file: &Path) {
    let file = file.to_str().unwrap();
    assert_refused(&run(&["inspect", file]), file);
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("out.zarr");
    assert_refused(&run(&["convert", "--in", file, "--out", out.to_str().unwrap()]), file);
    let left: Vec<_> = std::fs::read_dir(out_dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(left.is_empty(), "{file}: convert left {left:?}");
}

/// A copy of `source` in `dir` under `name`, changed by `change`.
fn damaged_copy(source: &Path, dir: &Path, name: &str, change: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(source).unwrap();
    change(&mut bytes);
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn classic_samples() -> Vec<PathBuf> {
    let classic: Vec<_> =
        netcdf_files(&samples_root()).into_iter().filter(|p| std::fs::read(p).unwrap().starts_with(b"CDF")).collect();
    assert!(!classic.is_empty(), "no NetCDF-3 sample");
    classic
}

#[test]
fn a_flipped_dimension_count_byte_is_refused_instead_of_crashing_libnetcdf() {
    let dir = tempfile::tempdir().unwrap();
    let gcm = PathBuf::from(sample("nunavut_climdown/tiny_gcm.nc"));
    let copy = damaged_copy(&gcm, dir.path(), "copy.nc", |bytes| bytes[12] = 150);
    assert_both_commands_refuse(&copy);
}

/// Bytes of the fixed-place header fields that any damage must be caught in, for every NetCDF-3 sample: the tag of
/// the dimension list, the dimension count and the first dimension's name length, each made absurd.
#[test]
fn damaged_header_fields_of_every_netcdf3_sample_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for source in classic_samples() {
        let bytes = std::fs::read(&source).unwrap();
        // Counts are 8 bytes wide in CDF-5, 4 in CDF-1 and CDF-2.
        let width = if bytes[3] == 5 { 8 } else { 4 };
        let tag = 4 + width;
        let dim_count = tag + 4;
        let name_length = dim_count + width;
        for (at, value) in [(tag, 0x96), (tag + 3, 0x0B), (dim_count, 0x96), (name_length, 0x7F), (name_length, 0xFF)] {
            let name = format!("flipped-{at}-{value}.nc");
            let copy = damaged_copy(&source, dir.path(), &name, |bytes| bytes[at] = value);
            assert_both_commands_refuse(&copy);
        }
    }
}

#[test]
fn a_truncated_netcdf3_file_is_refused_before_libnetcdf_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    for source in classic_samples() {
        let len = std::fs::metadata(&source).unwrap().len() as usize;
        for (what, keep) in [("last-byte", len - 1), ("last-100", len - 100), ("half", len / 2)] {
            let copy = damaged_copy(&source, dir.path(), &format!("truncated-{what}.nc"), |bytes| bytes.truncate(keep));
            assert_both_commands_refuse(&copy);
        }
    }
}

/// One NetCDF-4 sample of each superblock layout: version 0 (no checksum) and version 2.
#[test]
fn a_truncated_netcdf4_file_is_refused_from_its_superblock() {
    let dir = tempfile::tempdir().unwrap();
    let hdf5: Vec<_> = netcdf_files(&samples_root())
        .into_iter()
        .map(|path| (std::fs::read(&path).unwrap(), path))
        .filter(|(bytes, _)| bytes.starts_with(HDF5_SIGNATURE))
        .collect();
    for version in [0, 2] {
        let (bytes, source) = hdf5
            .iter()
            .find(|(bytes, _)| bytes.get(8) == Some(&version))
            .unwrap_or_else(|| panic!("no NetCDF-4 sample with a version {version} superblock"));
        let len = bytes.len();
        for (what, keep) in [("last-byte", len - 1), ("last-100", len - 100), ("half", len / 2)] {
            let name = format!("truncated-v{version}-{what}.nc");
            let copy = damaged_copy(source, dir.path(), &name, |bytes| bytes.truncate(keep));
            assert_both_commands_refuse(&copy);
        }
    }
}

/// Found by `tests/fuzz_inputs`: the NetCDF-4 sample with 4 bytes of its root group's attribute messages set to all
/// ones opens in libnetcdf, which reads attributes only when they are listed, and listing them made the netcdf crate
/// panic (NC_EATTMETA) with a trace instead of one line.
#[test]
fn damaged_attribute_messages_of_a_netcdf4_file_are_refused_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let source = PathBuf::from(sample("cmip_misc/tas_day_MIROC6_ssp119_r1i1p1f1_gn_20150101.nc"));
    let copy = damaged_copy(&source, dir.path(), "attributes.nc", |bytes| bytes[3842..3846].fill(0xFF));
    assert_both_commands_refuse(&copy);
}

#[test]
fn a_classic_magic_number_followed_by_garbage_is_not_an_empty_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.nc");
    std::fs::write(&garbage, b"CDF\x01garbage").unwrap();
    assert_both_commands_refuse(&garbage);
}

#[test]
fn every_real_netcdf_file_passes_the_pre_flight() {
    let mut files = netcdf_files(&samples_root());
    // The shipped samples: 26 NetCDF-4 files and one NetCDF-3.
    assert_eq!(files.len(), 27);
    match std::env::var_os("DOWNSCALE_CORPUS") {
        Some(corpus) => files.extend(netcdf_files(Path::new(&corpus))),
        None => eprintln!("DOWNSCALE_CORPUS not set: only the shipped samples are checked"),
    }
    for file in files {
        let output = run(&["inspect", file.to_str().unwrap()]);
        // `cdo ymonmean` stamps the months of its climatology out of order (the corpus' tiny_clims.nc starts with
        // January 1972, then February 1971), which CF does not allow for a coordinate variable: refused by
        // decoding with a one-line reason, not by the pre-flight.
        if file.file_name().is_some_and(|name| name == "tiny_clims.nc") {
            assert_one_line_error(&output, &["tiny_clims.nc", "variable 'time'", "time must increase"]);
            continue;
        }
        assert!(output.status.success(), "{}: {}", file.display(), String::from_utf8_lossy(&output.stderr));
    }
}
