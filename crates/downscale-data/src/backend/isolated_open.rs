//! The first open of each NetCDF-4 file, in a child process.
//!
//! HDF5 (under libnetcdf) trusts the structures inside a NetCDF-4 file. The pre-flight checks the superblock, but a
//! damaged object deeper in (a global heap collection, whose one corrupt byte makes HDF5 1.10's `H5HG_read` copy
//! past its buffer while libnetcdf reads the dimension scales) crashes the process with SIGSEGV: no error to catch,
//! no one-line message, every task of a run gone. Checking those structures ourselves would mean re-implementing
//! HDF5's object model. Instead, a program that can answer (the `downscale` binary registers itself with
//! [`isolate_netcdf4_opens`]) opens each NetCDF-4 file first in a child: itself, run again with
//! [`PROBE_VARIABLE`] naming the file, which opens it exactly as a read would (pre-flight, libnetcdf, every name
//! and attribute) and exits. A child killed by a signal, or one that does not finish, means the file is damaged;
//! the file is then refused with one line and never handed to libnetcdf in this process. A child that exits with an
//! error is fine: the same open in this process reports the same error safely.
//!
//! Verdicts are kept per file (path, size, modification time) for the life of the process, so a flow that opens one
//! input in many tasks spawns one child for it (about 20 ms). Without a registered program (the library on its own,
//! its tests) files are opened in this process, as before.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use crate::error::{DataError, Result};
use crate::location::Location;

/// The environment variable that makes the registered program open the file it names and exit.
pub const PROBE_VARIABLE: &str = "DOWNSCALE_PROBE_NETCDF";

/// How long a child may take to open a file's metadata; one that takes longer is taken to hang.
const PROBE_TIMEOUT: Duration = Duration::from_secs(120);

static PROGRAM: OnceLock<PathBuf> = OnceLock::new();

/// A file as it was when its verdict was given: a file rewritten since is asked about again.
type FileState = (PathBuf, u64, Option<SystemTime>);

static VERDICTS: OnceLock<Mutex<HashMap<FileState, std::result::Result<(), String>>>> = OnceLock::new();

/// Opens NetCDF-4 files in a child running `program` first (see the module documentation). `program` must exit
/// when [`PROBE_VARIABLE`] is set, after [`probe_here`].
pub fn isolate_netcdf4_opens(program: PathBuf) {
    let _ = PROGRAM.set(program);
}

/// What the child does: opens the file at `path` exactly as a read would, and exits 0 when that worked, 2 when it
/// gave an error (a crash kills the child before it can exit).
pub fn probe_here(path: &Path) -> u8 {
    let opened = Location::parse(&path.to_string_lossy()).and_then(|location| super::NetcdfFile::open(&location));
    if opened.is_ok() { 0 } else { 2 }
}

/// Refuses the NetCDF-4 file at `path` (named `display`) when opening its metadata crashes or hangs a child.
pub(super) fn check(path: &Path, display: &str) -> Result<()> {
    let Some(program) = PROGRAM.get() else { return Ok(()) };
    let metadata = std::fs::metadata(path).map_err(|e| DataError::read_source(display, e))?;
    let state = (path.to_path_buf(), metadata.len(), metadata.modified().ok());
    let verdicts = VERDICTS.get_or_init(Mutex::default);
    let known = verdicts.lock().unwrap_or_else(PoisonError::into_inner).get(&state).cloned();
    let verdict = match known {
        Some(verdict) => verdict,
        None => {
            let verdict = run_child(program, path).map_err(|e| DataError::read_source(display, e))?;
            verdicts.lock().unwrap_or_else(PoisonError::into_inner).insert(state, verdict.clone());
            verdict
        }
    };
    verdict.map_err(|detail| DataError::Malformed { path: display.to_string(), detail })
}

/// Runs the child on `path`: `Ok(Err(why))` when it crashed or hung, `Err` when it could not be run at all.
fn run_child(program: &Path, path: &Path) -> std::io::Result<std::result::Result<(), String>> {
    let mut child = Command::new(program)
        .env(PROBE_VARIABLE, path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(match status.code() {
                Some(_) => Ok(()),
                None => Err(format!(
                    "libnetcdf crashed reading its metadata ({status}): a damaged HDF5 structure inside the file"
                )),
            });
        }
        if started.elapsed() > PROBE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(Err(format!(
                "libnetcdf did not finish reading its metadata in {} s: a damaged HDF5 structure inside the file",
                PROBE_TIMEOUT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
