//! Configuration from a careless or hostile user: special files, pathological nesting, huge values, control
//! characters and resource settings out of range. Each is a prompt one-line error naming the source and the key,
//! or a capped value with a warning; never a hang, a blow-up or a panic.

use std::time::{Duration, Instant};

use downscale_config::{MAX_DEPTH, ValueOrigin};

use crate::fixture::Fixture;

fn mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn config_files_that_are_not_regular_files_are_refused_before_reading() {
    let mut fixture = Fixture::new();
    let fifo = fixture.path("fifo.yaml");
    mkfifo(&fifo);
    fixture.config_file(&fifo);
    let text = fixture.error().to_string();
    assert_eq!(
        text,
        format!(
            "config file {}: expected a YAML configuration file (a regular file), found a named pipe (FIFO)",
            fifo.display()
        )
    );
    for (path, found) in [("/dev/zero", "a character device"), ("/tmp", "a directory")] {
        let mut fixture = Fixture::new();
        fixture.config_file(std::path::Path::new(path));
        let text = fixture.error().to_string();
        assert!(text.starts_with(&format!("config file {path}: expected")) && text.ends_with(found), "{text}");
    }
}

#[test]
fn deep_yaml_nesting_is_refused_at_once_naming_the_file_and_depth() {
    let mut fixture = Fixture::new();
    let path = fixture.write("deep.yaml", &format!("runtimes:\n  slurm:\n    extra_args: {}\n", "[".repeat(100_000)));
    fixture.config_file(&path);
    let started = Instant::now();
    let text = fixture.error().to_string();
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    assert_eq!(
        text,
        format!(
            "config file {}: nested more than {MAX_DEPTH} levels deep at line 3; configuration needs a few levels",
            path.display()
        )
    );
    let mut fixture = Fixture::new();
    fixture.set(&format!("runtimes.slurm.extra_args={}", "[".repeat(100_000)));
    let text = fixture.error().to_string();
    assert!(text.contains("nested more than 64 levels deep"), "{text}");
    assert!(text.len() < 300, "the value is shortened in the message: {} bytes", text.len());
}

#[test]
fn show_text_prints_a_value_of_70000_characters() {
    let mut fixture = Fixture::new();
    let long = "x".repeat(70_000);
    fixture.set(&format!("storage.results.uri={long}"));
    let text = fixture.load().show_text();
    let line = text.lines().find(|l| l.starts_with("storage.results.uri = ")).expect("the long line");
    let here = std::env::current_dir().unwrap();
    assert_eq!(line, format!("storage.results.uri = \"{long}\"    # --set; resolves to {}/{long}", here.display()));
    // The other lines keep their comments in one column, not 70,000 characters to the right.
    let columns: Vec<usize> = text.lines().filter(|l| l.len() < 200).filter_map(|l| l.find("    # ")).collect();
    assert!(columns.windows(2).all(|w| w[0] == w[1]) && columns[0] < 100, "{text}");
}

#[test]
fn control_characters_in_values_are_escaped_in_messages() {
    let mut fixture = Fixture::new();
    fixture.set("runtime=local\n\u{1b}[31mINJECTED");
    let text = fixture.error().to_string();
    assert!(!text.chars().any(char::is_control), "{text:?}");
    assert!(text.starts_with("--set runtime=local\\n\\u{1b}[31mINJECTED"), "{text}");
}

#[test]
fn thread_counts_above_the_cores_are_capped_with_a_warning_naming_key_and_source() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut fixture = Fixture::new();
    fixture.set("runtimes.ci.threads=5000");
    let config = fixture.load();
    assert_eq!(config.settings().runtimes.ci.worker_threads(cores), cores);
    assert_eq!(
        config.warnings(),
        [format!(
            "`runtimes.ci.threads` = 5000 (from --set) is more than the {cores} cores of this machine; runs use \
             {cores} threads"
        )]
    );
    // 0 is one per core, as the default of `local` says; neither warns.
    let config = Fixture::new().load();
    assert_eq!(config.settings().runtimes.local.worker_threads(cores), cores);
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());
    let mut fixture = Fixture::new();
    fixture.env("DOWNSCALE_RUNTIMES__LOCAL__THREADS", "-2");
    let text = fixture.error().to_string();
    assert!(text.starts_with("environment DOWNSCALE_RUNTIMES__LOCAL__THREADS=-2: expected a non-negative"), "{text}");
}

#[test]
fn resource_settings_out_of_range_name_the_key_and_source() {
    let mut fixture = Fixture::new();
    fixture.set("runtimes.ci.memory_limit=1MiB");
    assert_eq!(
        fixture.error().to_string(),
        "--set runtimes.ci.memory_limit=1MiB: a run's memory limit must be at least 128 MiB (the process alone takes \
         about 100 MB), found 1048576 bytes"
    );
    let fixture = Fixture::new();
    let path = fixture.write("user/dask.yaml", "runtimes:\n  dask:\n    n_workers: 0\n");
    assert_eq!(
        fixture.error().to_string(),
        format!("config file {}: `runtimes.dask.n_workers`: expected 1 or more, found 0", path.display())
    );
    let mut fixture = Fixture::new();
    fixture.env("DOWNSCALE_RUNTIMES__SLURM__CPUS_PER_TASK", "0");
    assert!(fixture.error().to_string().ends_with("CPUS_PER_TASK=0: expected 1 or more, found 0"));
    // A share of RAM is a form, not a size: accepted as before.
    let mut fixture = Fixture::new();
    fixture.set("runtimes.local.memory_limit=1%");
    assert_eq!(fixture.load().get("runtimes.local.memory_limit").map(|e| &e.source), Some(&ValueOrigin::Set));
}
