//! Every way a command fails ends in one line on stderr: `error: `, the file or setting at fault, what was expected,
//! each cause once, and nothing a terminal would act on (a line break, an escape sequence from a file or argument).

mod common;

use std::path::Path;
use std::process::Output;

use common::{copy_tree, downscale, sample};

/// `output` failed with exactly one `error: ` line, saying `expected`, free of control characters, in which no `: `-separated
/// segment repeats the one before it, at its start or end (a cause said twice, as in `tas.nc: tas.nc: cannot read`,
/// `data_catalog.model cmip.json: cmip.json: ...` or `cmip.json: cannot read cmip.json: ...`).
fn assert_one_error_line(case: &str, output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{case}: should fail: {stderr}");
    assert!(!stderr.contains("panicked"), "{case}: panic: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|line| line.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{case}: one error line expected: {stderr}");
    assert!(!stderr.lines().any(|line| line.chars().any(char::is_control)), "{case}: control characters: {stderr:?}");
    assert!(errors[0].contains(expected), "{case}: '{expected}' missing from: {}", errors[0]);
    let segments: Vec<&str> = errors[0].split(": ").collect();
    for pair in segments.windows(2) {
        let repeated = pair[0].ends_with(pair[1]) || pair[1].ends_with(pair[0]);
        assert!(!repeated, "{case}: a cause said twice: {}", errors[0]);
    }
}

fn args(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The first `bytes` bytes of the sample file `relative`, written into `dir` as `name`.
fn cut_copy(dir: &Path, relative: &str, name: &str, bytes: usize) -> String {
    let path = dir.join(name);
    std::fs::write(&path, &std::fs::read(sample(relative)).unwrap()[..bytes]).unwrap();
    path.to_string_lossy().into_owned()
}

/// A copy of the sample Zarr store whose first chunk of `tas` is `bytes` (or missing, for `None`).
fn altered_store(dir: &Path, name: &str, bytes: Option<&[u8]>) -> String {
    let store = dir.join(name);
    let source = Path::new(&sample("zarr/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.zarr")).to_path_buf();
    copy_tree(&source, &store);
    match bytes {
        Some(bytes) => std::fs::write(store.join("tas/1.0.0"), bytes).unwrap(),
        None => std::fs::remove_file(store.join("tas/1.0.0")).unwrap(),
    }
    store.to_string_lossy().into_owned()
}

#[test]
fn every_failure_is_one_error_line_saying_each_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let out = path("out.zarr");
    let gcm = sample("nunavut_climdown/tiny_gcm.nc");
    let (nrcan, canesm) = (sample("stations_sdba/nrcan_1950-2013.nc"), sample("stations_sdba/CanESM2_1950-2100.nc"));
    let classic_cut = cut_copy(dir.path(), "nunavut_climdown/tiny_gcm.nc", "classic_cut.nc", 3000);
    let hdf5_cut = cut_copy(dir.path(), "nunavut_climdown/tiny_obs.nc", "hdf5_cut.nc", 5000);
    let folder = path("folder");
    std::fs::create_dir(&folder).unwrap();
    let others = path("others");
    std::fs::create_dir(&others).unwrap();
    std::fs::write(dir.path().join("others/notes.txt"), "mine").unwrap();
    let broken_metadata = path("broken.zarr");
    std::fs::create_dir(&broken_metadata).unwrap();
    std::fs::write(dir.path().join("broken.zarr/zarr.json"), "{\"zarr_format\": 3,\n").unwrap();
    let damaged_chunk = altered_store(dir.path(), "damaged_chunk.zarr", Some(b"not blosc at all"));
    let missing_chunk = altered_store(dir.path(), "missing_chunk.zarr", None);
    let not_json = path("not_json.json");
    std::fs::write(&not_json, "method: bcsd").unwrap();
    let many_problems = path("many_problems.json");
    std::fs::write(&many_problems, r#"{"method": "nope", "obs": 5}"#).unwrap();
    let catalog = |name: &str| format!("{}/../../data/catalog/{name}", env!("CARGO_MANIFEST_DIR"));
    let (records, results) =
        (format!("run_records={}", path("runs.sqlite")), format!("storage.results.uri={}", path("results")));
    let intermediate = format!("storage.intermediate.uri={}", path("intermediate"));
    let obs_catalog = format!("data_catalog.obs={}", catalog("obs.json"));
    let shipped = format!("data_catalog.model={}", catalog("cmip.json"));
    let settings = |model: &str| -> Vec<String> {
        [model, &obs_catalog, &records, &intermediate, &results]
            .iter()
            .flat_map(|s| ["--set".to_string(), s.to_string()])
            .collect()
    };
    let adjusted = path("adjusted.nc");
    let adjust = |reference: &str, first: &str, last: &str| -> Vec<String> {
        ["adjust", "--method", "eqm", "--var", "tasmax", "--ref", reference, "--hist", &canesm, "--sim", &canesm]
            .into_iter()
            .chain(["--train", first, last, "--predict", "2041", "2070", "--out", &adjusted])
            .map(String::from)
            .collect()
    };
    let regridded = path("r.nc");
    let regrid = ["regrid", "--in", &gcm, "--grid-like", &not_json, "--method", "bilinear", "--out", &regridded];

    // What fails, the arguments, and a part of the line it must give.
    let cases: Vec<(&str, Vec<String>, &str)> = vec![
        ("a missing file", args(&["inspect", "/no/such/file.nc"]), "/no/such/file.nc: file not found"),
        (
            "an unknown option",
            args(&["convert", "--in", &gcm, "--bogus"]),
            "unexpected argument '--bogus' found (see downscale convert --help)",
        ),
        (
            "a missing required option",
            args(&["adjust", "--method", "eqm"]),
            "the following required arguments were not provided: --var <VAR>",
        ),
        ("a text file", args(&["inspect", &sample("README.md")]), "README.md: not a NetCDF or Zarr dataset"),
        (
            "a directory as input",
            args(&["inspect", &folder]),
            "folder: not a NetCDF or Zarr dataset (a folder without zarr.json",
        ),
        ("a cut-short classic file", args(&["inspect", &classic_cut]), "classic_cut.nc: damaged or incomplete file"),
        ("a cut-short NetCDF-4 file", args(&["inspect", &hdf5_cut]), "hdf5_cut.nc: damaged or incomplete file"),
        (
            "a missing variable",
            args(&["convert", "--in", &gcm, "--var", "tsamax", "--out", &out]),
            "tiny_gcm.nc: variable 'tsamax' not found",
        ),
        (
            "a variable name with a line break and an escape sequence",
            args(&["convert", "--in", &gcm, "--var", "tas\nmax\u{1b}[31m", "--out", &out]),
            "variable 'tas max\\u{1b}[31m' not found",
        ),
        (
            "an output over a folder of other files",
            args(&["convert", "--in", &gcm, "--var", "tasmax", "--out", &others]),
            "others: cannot write: a folder that is not a Zarr store",
        ),
        ("a Zarr store with broken metadata", args(&["inspect", &broken_metadata]), "broken.zarr: cannot read"),
        (
            "a Zarr store with a damaged chunk",
            args(&["convert", "--in", &damaged_chunk, "--var", "tas", "--out", &out]),
            "damaged_chunk.zarr: variable 'tas': cannot read values",
        ),
        ("a Zarr store with a missing chunk", args(&["validate", &missing_chunk]), "missing_chunk.zarr: incomplete"),
        ("a target grid that is no dataset", args(&regrid), "not_json.json: not a NetCDF or Zarr dataset"),
        ("training years outside the data", adjust(&nrcan, "1930", "2020"), "years 1930-2020 are outside the data"),
        ("a damaged reference", adjust(&hdf5_cut, "1981", "2010"), "hdf5_cut.nc: damaged or incomplete file"),
        (
            "a memory limit too small",
            args(&["config", "show", "--set", "runtimes.local.memory_limit=1kB"]),
            "memory_limit=1kB: a run's memory limit must be at least 128 MiB",
        ),
        (
            "a --set value with control characters",
            args(&["config", "show", "--set", "run_options.use_cache=\u{1b}[31m\nyes"]),
            "use_cache=\\u{1b}[31m\\nyes: expected a boolean",
        ),
        ("a directory as configuration file", args(&["config", "show", "--config", &folder]), "found a directory"),
        (
            "a parameter file that is not JSON",
            [args(&["params", "validate", &not_json]), settings(&shipped)].concat(),
            "not_json.json: not valid JSON",
        ),
        (
            "a missing parameter file",
            [args(&["run", "--param-file", "/no/such/run.json"]), settings(&shipped)].concat(),
            "/no/such/run.json: cannot read the file",
        ),
        (
            "a parameter file with many problems",
            [args(&["run", "--param-file", &many_problems]), settings(&shipped)].concat(),
            "many_problems.json: key `method`: unknown method `nope`",
        ),
        (
            "a missing model catalog",
            [args(&["run", "--param-file", &many_problems]), settings("data_catalog.model=/no/such/cmip.json")]
                .concat(),
            "data_catalog.model: cannot read /no/such/cmip.json (from --set): No such file",
        ),
        ("an unknown run", [args(&["runs", "show", "999"]), settings(&shipped)].concat(), "no run '999'"),
    ];
    for (case, arguments, expected) in &cases {
        let output = downscale().args(arguments).output().expect("the binary runs");
        assert_one_error_line(case, &output, expected);
    }
    assert!(!Path::new(&out).exists(), "no output from the failed conversions");
}
