//! How much one read may decode into memory, checked before anything is allocated.
//!
//! A dataset's metadata states its shape, and a damaged or hostile file can state anything: a Zarr `.zarray` whose
//! first dimension is 10^12, or 2^62. Allocating what it claims aborts the process (the allocator cannot return
//! an error) or overflows a size computation. So every read states what it will hold — its shape and the size of
//! one element — and is refused when that cannot be computed without overflow or is more than the memory this
//! process may have: the machine's physical memory, lowered by the process's address-space limit (`ulimit -v`) and
//! its container's memory limit (cgroup v2 `memory.max`) when those are set. No read larger than that can succeed,
//! so refusing it loses nothing. Reads that fit are the flows' blocks and tiles, whose budget keeps them far below
//! this bound.

use std::sync::LazyLock;

use crate::error::{DataError, Result};

/// The most memory this process may use, in bytes (see the module documentation).
static MEMORY_LIMIT: LazyLock<u64> = LazyLock::new(|| {
    let physical = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            kib.checked_mul(1024)
        })
        .unwrap_or(1 << 40);
    let container = std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok().and_then(|t| t.trim().parse().ok());
    [Some(physical), container, address_space_limit()].into_iter().flatten().min().unwrap_or(physical)
});

/// The soft limit on this process's address space, when one is set.
fn address_space_limit() -> Option<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit only writes the two fields of the struct it is given.
    let status = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) };
    (status == 0 && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

/// The bytes of `shape` elements of `element_bytes` each, or `None` when the product overflows.
pub(crate) fn bytes_of(shape: &[u64], element_bytes: u64) -> Option<u64> {
    shape.iter().try_fold(element_bytes, |total, &n| total.checked_mul(n))
}

/// Refuses a read of `shape` elements of `element_bytes` each from `variable` of `path` that cannot fit in memory.
pub(crate) fn check_read(path: &str, variable: &str, shape: &[u64], element_bytes: u64) -> Result<()> {
    let limit = *MEMORY_LIMIT;
    match bytes_of(shape, element_bytes) {
        Some(bytes) if bytes <= limit => Ok(()),
        Some(bytes) => Err(DataError::bad_variable(
            path,
            variable,
            format!(
                "a read of shape {shape:?} would need {bytes} bytes, more than the {limit} bytes of memory this \
                 process may use (a damaged shape in the metadata?)"
            ),
        )),
        None => Err(DataError::bad_variable(
            path,
            variable,
            format!("the shape {shape:?} has more elements than can be counted (a damaged shape in the metadata?)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_beyond_memory_or_beyond_counting_are_refused() {
        assert!(check_read("a.zarr", "tas", &[3610, 57, 87], 4).is_ok());
        let huge = check_read("a.zarr", "tas", &[1_000_000_000_000, 57, 87], 4).unwrap_err().to_string();
        assert!(huge.contains("a.zarr") && huge.contains("'tas'") && huge.contains("memory"), "{huge}");
        let overflow = check_read("a.zarr", "tas", &[1 << 62, 1 << 62], 8).unwrap_err().to_string();
        assert!(overflow.contains("more elements than can be counted"), "{overflow}");
        assert_eq!(bytes_of(&[], 8), Some(8));
    }
}
