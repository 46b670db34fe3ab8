//! Configuration files, parameter files and options from a careless or hostile user, through the binary: each is a
//! prompt one-line error naming the file (or option) and the key, or a capped setting with a one-line warning;
//! never a hang, a blow-up or a panic.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{assert_one_line_error, downscale, isolated, repo, sample};

const TAS_EXAMPLE: &str =
    "examples/iberia/bcsd/bcsd_E-OBS_CNRM-CM5_r1i1p1_rcp85_tas_35_45_-10_5_1983_2002_2081_2100.json";

/// Runs `command`, failing the test instead of hanging when it does not finish in `limit`.
fn within(mut command: Command, limit: Duration) -> Output {
    let mut child = command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn fifos_and_devices_as_config_or_parameter_files_are_refused_at_once() {
    let home = tempfile::tempdir().unwrap();
    let fifo = home.path().join("fifo");
    mkfifo(&fifo);
    let quick = Duration::from_secs(10);
    let mut command = isolated(home.path());
    command.args(["config", "show", "--config"]).arg(&fifo);
    let output = within(command, quick);
    assert_one_line_error(&output, &[&format!("config file {}", fifo.display()), "found a named pipe (FIFO)"]);
    let mut command = isolated(home.path());
    command.args(["config", "show", "--config", "/dev/zero"]);
    assert_one_line_error(&within(command, quick), &["config file /dev/zero", "found a character device"]);
    for path in [fifo.as_path(), Path::new("/dev/zero"), home.path()] {
        let mut command = isolated(home.path());
        command.args(["params", "validate", "--no-data"]).arg(path);
        let output = within(command, quick);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        let first = stderr(&output).lines().next().unwrap_or_default().to_owned();
        assert!(first.starts_with(&format!("error: {}: expected a parameter file (a regular file)", path.display())));
    }
}

#[test]
fn deeply_nested_yaml_is_refused_at_once() {
    let home = tempfile::tempdir().unwrap();
    let deep = home.path().join("deep.yaml");
    std::fs::write(&deep, format!("runtime: {}", "[".repeat(100_000))).unwrap();
    let mut command = isolated(home.path());
    command.args(["config", "show", "--config"]).arg(&deep);
    let output = within(command, Duration::from_secs(10));
    assert_one_line_error(&output, &[&deep.display().to_string(), "nested more than 64 levels deep at line 1"]);
}

#[test]
fn config_show_prints_a_value_of_70000_characters() {
    let home = tempfile::tempdir().unwrap();
    let long = "x".repeat(70_000);
    let output = isolated(home.path()).args(["config", "show", "--set"]).arg(format!("run_records={long}")).output();
    let output = output.unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    // A relative path from --set is taken from the working directory, the repository's root here.
    let line = format!("run_records = \"{long}\"    # --set; resolves to {}/{long}", repo().display());
    assert!(stdout.lines().any(|l| l == line), "the long line is printed");
}

#[test]
fn a_thread_count_far_above_the_cores_is_capped_with_a_warning() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let set = |key: &str, value: &str| ["--set".to_owned(), format!("{key}={value}")];
    let mut command = isolated(home.path());
    command.args(["run", "--runtime", "ci", "--param-file", TAS_EXAMPLE]);
    for (key, folder) in [("storage.intermediate.uri", "intermediate"), ("storage.results.uri", "results")] {
        command.args(set(key, &dir.path().join(folder).display().to_string()));
    }
    command.args(set("run_records", &dir.path().join("runs.sqlite").display().to_string()));
    command.args(set("runtimes.ci.threads", "5000"));
    let output = within(command, Duration::from_secs(300));
    let text = stderr(&output);
    assert!(output.status.success(), "{text}");
    let warning = format!(
        "warning: `runtimes.ci.threads` = 5000 (from --set) is more than the {cores} cores of this machine; runs use \
         {cores} threads"
    );
    assert!(text.lines().any(|l| l == warning), "{text}");
}

#[test]
fn resource_settings_out_of_range_are_one_line_errors_naming_key_and_source() {
    let home = tempfile::tempdir().unwrap();
    let output = isolated(home.path()).args(["config", "show", "--set", "runtimes.local.memory_limit=1kB"]).output();
    assert_one_line_error(&output.unwrap(), &["--set runtimes.local.memory_limit=1kB", "at least 128 MiB"]);
    let output =
        isolated(home.path()).args(["config", "show"]).env("DOWNSCALE_RUNTIMES__DASK__N_WORKERS", "0").output();
    assert_one_line_error(&output.unwrap(), &["DOWNSCALE_RUNTIMES__DASK__N_WORKERS=0", "expected 1 or more"]);
}

#[test]
fn parameter_values_with_control_characters_stay_on_their_line() {
    let home = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join(TAS_EXAMPLE)).unwrap();
    let path = home.path().join("p.json");
    std::fs::write(&path, text.replace("\"r1i1p1\"", "\"r1\\nINJECTED LINE\\u001b[2J\"")).unwrap();
    let output = isolated(home.path()).args(["params", "validate", "--no-data"]).arg(&path).output().unwrap();
    let text = stderr(&output);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with(&format!("error: {}: key `member`: ", path.display())), "{text}");
    assert!(lines[0].ends_with("found `r1\\nINJECTED LINE\\u{1b}[2J`"), "{text}");
}

#[test]
fn a_run_id_too_long_for_a_folder_is_refused_by_validate_and_run() {
    let home = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join(TAS_EXAMPLE)).unwrap();
    let path = home.path().join("p.json");
    std::fs::write(&path, text.replace("\"E-OBS\"", &format!("\"{}\"", "E".repeat(300)))).unwrap();
    let output = isolated(home.path()).args(["params", "validate", "--no-data"]).arg(&path).output().unwrap();
    let first = stderr(&output).lines().next().unwrap_or_default().to_owned();
    assert!(first.starts_with(&format!("error: {}: key `obs`: makes the run id", path.display())), "{first}");
    assert!(first.ends_with("at most 250 bytes"), "{first}");
    let mut command = isolated(home.path());
    command.args(["run", "--runtime", "ci", "--param-file"]).arg(&path);
    for (key, name) in [("storage.intermediate.uri", "i"), ("storage.results.uri", "r"), ("run_records", "r.sqlite")] {
        command.arg("--set").arg(format!("{key}={}", home.path().join(name).display()));
    }
    let output = command.output().unwrap();
    assert_one_line_error(&output, &[&path.display().to_string(), "key `obs`", "at most 250 bytes"]);
}

#[test]
fn an_adjust_window_beyond_a_year_is_refused_before_reading_data() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.nc");
    let mut command = downscale();
    command
        .args(["adjust", "--method", "qdm", "--var", "tasmax", "--ref", &sample("stations_sdba/nrcan_1950-2013.nc")])
        .args(["--hist", &sample("stations_sdba/CanESM2_1950-2100.nc")])
        .args(["--sim", &sample("stations_sdba/CanESM2_1950-2100.nc")])
        .args(["--train", "1981", "2010", "--predict", "2041", "2070", "--group", "dayofyear", "--window", "100000"])
        .arg("--out")
        .arg(&out);
    let output = within(command, Duration::from_secs(10));
    assert_one_line_error(
        &output,
        &["--window: expected a day-of-year window of 1 to 366 days (a year), found 100000"],
    );
    for (option, value, expected) in [
        ("--window", "0", "--window: expected a day-of-year window of 1 to 366"),
        ("--nquantiles", "1000000000", "--nquantiles: expected 1 to 10000 nodes"),
    ] {
        let mut command = downscale();
        command
            .args([
                "adjust",
                "--method",
                "eqm",
                "--var",
                "tasmax",
                "--ref",
                &sample("stations_sdba/nrcan_1950-2013.nc"),
            ])
            .args(["--hist", &sample("stations_sdba/CanESM2_1950-2100.nc")])
            .args(["--sim", &sample("stations_sdba/CanESM2_1950-2100.nc")])
            .args(["--train", "1981", "2010", "--predict", "2041", "2070", "--group", "dayofyear", option, value])
            .arg("--out")
            .arg(&out);
        assert_one_line_error(&within(command, Duration::from_secs(10)), &[expected]);
    }
    assert!(!out.exists());
}
