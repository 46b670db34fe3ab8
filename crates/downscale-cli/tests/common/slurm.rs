//! The single-node Slurm cluster the `slurm` runtime's tests submit to: `scripts/slurm-up.sh` starts it (or finds it
//! running), as root or through sudo. `scripts/setup.sh` installs Slurm and munge.

use std::path::Path;
use std::process::Command;

use super::repo;

/// Starts the cluster unless it answers already; fails the test if it cannot.
pub(crate) fn ensure_running() {
    let output = Command::new("bash").arg(repo().join("scripts/slurm-up.sh")).output().expect("bash runs");
    assert!(
        output.status.success(),
        "the Slurm cluster did not start: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The `--set` arguments of a run on this cluster: one CPU and `memory` per job (two jobs run at once on two
/// cores), logs under `dir/slurm-logs`.
pub(crate) fn settings(dir: &Path, memory: &str) -> Vec<String> {
    let settings = [
        ("runtimes.slurm.cpus_per_task", "1".to_string()),
        ("runtimes.slurm.memory", memory.to_string()),
        ("runtimes.slurm.time_limit", "00:20:00".to_string()),
        ("runtimes.slurm.log_dir", dir.join("slurm-logs").display().to_string()),
    ];
    settings.into_iter().flat_map(|(key, value)| ["--set".to_string(), format!("{key}={value}")]).collect()
}

/// The jobs Slurm lists (every state) whose name ends with `suffix`: `(job id, array element, state)`.
pub(crate) fn jobs_named(suffix: &str) -> Vec<(String, Option<String>, String)> {
    let output = Command::new("squeue")
        .args(["--noheader", "--array", "--states=all", "--format=%F|%K|%T|%j"])
        .output()
        .expect("squeue runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.trim().split('|').collect();
            let [job, element, state, name] = fields[..] else { return None };
            let element = (element != "N/A").then(|| element.to_string());
            name.ends_with(suffix).then(|| (job.to_string(), element, state.to_string()))
        })
        .collect()
}
