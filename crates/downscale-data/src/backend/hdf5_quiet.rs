//! Keeps HDF5's error stack printer quiet on every thread that calls libnetcdf.
//!
//! libnetcdf probes optional attributes by name when it first reads a variable's metadata; on files with many
//! attributes HDF5 reports each absent one as an "error" and, unless told otherwise, prints a dozen-line
//! `HDF5-DIAG` trace to stderr. libnetcdf turns that printing off once, on the thread that first opened a file, but
//! HDF5 keeps the setting per thread, so every other thread (rayon workers, test threads) spews noise for
//! lookups that are not failures. We switch it off per thread ourselves.
//!
//! The call holds the lock the netcdf crate takes around every libnetcdf call: serial HDF5 is not thread-safe, and
//! touching its error state while another thread reads a file crashes it.

use std::cell::Cell;

use hdf5_metno_sys::h5e::{H5E_DEFAULT, H5Eset_auto2};

thread_local! {
    static SILENCED: Cell<bool> = const { Cell::new(false) };
}

/// Turns HDF5's automatic error printing off for the current thread (once per thread).
pub(super) fn silence_on_this_thread() {
    SILENCED.with(|done| {
        if done.get() {
            return;
        }
        done.set(true);
        let _lock = netcdf_sys::libnetcdf_lock.lock();
        // SAFETY: H5Eset_auto2 with no function turns printing off for this thread's default error stack (HDF5
        // docs); the lock keeps every other HDF5 call out meanwhile.
        unsafe {
            H5Eset_auto2(H5E_DEFAULT, None, std::ptr::null_mut());
        }
    });
}
