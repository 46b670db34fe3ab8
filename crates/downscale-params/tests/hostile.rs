//! Parameter files from a careless or hostile user: special files, oversized or deeply nested files, duplicate
//! keys, a byte order mark, control characters in values, run ids that cannot be folder names, and a wrong grid
//! label. Each gives one-line problems naming the file and the right key, promptly.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use downscale_catalog::Catalog;
use downscale_params::{
    CatalogCoverage, MAX_RUN_ID_BYTES, PARAMETER_FILE_LIMIT, Problems, RunParameters, check_coverage,
};

const EXAMPLE: &str = "examples/iberia/bcsd/bcsd_E-OBS_CNRM-CM5_r1i1p1_rcp85_tas_35_45_-10_5_1983_2002_2081_2100.json";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The example file's text with `"key": "from"` replaced by `"key": to` (raw JSON).
fn example_with(key: &str, from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(workspace().join(EXAMPLE)).unwrap();
    let written = format!("\"{key}\": \"{from}\"");
    assert!(text.contains(&written), "{written}");
    text.replace(&written, &format!("\"{key}\": {to}"))
}

fn problems(text: &str) -> Problems {
    match RunParameters::parse(text, "p.json") {
        Ok(parameters) => panic!("parsed, run id {}", parameters.run_id()),
        Err(problems) => problems,
    }
}

fn lines(problems: &Problems) -> Vec<String> {
    problems.lines().collect()
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

fn read_problem(path: &Path) -> String {
    match RunParameters::read(path) {
        Ok(_) => panic!("{} was read", path.display()),
        Err(problems) => problems.to_string(),
    }
}

#[test]
fn only_regular_files_up_to_the_limit_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.json");
    mkfifo(&fifo);
    assert_eq!(
        read_problem(&fifo),
        format!("{}: expected a parameter file (a regular file), found a named pipe (FIFO)", fifo.display())
    );
    assert!(read_problem(Path::new("/dev/zero")).ends_with("found a character device"));
    assert!(read_problem(dir.path()).ends_with("found a directory"));
    let big = dir.path().join("big.json");
    std::fs::write(&big, " ".repeat(PARAMETER_FILE_LIMIT as usize + 1)).unwrap();
    assert_eq!(read_problem(&big), format!("{}: larger than 1 MiB, the most a parameter file may hold", big.display()));
}

#[test]
fn deep_nesting_is_refused_at_once() {
    let started = Instant::now();
    let text = problems(&"[".repeat(100_000)).to_string();
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    assert!(text.starts_with("p.json: not valid JSON: recursion limit exceeded at line 1"), "{text}");
}

#[test]
fn duplicate_keys_name_the_file_and_the_key() {
    let text = example_with("member", "r1i1p1", "\"r1i1p1\",\n  \"member\": \"r2i1p1\"");
    assert_eq!(
        lines(&problems(&text)),
        ["p.json: key `member`: given twice (again at line 6 column 10); JSON keeps only the last: remove one"]
    );
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let text = std::fs::read_to_string(workspace().join(EXAMPLE)).unwrap();
    let parameters = RunParameters::parse(&format!("\u{feff}{text}"), "p.json").unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(parameters.run_id(), "bcsd_E-OBS_CNRM-CM5_r1i1p1_rcp85_tas_35_45_-10_5_1983_2002_2081_2100");
}

#[test]
fn control_characters_from_values_are_escaped() {
    let text = example_with("member", "r1i1p1", "\"r1\\nINJECTED LINE\\u001b[31m\"");
    let shown = problems(&text).to_string();
    assert_eq!(
        shown,
        "p.json: key `member`: expected a CMIP member id like `r1i1p1f1` or `r1i1p1`, found `r1\\nINJECTED \
         LINE\\u{1b}[31m`"
    );
    let text = example_with("obs", "E-OBS", "\"E-OBS\\u001b]0;title\\u0007\"");
    let shown = problems(&text).to_string();
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    assert!(shown.starts_with("p.json: key `obs`: `E-OBS\\u{1b}]0;title\\u{7}` holds `/` or a control character"));
}

#[test]
fn run_ids_that_cannot_be_folder_names_are_refused_naming_the_keys() {
    let long = "M".repeat(300);
    let text = example_with("model", "CNRM-CM5", &format!("\"{long}\""));
    let shown = lines(&problems(&text));
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(shown[0].starts_with("p.json: key `model`: makes the run id 360 bytes long (longest: `model` 300"));
    assert!(shown[0].ends_with(&format!("at most {MAX_RUN_ID_BYTES} bytes")), "{}", shown[0]);
    let text = example_with("model", "CNRM-CM5", "\"CNRM/../../etc\"");
    assert_eq!(
        lines(&problems(&text)),
        ["p.json: key `model`: `CNRM/../../etc` holds `/` or a control character, which the run id (a folder name) \
          cannot hold"]
    );
}

#[test]
fn a_wrong_grid_label_is_blamed_on_grid_label() {
    let catalogs = workspace().join("data/catalog");
    let coverage = CatalogCoverage::new(
        Catalog::open(catalogs.join("cmip.json")).unwrap(),
        Catalog::open(catalogs.join("obs.json")).unwrap(),
    )
    .unwrap();
    let text = example_with("grid_label", "gn", "\"gr\"");
    let parameters = RunParameters::parse(&text, "p.json").unwrap_or_else(|p| panic!("{p}"));
    let found = check_coverage(&parameters, &coverage);
    let keys: Vec<&str> = found.iter().filter_map(|p| p.key.as_deref()).collect();
    assert!(!found.is_empty() && keys.iter().all(|k| *k == "grid_label"), "{found:?}");
    assert!(found[0].message.ends_with("its grid_label values there are gn"), "{}", found[0].message);
    let text = example_with("member", "r1i1p1", "\"r2i1p1\"");
    let parameters = RunParameters::parse(&text, "p.json").unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(check_coverage(&parameters, &coverage)[0].key.as_deref(), Some("member"));
}
