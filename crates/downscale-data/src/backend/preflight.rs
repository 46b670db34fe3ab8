//! The check every NetCDF file passes before libnetcdf opens it.
//!
//! libnetcdf and HDF5 believe what a file says about itself: a header whose counts or lengths were damaged can make
//! them allocate absurd amounts, read past the end of a buffer and crash the whole process, and a classic file cut
//! short is read as if the missing bytes were zeros. A crash takes every other task of a run with it and a silent
//! zero is a wrong result, so the structure that those libraries trust is checked first, by code that cannot crash:
//! the classic header in full (`netcdf3_header`), the HDF5 superblock of NetCDF-4 files (`hdf5_superblock`).

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::{hdf5_superblock, netcdf3_header};
use crate::error::{DataError, Result};

/// Why a pre-flight check did not pass.
#[derive(Debug)]
pub(super) enum Refusal {
    /// The file contradicts itself or its size: [`DataError::Malformed`], permanent.
    Damaged(String),
    /// The bytes could not be read at all: [`DataError::Read`], which a run may retry.
    Unreadable(std::io::Error),
}

impl From<std::io::Error> for Refusal {
    fn from(error: std::io::Error) -> Self {
        Refusal::Unreadable(error)
    }
}

/// A refusal for damage, with its one-line detail.
pub(super) fn damaged<T>(detail: String) -> std::result::Result<T, Refusal> {
    Err(Refusal::Damaged(detail))
}

/// Checks the local file at `path` (`display` names it in errors) as far as libnetcdf will trust it.
pub(super) fn check(path: &Path, display: &str) -> Result<()> {
    let refused = |refusal| match refusal {
        Refusal::Damaged(detail) => DataError::Malformed { path: display.to_string(), detail },
        Refusal::Unreadable(error) => DataError::read_source(display, error),
    };
    let mut file = std::fs::File::open(path).map_err(|e| DataError::read_source(display, e))?;
    // The real size, not the size any header claims: every length read later is measured against it.
    let size = file.metadata().map_err(|e| DataError::read_source(display, e))?.len();
    let mut head = Vec::with_capacity(8);
    (&mut file).take(8).read_to_end(&mut head).map_err(|e| DataError::read_source(display, e))?;
    file.seek(SeekFrom::Start(0)).map_err(|e| DataError::read_source(display, e))?;
    if head.starts_with(b"CDF") {
        netcdf3_header::check(BufReader::new(file), size).map_err(refused)
    } else if head.starts_with(&hdf5_superblock::SIGNATURE) {
        hdf5_superblock::check(file, size).map_err(refused)
    } else {
        // `backend::open` only sends files with either signature here; a file without one is not given to
        // libnetcdf at all (HDF5 files with a user block, whose signature sits further in, included).
        Err(DataError::UnknownFormat {
            path: display.to_string(),
            detail: "expected the NetCDF classic (CDF) or NetCDF-4 (HDF5) signature at the start of the file".into(),
        })
    }
}
