//! The questions the `netcdf` crate cannot be told "no" to, asked of libnetcdf first.
//!
//! The crate turns some libnetcdf errors into panics: listing the attributes of the file or of a variable unwraps
//! the attribute count and each name, and names (of variables, dimensions, attributes) that are not UTF-8 fail an
//! `expect`. libnetcdf reads a NetCDF-4 file's attributes only when they are first asked for, so a file whose
//! superblock, groups and variables are sound but whose attribute messages are damaged opens without complaint and
//! then aborts the process in the crate (`NC_EATTMETA`). A panic ends every task of a run and prints a trace instead
//! of one line, so the file is opened once more through netcdf-sys and each of those questions asked with its error
//! kept; any failure refuses the file as damaged before the crate sees it.

use std::ffi::{CStr, CString, c_char, c_int};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use netcdf_sys::{NC_GLOBAL, NC_MAX_NAME, NC_NOERR, NC_NOWRITE, nc_close, nc_open};

use crate::error::{DataError, Result};

/// Refuses the file at `path` (named `display` in errors) if libnetcdf cannot answer what the crate will ask about
/// its metadata. A file libnetcdf cannot open at all is left to the real open, which reports libnetcdf's error.
pub(super) fn check(path: &Path, display: &str) -> Result<()> {
    let Ok(c_path) = CString::new(path.as_os_str().as_bytes()) else {
        return Err(DataError::read(display, "the path contains a NUL byte"));
    };
    super::hdf5_quiet::silence_on_this_thread();
    let _lock = netcdf_sys::libnetcdf_lock.lock();
    let mut ncid = 0;
    // SAFETY: a NUL-terminated path and a valid out-pointer; the lock keeps other libnetcdf calls out.
    if unsafe { nc_open(c_path.as_ptr(), NC_NOWRITE, &mut ncid) } != NC_NOERR {
        return Ok(());
    }
    let probed = probe(ncid);
    // SAFETY: `ncid` was opened above and is closed once; a close error changes nothing for a read-only handle.
    unsafe { nc_close(ncid) };
    probed.map_err(|detail| DataError::Malformed { path: display.to_string(), detail })
}

/// Asks for the global attributes' names, then each variable's name, dimension names and attribute names.
fn probe(ncid: c_int) -> std::result::Result<(), String> {
    attribute_names(ncid, NC_GLOBAL, "the global attributes")?;
    let mut nvars = 0;
    // SAFETY (here and below): valid ids from libnetcdf itself and out-pointers to live locals or buffers of the
    // sizes libnetcdf documents (NC_MAX_NAME + 1 bytes for a name, one id per dimension).
    status(unsafe { netcdf_sys::nc_inq_nvars(ncid, &mut nvars) }, "the variable count")?;
    for varid in 0..nvars {
        let name =
            name_of(|buf| unsafe { netcdf_sys::nc_inq_varname(ncid, varid, buf) }, &format!("variable {varid}"))?;
        let what = format!("variable '{name}'");
        let mut ndims = 0;
        status(unsafe { netcdf_sys::nc_inq_varndims(ncid, varid, &mut ndims) }, &format!("the rank of {what}"))?;
        let mut dimids = vec![0; usize::try_from(ndims).unwrap_or_default()];
        status(
            unsafe { netcdf_sys::nc_inq_vardimid(ncid, varid, dimids.as_mut_ptr()) },
            &format!("the dimensions of {what}"),
        )?;
        for dimid in dimids {
            name_of(
                |buf| unsafe { netcdf_sys::nc_inq_dimname(ncid, dimid, buf) },
                &format!("dimension {dimid} of {what}"),
            )?;
        }
        attribute_names(ncid, varid, &format!("the attributes of {what}"))?;
    }
    Ok(())
}

fn attribute_names(ncid: c_int, varid: c_int, what: &str) -> std::result::Result<(), String> {
    let mut natts = 0;
    // SAFETY: as in `probe`.
    status(unsafe { netcdf_sys::nc_inq_varnatts(ncid, varid, &mut natts) }, what)?;
    for index in 0..natts {
        name_of(
            |buf| unsafe { netcdf_sys::nc_inq_attname(ncid, varid, index, buf) },
            &format!("attribute {index} of {what}"),
        )?;
    }
    Ok(())
}

/// A name that `call` writes into a buffer of NC_MAX_NAME + 1 bytes, which must be UTF-8.
fn name_of(call: impl FnOnce(*mut c_char) -> c_int, what: &str) -> std::result::Result<String, String> {
    let mut buffer = [0u8; NC_MAX_NAME as usize + 1];
    status(call(buffer.as_mut_ptr().cast()), &format!("the name of {what}"))?;
    let end = buffer.iter().position(|b| *b == 0).unwrap_or(buffer.len());
    String::from_utf8(buffer[..end].to_vec()).map_err(|_| format!("the name of {what} is not valid UTF-8"))
}

fn status(code: c_int, what: &str) -> std::result::Result<(), String> {
    if code == NC_NOERR {
        return Ok(());
    }
    // SAFETY: nc_strerror returns a pointer to a static NUL-terminated message for any code.
    let message = unsafe { CStr::from_ptr(netcdf_sys::nc_strerror(code)) }.to_string_lossy();
    Err(format!("libnetcdf cannot read {what}: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(relative: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/samples").join(relative)
    }

    /// The NetCDF-4 sample with the 4 bytes at 3842 set to all ones: the superblock, groups and variables are
    /// intact, but the root group's attribute messages are not, which libnetcdf only notices when the attributes are
    /// listed (it made the `netcdf` crate panic with NC_EATTMETA, -107).
    fn damaged_attribute_messages(dir: &Path) -> std::path::PathBuf {
        let mut bytes = std::fs::read(sample("cmip_misc/tas_day_MIROC6_ssp119_r1i1p1f1_gn_20150101.nc")).unwrap();
        bytes[3842..3846].copy_from_slice(&[0xFF; 4]);
        let path = dir.join("damaged-attributes.nc");
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn damaged_attribute_messages_are_refused_instead_of_panicking_in_the_netcdf_crate() {
        let dir = tempfile::tempdir().unwrap();
        let path = damaged_attribute_messages(dir.path());
        let error = check(&path, "damaged.nc").unwrap_err();
        assert!(matches!(error, DataError::Malformed { .. }), "{error}");
        assert!(error.to_string().contains("attributes"), "{error}");
    }

    #[test]
    fn every_sample_passes_the_probe() {
        for relative in [
            "nunavut_climdown/tiny_gcm.nc",
            "nunavut_climdown/tiny_obs.nc",
            "cmip_misc/tas_day_MIROC6_ssp119_r1i1p1f1_gn_20150101.nc",
            "stations_sdba/ahccd_1950-2013.nc",
        ] {
            check(&sample(relative), relative).unwrap();
        }
    }
}
