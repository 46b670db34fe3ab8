//! Resource readings for the run records (Linux: `/proc` and `getrusage`). The kernel counts CPU time and peak
//! resident set per process, so over a task they are the task's when it ran alone in its process (`downscale task`,
//! the `ci` runtime) and include the tasks beside it when several ran at once (`local`).

/// Physical memory of the machine, from `/proc/meminfo` (None where that file is absent).
pub fn total_ram() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// User + system CPU seconds of the whole process so far (every thread).
pub fn cpu_seconds() -> f64 {
    rusage_seconds(libc::RUSAGE_SELF)
}

/// User + system CPU seconds of this process's children that have ended and been waited for: what a command run
/// as a child cost, whatever its threads or tasks did at once.
pub fn children_cpu_seconds() -> f64 {
    rusage_seconds(libc::RUSAGE_CHILDREN)
}

fn rusage_seconds(who: libc::c_int) -> f64 {
    // SAFETY: getrusage fills the struct it is given; a zeroed rusage is a valid initial value.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(who, &mut usage) != 0 {
            return 0.0;
        }
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Resets the kernel's peak-RSS mark of this process (`/proc/self/clear_refs` ← 5), so the next
/// [`peak_rss`] reading covers only what follows. Returns false where the kernel does not allow it; the reading is
/// then the peak since the process started.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Returns the heap's free memory to the kernel (glibc keeps what a task freed, fragmented among small live
/// allocations, so without this the next task's peak RSS would count the last one's leftovers, and the process would
/// hold its largest task's memory to the end). Elsewhere a no-op.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Peak resident set size in bytes (`VmHWM`).
pub fn peak_rss() -> Option<u64> {
    status_bytes("VmHWM:")
}

/// Resident set size in bytes now (`VmRSS`).
pub fn current_rss() -> Option<u64> {
    status_bytes("VmRSS:")
}

/// A size field of `/proc/self/status`, which the kernel gives in KiB.
fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Samples this process's CPU use and memory over time, for the run records' resource curves while a run runs.
pub(crate) struct ResourceSampler {
    since: std::time::Instant,
    cpu_since: f64,
}

impl ResourceSampler {
    /// How long apart samples are: often enough to see a task's rise and fall, rarely enough that a run of hours
    /// adds a few thousand rows.
    pub(crate) const INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

    pub(crate) fn new() -> ResourceSampler {
        ResourceSampler { since: std::time::Instant::now(), cpu_since: cpu_seconds() }
    }

    /// Whether a sample is due.
    pub(crate) fn due(&self) -> bool {
        self.since.elapsed() >= Self::INTERVAL
    }

    /// CPU seconds per wall second since the last sample (cores busy) and resident bytes now.
    pub(crate) fn sample(&mut self) -> (f64, u64) {
        let wall = self.since.elapsed().as_secs_f64();
        let cpu = cpu_seconds();
        let cores = if wall > 0.0 { (cpu - self.cpu_since).max(0.0) / wall } else { 0.0 };
        self.since = std::time::Instant::now();
        self.cpu_since = cpu;
        (cores, current_rss().unwrap_or(0))
    }
}

/// This machine's name, for the run records.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_are_plausible() {
        assert!(total_ram().unwrap() > 1 << 28);
        let before = cpu_seconds();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(cpu_seconds() > before);
        reset_peak_rss();
        let block = vec![1u8; 64 << 20];
        std::hint::black_box(&block);
        assert!(peak_rss().unwrap() >= 64 << 20);
        assert!(current_rss().unwrap() >= 64 << 20);
        let mut sampler = ResourceSampler::new();
        let mut y = 0u64;
        for i in 0..20_000_000u64 {
            y = y.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(y);
        let (cores, rss) = sampler.sample();
        assert!(cores > 0.0 && rss >= 64 << 20, "{cores} {rss}");
        assert!(!host_name().is_empty());
    }
}
