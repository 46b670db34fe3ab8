//! Helpers shared by the binary's integration tests.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// The binary, with HDF5 file locking off: test processes write NetCDF4 files while other tests spawn children,
/// and a child can inherit (and keep) the HDF5 library's lock on a file the test process already closed.
pub fn downscale() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_downscale"));
    command.env("HDF5_USE_FILE_LOCKING", "FALSE");
    command
}

/// A file of the sample data shipped in `data/samples`.
pub fn sample(relative: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/samples").join(relative).to_string_lossy().to_string()
}

pub fn run(args: &[&str]) -> Output {
    downscale().args(args).output().expect("the binary runs")
}

/// A failure is one line on stderr, starting with `error:` and containing every piece of `what`; never a panic.
pub fn assert_one_line_error(output: &Output, what: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "should fail: {stderr}");
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected, got: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    for w in what {
        assert!(lines[0].contains(w), "'{w}' missing from: {stderr}");
    }
}
