//! Helpers shared by the binary's integration tests.

#![allow(dead_code, reason = "each test binary uses only some of the helpers")]

pub(crate) mod browser;
pub(crate) mod case;
pub(crate) mod dashboard;
pub(crate) mod emulators;
pub(crate) mod skill;
pub(crate) mod slurm;

use std::path::PathBuf;
use std::process::{Command, Output};

/// The binary, with HDF5 file locking off: test processes write NetCDF4 files while other tests spawn children,
/// and a child can inherit (and keep) the HDF5 library's lock on a file the test process already closed.
pub(crate) fn downscale() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_downscale"));
    command.env("HDF5_USE_FILE_LOCKING", "FALSE");
    command
}

/// The repository's root folder.
pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The binary run from the repository root with no configuration of this machine or user in the way.
pub(crate) fn isolated(config_home: &std::path::Path) -> Command {
    let mut command = downscale();
    command.current_dir(repo()).env("XDG_CONFIG_HOME", config_home);
    for (name, _) in std::env::vars() {
        if name.starts_with("DOWNSCALE_") {
            command.env_remove(name);
        }
    }
    command
}

/// The binary run from the folder `dir`, as a user runs it from a folder of their own, with no configuration of
/// this machine or user in the way.
pub(crate) fn isolated_in(config_home: &std::path::Path, dir: &std::path::Path) -> Command {
    let mut command = isolated(config_home);
    command.current_dir(dir);
    command
}

/// A file of the sample data shipped in `data/samples`.
pub(crate) fn sample(relative: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/samples").join(relative).to_string_lossy().to_string()
}

/// Runs the binary with `args`, failing the test if it takes longer than a minute (a hang) or dies of a signal.
pub(crate) fn bounded(args: &[&str]) -> Output {
    let started = std::time::Instant::now();
    let mut child = downscale()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    while child.try_wait().expect("the child can be waited for").is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            panic!("downscale {} did not return within a minute", args.join(" "));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("the child's output is collected");
    assert!(output.status.code().is_some(), "downscale {} died of a signal: {:?}", args.join(" "), output.status);
    output
}

/// Every file below `dir` (relative path) with its content, and every folder (as an entry without content): what a
/// test compares before and after a command to show the command left the folder as it was.
pub(crate) fn snapshot(dir: &std::path::Path) -> std::collections::BTreeMap<String, Option<Vec<u8>>> {
    let mut entries = std::collections::BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(dir).unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                entries.insert(relative, None);
                pending.push(path);
            } else {
                entries.insert(relative, Some(std::fs::read(&path).unwrap()));
            }
        }
    }
    entries
}

/// Copies the folder `from` (a Zarr store) to `to`, recursively.
pub(crate) fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

pub(crate) fn run(args: &[&str]) -> Output {
    downscale().args(args).output().expect("the binary runs")
}

/// A failure is one line on stderr, starting with `error:` and containing every piece of `what`; never a panic.
pub(crate) fn assert_one_line_error(output: &Output, what: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "should fail: {stderr}");
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected, got: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    for w in what {
        assert!(lines[0].contains(w), "'{w}' missing from: {stderr}");
    }
}

/// What to change in a copy of the first days of a real `(time, lat, lon)` sample file.
pub(crate) struct Altered<'a> {
    /// Sample file and its variable.
    pub file: &'a str,
    pub var: &'a str,
    pub days: usize,
    /// The variable's `units` and the time axis' `calendar` in the copy.
    pub units: &'a str,
    pub calendar: &'a str,
    /// Two latitude rows whose coordinate values trade places (a non-monotonic grid).
    pub swap_latitudes: Option<(usize, usize)>,
}

/// Writes a small NetCDF file with real values and one thing wrong, returning its path. (Written afresh because the
/// sample files are in the classic data model, where attributes cannot be enlarged in place.)
pub(crate) fn altered_copy(dir: &std::path::Path, name: &str, spec: &Altered) -> String {
    let source = netcdf::open(sample(spec.file)).unwrap();
    let path = dir.join(name);
    let mut file = netcdf::create(&path).unwrap();
    let mut lat = source.variable("lat").unwrap().get_values::<f64, _>(..).unwrap();
    let lon = source.variable("lon").unwrap().get_values::<f64, _>(..).unwrap();
    if let Some((a, b)) = spec.swap_latitudes {
        lat.swap(a, b);
    }
    for (dim, len) in [("time", spec.days), ("lat", lat.len()), ("lon", lon.len())] {
        file.add_dimension(dim, len).unwrap();
    }
    for (dim, values, units) in [("lat", lat, "degrees_north"), ("lon", lon, "degrees_east")] {
        let mut var = file.add_variable::<f64>(dim, &[dim]).unwrap();
        var.put_attribute("units", units).unwrap();
        var.put_values(&values, ..).unwrap();
    }
    let times = source.variable("time").unwrap().get_values::<f64, _>(..spec.days).unwrap();
    let time_units = source.variable("time").unwrap().attribute_value("units").unwrap().unwrap();
    let mut time = file.add_variable::<f64>("time", &["time"]).unwrap();
    time.put_attribute("units", String::try_from(time_units).unwrap()).unwrap();
    time.put_attribute("calendar", spec.calendar).unwrap();
    time.put_values(&times, ..).unwrap();
    let values = source.variable(spec.var).unwrap().get_values::<f32, _>((..spec.days, .., ..)).unwrap();
    let mut var = file.add_variable::<f32>(spec.var, &["time", "lat", "lon"]).unwrap();
    var.put_attribute("units", spec.units).unwrap();
    var.put_values(&values, ..).unwrap();
    path.to_string_lossy().to_string()
}

/// The `--set` arguments that put a run's cache, results and records under `dir` (results in `dir/<results>`) and
/// read the repository's shipped catalogs.
pub(crate) fn shipped_catalog_settings(dir: &std::path::Path, results: &str) -> Vec<String> {
    let settings = [
        ("storage.intermediate.uri", dir.join("intermediate")),
        ("storage.results.uri", dir.join(results)),
        ("run_records", dir.join("runs.sqlite")),
        ("data_catalog.model", repo().join("data/catalog/cmip.json")),
        ("data_catalog.obs", repo().join("data/catalog/obs.json")),
    ];
    settings.into_iter().flat_map(|(key, value)| ["--set".to_string(), format!("{key}={}", value.display())]).collect()
}

/// `downscale run` of `param_file` with the shipped catalogs, its cache and run records under `dir` and its results
/// under `dir/<results>`, with `extra` arguments; fails the test if the run fails, and returns the run's manifest.
pub(crate) fn run_with_shipped_catalogs(
    dir: &std::path::Path,
    results: &str,
    param_file: &std::path::Path,
    extra: &[&str],
) -> serde_json::Value {
    let output = downscale()
        .arg("run")
        .arg("--param-file")
        .arg(param_file)
        .args(shipped_catalog_settings(dir, results))
        .args(extra)
        .output()
        .expect("the binary runs");
    assert!(output.status.success(), "{}: {}", param_file.display(), String::from_utf8_lossy(&output.stderr));
    let manifest_path = String::from_utf8_lossy(&output.stdout).lines().last().unwrap_or_default().to_string();
    serde_json::from_slice(&std::fs::read(manifest_path).expect("the manifest is written")).expect("a JSON manifest")
}

/// `downscale run --runtime runtime` of `param_file` with the shipped catalogs, its cache, records and results (in
/// `dir/results`) under `dir`; more arguments may follow.
pub(crate) fn run_with_shipped_catalogs_on(
    runtime: &str,
    dir: &std::path::Path,
    param_file: &std::path::Path,
) -> Command {
    let mut command = downscale();
    command.args(["run", "--runtime", runtime, "--param-file"]).arg(param_file);
    command.args(shipped_catalog_settings(dir, "results"));
    command
}

/// The manifest of a `downscale run` that must have succeeded (its path is the last line of its stdout).
pub(crate) fn manifest_of_run(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let path = String::from_utf8_lossy(&output.stdout).lines().last().unwrap_or_default().to_string();
    serde_json::from_slice(&std::fs::read(path).expect("the manifest is written")).expect("a JSON manifest")
}

/// The digest of a BCSD run's daily, monthly and annual stores of `variable` (shape and the float32 bits of every
/// value), from its manifest.
pub(crate) fn digest_of_outputs(manifest: &serde_json::Value, variable: &str) -> String {
    use blake2::{Blake2s256, Digest};
    let mut hasher = Blake2s256::new();
    for dataset in ["daily", "monthly", "annual"] {
        let location = manifest["datasets"][dataset].as_str().expect("the manifest names the dataset");
        let array = downscale_data::read_variable(location, variable).expect("a published store reads");
        for &length in array.shape() {
            hasher.update((length as u64).to_le_bytes());
        }
        for value in &array.data {
            hasher.update(value.to_bits().to_le_bytes());
        }
    }
    format!("{:x}", hasher.finalize())
}

/// The repository's Iberia BCSD example of `variable` (rcp85 winters 2081-2100 trained on 1983-2002).
pub(crate) fn iberia_example(variable: &str) -> PathBuf {
    repo().join(format!(
        "examples/iberia/bcsd/bcsd_E-OBS_CNRM-CM5_r1i1p1_rcp85_{variable}_35_45_-10_5_1983_2002_2081_2100.json"
    ))
}

/// `(variable, digest)` of the Iberia examples' outputs with the default BCSD (quantile delta mapping per month), as
/// recorded before the engine ran tasks concurrently and in other processes: every way of running them must give
/// these.
pub(crate) const BCSD_DEFAULT_DIGESTS: [(&str, &str); 2] = [
    ("tas", "e74a2ac85b77f7ecc464a39dd0189feb42465b9e82914e58b96e1937d845552c"),
    ("pr", "937df70cefe97cdda5c8557c1c4765b4141d0648bb10759dc184391644c16384"),
];

/// A model catalog in `dir` whose future file is damaged (cut to its first kilobytes), so reading it fails.
pub(crate) fn damaged_model_catalog(dir: &std::path::Path) -> PathBuf {
    let damaged = dir.join("tas_rcp85_damaged.nc");
    let original =
        std::fs::read(sample("iberia/gcm_CNRM-CM5/tas_day_CNRM-CM5_rcp85_r1i1p1_iberia_DJF_20801201-21000228.nc"))
            .unwrap();
    std::fs::write(&damaged, &original[..4096]).unwrap();
    let catalog_dir = repo().join("data/catalog");
    let csv = std::fs::read_to_string(catalog_dir.join("cmip.csv")).unwrap();
    let csv: String = csv
        .lines()
        .map(|line| {
            let (fields, path) = line.rsplit_once(',').unwrap();
            if path == "path" {
                line.to_string()
            } else if path.contains("tas_day_CNRM-CM5_rcp85") {
                format!("{fields},{}", damaged.display())
            } else {
                format!("{fields},{}", catalog_dir.join(path).display())
            }
        })
        .map(|line| line + "\n")
        .collect();
    std::fs::write(dir.join("cmip.csv"), csv).unwrap();
    std::fs::copy(catalog_dir.join("cmip.json"), dir.join("cmip.json")).unwrap();
    dir.join("cmip.json")
}

/// The Python with numpy, scipy, xarray, zarr, xclim and intake-esm (`scripts/setup.sh` makes `.venv-evaluate`), or
/// `$DOWNSCALE_EVALUATE_PYTHON`.
pub(crate) fn evaluate_python() -> PathBuf {
    std::env::var_os("DOWNSCALE_EVALUATE_PYTHON")
        .map_or_else(|| repo().join(".venv-evaluate/bin/python"), PathBuf::from)
}

/// The Iberia BCSD example of `variable` for `scenario` (historical: the training winters; rcp85: 2081–2100).
pub(crate) fn bcsd_example(variable: &str, scenario: &str) -> PathBuf {
    let predicted = if scenario == "historical" { "1983_2002" } else { "2081_2100" };
    repo().join(format!(
        "examples/iberia/bcsd/bcsd_E-OBS_CNRM-CM5_r1i1p1_{scenario}_{variable}_35_45_-10_5_1983_2002_{predicted}.json"
    ))
}

/// The manifest file of the last successful run of `manifest`'s run id under `dir/results`.
pub(crate) fn manifest_file(dir: &std::path::Path, manifest: &serde_json::Value) -> PathBuf {
    dir.join("results/runs").join(manifest["run_id"].as_str().unwrap()).join("latest.json")
}
