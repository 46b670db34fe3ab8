//! Helpers shared by the regridding tests.

#![allow(dead_code, reason = "each test binary uses only some of the helpers")]

use std::path::PathBuf;
use std::process::{Command, Output};

/// A file of the sample data shipped in `data/samples`.
pub(crate) fn sample(relative: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/samples").join(relative).to_string_lossy().to_string()
}

/// Runs cdo (Debian's package, or `DOWNSCALE_CDO`) with `args`, failing the test with cdo's message. Output is
/// captured: cdo's HDF5 library prints diagnostics for absent optional attributes, which are not errors.
pub(crate) fn cdo(args: &[&str]) -> Output {
    let output = Command::new(std::env::var("DOWNSCALE_CDO").unwrap_or_else(|_| "cdo".into()))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run cdo ({e}); install Debian's cdo package or set DOWNSCALE_CDO"));
    assert!(output.status.success(), "cdo {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    output
}
