//! Keeps HDF5's error stack printer quiet on every thread that calls libnetcdf.
//!
//! libnetcdf probes optional attributes by name when it first reads a variable's metadata; on files with many
//! attributes HDF5 reports each absent one as an "error" and, unless told otherwise, prints a dozen-line
//! `HDF5-DIAG` trace to stderr. libnetcdf turns that printing off once, on the thread that first opened a file, but
//! HDF5 keeps the setting per thread, so every other thread (rayon workers, test threads) spews noise for
//! lookups that are not failures. We switch it off per thread ourselves.
//!
//! The symbol is looked up at run time (`dlsym`) rather than linked: libhdf5 is already loaded as libnetcdf's
//! dependency, while its library name differs between distributions (`hdf5` vs `hdf5_serial`), which would make a
//! link-time dependency fragile. When the symbol is absent (a static build) nothing happens. The call holds the lock the
//! netcdf crate takes around every libnetcdf call: serial HDF5 is not thread-safe, and touching its error state while
//! another thread reads a file crashes it.

use std::cell::Cell;
use std::ffi::{c_int, c_void};

/// `H5Eset_auto2(hid_t estack_id, H5E_auto2_t func, void *client_data)`; `hid_t` is 64-bit since HDF5 1.10.
type SetAuto = unsafe extern "C" fn(estack_id: i64, func: *const c_void, client_data: *mut c_void) -> c_int;

/// `H5E_DEFAULT`: the calling thread's default error stack.
const H5E_DEFAULT: i64 = 0;

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
        // SAFETY: dlsym with RTLD_DEFAULT only searches already-loaded objects. The symbol, when present, is HDF5's
        // H5Eset_auto2 with the signature above; passing a null function pointer disables printing (HDF5 docs).
        let _lock = netcdf_sys::libnetcdf_lock.lock();
        unsafe {
            let symbol = libc::dlsym(libc::RTLD_DEFAULT, c"H5Eset_auto2".as_ptr());
            if !symbol.is_null() {
                let set_auto: SetAuto = std::mem::transmute::<*mut c_void, SetAuto>(symbol);
                set_auto(H5E_DEFAULT, std::ptr::null(), std::ptr::null_mut());
            }
        }
    });
}
