//! Mutated real inputs through the real binary: a NetCDF-3 file, a NetCDF-4 file, a Zarr v2 store and a Zarr v3
//! store, damaged at random (bytes of the files; JSON metadata and chunks of the stores), each given to `inspect`,
//! `convert` and, for stores, `validate`, as separate processes so that a signal or a hang is seen. Every run must
//! end by itself with 0 or a one-line error, touch nothing but its output, and refuse what is certainly damaged.
//!
//! Bounded in time for CI: `DOWNSCALE_FUZZ_SECONDS` (default 60) of mutants, drawn from `DOWNSCALE_FUZZ_SEED`
//! (default fixed, so a failure is seen again on the next run); `DOWNSCALE_FUZZ_KINDS` (e.g. `netcdf3,netcdf4`)
//! spends the time on some input kinds only. Each failing mutant is saved with a README under
//! `<target>/fuzz-failures/`; the counts of mutants and runs per input kind are printed and written to
//! `<target>/fuzz-summary.txt`.

#[path = "../common/mod.rs"]
mod common;
mod harness;
mod inputs;
mod mutate_file;
mod mutate_store;
mod regressions;
mod run;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use harness::{Mutant, draw, exercise, save_reproducer};
use inputs::{Input, Kind};

const DEFAULT_SECONDS: u64 = 60;
const DEFAULT_SEED: u64 = 20_250_601;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value.parse().unwrap_or_else(|_| panic!("{name}={value} is not a whole number")),
        Err(_) => default,
    }
}

/// The build's target folder (the parent of the integration tests' scratch folder), where reports are kept.
fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().expect("the target folder").to_path_buf()
}

/// Failures of one class: the same kind of input, command, mutation and symptom.
#[derive(Default)]
struct Class {
    mutants: usize,
    /// The first reproducer's command line (on the saved mutant) and what went wrong.
    example: String,
}

#[test]
fn mutated_inputs_never_crash_hang_or_touch_other_files() {
    let seconds = env_u64("DOWNSCALE_FUZZ_SECONDS", DEFAULT_SECONDS);
    let seed = env_u64("DOWNSCALE_FUZZ_SEED", DEFAULT_SEED);
    let scratch = tempfile::tempdir().unwrap();
    let kinds = std::env::var("DOWNSCALE_FUZZ_KINDS").unwrap_or_default();
    let chosen = |kind: &Kind| kinds.is_empty() || kinds.split(',').any(|k| k.trim() == kind.name());
    let inputs: Vec<Input> =
        Kind::ALL.into_iter().filter(chosen).map(|kind| Input::prepare(kind, scratch.path())).collect();
    assert!(!inputs.is_empty(), "DOWNSCALE_FUZZ_KINDS={kinds} names none of netcdf3, netcdf4, zarr-v2, zarr-v3");
    for input in &inputs {
        // The inputs as they are pass every check, so a failure below comes from the mutation.
        let clean = Mutant { kind: input.kind, seed, index: 0, mutations: Vec::new() };
        let exercised = exercise(input, &clean);
        assert!(exercised.failures.is_empty(), "{}: {:?}", input.path.display(), exercised.failures);
    }
    let failures_root = target_dir().join("fuzz-failures");
    if failures_root.exists() {
        std::fs::remove_dir_all(&failures_root).unwrap();
    }

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tally: BTreeMap<Kind, (usize, usize)> = BTreeMap::new();
    let mut classes: BTreeMap<(Kind, &str, String, &str), Class> = BTreeMap::new();
    let mut index = 0;
    // One mutant of each kind per round, so every kind gets its share of the time.
    while Instant::now() < deadline {
        for input in &inputs {
            let mutant = draw(input, seed, index);
            let exercised = exercise(input, &mutant);
            let counts = tally.entry(input.kind).or_default();
            counts.0 += 1;
            counts.1 += exercised.runs;
            if exercised.failures.is_empty() {
                continue;
            }
            let lines = save_reproducer(input, &mutant, &exercised.failures, &failures_root);
            for (failure, line) in exercised.failures.iter().zip(lines) {
                let key = (input.kind, failure.command, mutant.label(input), failure.symptom.label);
                let class = classes.entry(key).or_default();
                class.mutants += 1;
                if class.example.is_empty() {
                    class.example = format!("{line}\n      {}", failure.symptom.detail);
                }
            }
        }
        index += 1;
    }

    let mut summary = format!("fuzz_inputs: seed {seed}, {seconds} s\n");
    for (kind, (mutants, runs)) in &tally {
        summary.push_str(&format!("  {:<8} {mutants} mutated inputs, {runs} command runs\n", kind.name()));
    }
    let (mutants, runs) = tally.values().fold((0, 0), |(m, r), (a, b)| (m + a, r + b));
    summary.push_str(&format!("  total    {mutants} mutated inputs, {runs} command runs\n"));
    summary.push_str(&format!("  {} failure classes\n", classes.len()));
    eprint!("{summary}");
    std::fs::write(target_dir().join("fuzz-summary.txt"), &summary).unwrap();

    let mut report = String::new();
    for ((kind, command, label, symptom), class) in &classes {
        report.push_str(&format!(
            "\n  {} | {command} | {label} | {symptom} ({} mutants)\n      {}",
            kind.name(),
            class.mutants,
            class.example
        ));
    }
    assert!(
        classes.is_empty(),
        "{} failure classes (reproducers in {}):{report}",
        classes.len(),
        failures_root.display()
    );
}
