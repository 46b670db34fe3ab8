//! First use away from the repository: a configuration file's relative paths are taken from its folder, and
//! without any configuration a run says in one line how to point at the catalogs.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_one_line_error, isolated_in, repo};

const TAS_RUN: &str = "bcsd_E-OBS_CNRM-CM5_r1i1p1_rcp85_tas_35_45_-10_5_1983_2002_2081_2100";

fn example(name: &str) -> PathBuf {
    repo().join("examples/iberia/bcsd").join(format!("{name}.json"))
}

fn last_line(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).lines().last().unwrap_or_default().to_string()
}

/// A folder as a user sets one up away from the repository: `conf/downscale.yaml` naming the catalogs, outputs and
/// run records by paths relative to itself, copies of the shipped catalogs in `catalog/`, and the sample data they
/// name (`../samples/...`, relative to the catalog) at `samples/`.
fn project_folder(root: &Path) {
    std::fs::create_dir_all(root.join("conf")).unwrap();
    std::fs::create_dir_all(root.join("catalog")).unwrap();
    for name in ["cmip.json", "cmip.csv", "obs.json", "obs.csv"] {
        std::fs::copy(repo().join("data/catalog").join(name), root.join("catalog").join(name)).unwrap();
    }
    std::os::unix::fs::symlink(repo().join("data/samples").canonicalize().unwrap(), root.join("samples")).unwrap();
    std::fs::write(
        root.join("conf/downscale.yaml"),
        "data_catalog:\n  model: ../catalog/cmip.json\n  obs: ../catalog/obs.json\nstorage:\n  intermediate:\n    \
         uri: ../out/intermediate\n  results:\n    uri: ../out/results\n  scratch:\n    uri: ../out/scratch\n\
         run_records: ../out/runs.sqlite\n",
    )
    .unwrap();
}

#[test]
fn a_run_from_any_folder_takes_the_paths_of_its_configuration_file_from_the_file() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let root = root.path().canonicalize().unwrap();
    project_folder(&root);
    // Run from the folder holding `conf/`: from here `../catalog/cmip.json` is not the catalog, so only paths taken
    // from the file's folder find it. The file itself is named relative to the working directory.
    let output = isolated_in(home.path(), &root)
        .args(["run", "--param-file"])
        .arg(example(TAS_RUN))
        .args(["--runtime", "ci", "--config", "conf/downscale.yaml"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let manifest = PathBuf::from(last_line(&output));
    assert!(manifest.starts_with(root.join("out/results/runs").join(TAS_RUN)), "{}", manifest.display());
    for store in ["day", "month", "year"] {
        let name = format!("CMIP5.CNRM-CERFACS.CNRM-CM5.rcp85.r1i1p1.{store}.BCSD.tas.zarr");
        assert!(root.join("out/results").join(TAS_RUN).join(name).is_dir(), "{store}");
    }
    assert!(root.join("out/runs.sqlite").is_file());
    let mut entries: Vec<String> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    entries.sort();
    assert_eq!(entries, ["catalog", "conf", "out", "samples"], "nothing written relative to the working directory");

    // `config show` says which file each relative path names.
    let output =
        isolated_in(home.path(), &root).args(["config", "show", "--config", "conf/downscale.yaml"]).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let line = text.lines().find(|l| l.starts_with("data_catalog.model = ")).unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.starts_with("data_catalog.model = \"../catalog/cmip.json\"")
            && line.ends_with(&format!(
                "# file conf/downscale.yaml; resolves to {}",
                root.join("catalog/cmip.json").display()
            )),
        "{line}"
    );
}

#[test]
fn a_run_from_a_folder_without_configuration_says_in_one_line_how_to_point_at_the_catalogs() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let dir = dir.path().canonicalize().unwrap();
    let output = isolated_in(home.path(), &dir)
        .args(["run", "--param-file"])
        .arg(example(TAS_RUN))
        .args(["--runtime", "ci"])
        .output()
        .unwrap();
    let expected = format!(
        "error: data_catalog.model: cannot read data/catalog/cmip.json (relative to {}; the built-in default): ",
        dir.display()
    );
    assert_one_line_error(
        &output,
        &[
            &expected,
            "; set it with --set data_catalog.model=PATH, the environment variable DOWNSCALE_DATA_CATALOG__MODEL, or a \
             configuration file",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.matches("cmip.json").count(), 1, "the path is said once: {stderr}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "a failed run writes nothing");

    // `params validate` reads the same catalogs and says the same; a catalog named on the command line is named so.
    let params = example(TAS_RUN);
    let output = isolated_in(home.path(), &dir).args(["params", "validate"]).arg(&params).output().unwrap();
    assert_one_line_error(&output, &[&expected, "DOWNSCALE_DATA_CATALOG__MODEL"]);
    let output = isolated_in(home.path(), &dir)
        .args(["params", "validate", "--set", "data_catalog.model=elsewhere/cmip.json"])
        .arg(&params)
        .output()
        .unwrap();
    assert_one_line_error(
        &output,
        &[&format!(
            "error: data_catalog.model: cannot read elsewhere/cmip.json (relative to {}; from --set): ",
            dir.display()
        )],
    );
    assert!(!String::from_utf8_lossy(&output.stderr).contains("set it with"));
}
