//! What publishing may replace, and what a failing command leaves behind: a user's folder, file or another
//! program's store at `--out` is never replaced without `--overwrite` (a folder or file that is not a dataset never
//! is), an output this tool wrote is, and every failure of `convert`, `regrid` and `adjust` leaves the output's
//! folder exactly as it was, including folders it would have created.

mod common;

use std::path::Path;

use common::{assert_one_line_error, copy_tree, downscale, run, sample, snapshot};

const GCM: &str = "nunavut_climdown/tiny_gcm.nc";
const OBS: &str = "nunavut_climdown/tiny_obs.nc";
const ZARR_V2: &str = "zarr/tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.zarr";

fn convert(out: &Path, extra: &[&str]) -> std::process::Output {
    downscale().args(["convert", "--in", &sample(GCM), "--out"]).arg(out).args(extra).output().unwrap()
}

#[test]
fn a_folder_of_user_files_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("d");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("notes.txt"), b"precious").unwrap();
    let before = snapshot(dir.path());
    for extra in [&[][..], &["--overwrite"][..]] {
        let output = convert(&folder, extra);
        assert_one_line_error(&output, &["d:", "not a Zarr store", "notes.txt", "nothing was written"]);
        assert_eq!(snapshot(dir.path()), before);
    }
}

#[test]
fn a_regular_file_is_never_replaced_by_a_store_nor_a_non_netcdf_file_by_a_netcdf_output() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    std::fs::write(&file, b"hello").unwrap();
    let text = dir.path().join("table.nc");
    std::fs::write(&text, b"a,b\n1,2\n").unwrap();
    let before = snapshot(dir.path());
    assert_one_line_error(&convert(&file, &["--overwrite"]), &["f:", "not a Zarr store"]);
    let (gcm, obs) = (sample(GCM), sample(OBS));
    let regrid = |out: &Path, extra: &[&str]| {
        let mut args = vec!["regrid", "--in", gcm.as_str(), "--grid-like", obs.as_str(), "--method", "bilinear"];
        args.extend(["--out", out.to_str().unwrap()]);
        args.extend(extra);
        run(&args)
    };
    assert_one_line_error(&regrid(&text, &["--overwrite"]), &["table.nc:", "not NetCDF"]);
    assert_eq!(snapshot(dir.path()), before);

    // Another program's NetCDF file: replaced only when the user says so.
    let theirs = dir.path().join("theirs.nc");
    std::fs::copy(sample(OBS), &theirs).unwrap();
    assert_one_line_error(&regrid(&theirs, &[]), &["theirs.nc:", "did not write", "--overwrite"]);
    assert_eq!(std::fs::read(&theirs).unwrap(), std::fs::read(sample(OBS)).unwrap());
    let output = regrid(&theirs, &["--overwrite"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    // Now it is ours: a second run replaces it without being told.
    let output = regrid(&theirs, &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn a_store_this_tool_wrote_is_replaced_but_not_once_a_user_file_is_inside() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("x.zarr");
    for _ in 0..2 {
        let output = convert(&store, &[]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    std::fs::write(store.join("analysis.ipynb"), b"{}").unwrap();
    let before = snapshot(dir.path());
    assert_one_line_error(&convert(&store, &[]), &["x.zarr:", "did not write", "--overwrite"]);
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn another_programs_zarr_store_is_replaced_only_with_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("theirs.zarr");
    copy_tree(Path::new(&sample(ZARR_V2)), &store);
    let before = snapshot(dir.path());
    assert_one_line_error(
        &convert(&store, &[]),
        &["theirs.zarr:", "Zarr store this tool did not write", "--overwrite"],
    );
    assert_eq!(snapshot(dir.path()), before);
    let output = convert(&store, &["--overwrite"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let names: Vec<String> = snapshot(dir.path()).into_keys().filter(|k| !k.contains('/')).collect();
    assert_eq!(names, ["theirs.zarr"], "no hidden staging or set-aside folder is left");
    assert!(store.join("zarr.json").is_file() && !store.join(".zgroup").exists());
}

#[test]
fn outputs_named_with_non_ascii_or_url_characters_publish_and_leave_nothing_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["ñ.zarr", "p%q.zarr", "h#x.zarr", "q?x.zarr", "two words.zarr"];
    for name in names {
        let output = convert(&dir.path().join("out").join(name), &[]);
        assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stderr));
        let validated = run(&["validate", dir.path().join("out").join(name).to_str().unwrap()]);
        assert!(validated.status.success(), "{name}: {}", String::from_utf8_lossy(&validated.stdout));
    }
    let mut listed: Vec<String> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    listed.sort();
    let mut expected: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    expected.sort();
    assert_eq!(listed, expected);
}

/// A folder as a user has it: their own file, and an output this tool published there earlier.
fn lived_in_folder(dir: &Path) -> std::path::PathBuf {
    let folder = dir.join("results");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("README"), b"my results").unwrap();
    let output = convert(&folder.join("earlier.zarr"), &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    folder
}

#[test]
fn every_failure_of_convert_regrid_and_adjust_leaves_the_output_folder_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let folder = lived_in_folder(dir.path());
    let before = snapshot(&folder);
    let out = |name: &str| folder.join(name).to_string_lossy().to_string();
    let nested = |name: &str| folder.join("new/deeper").join(name).to_string_lossy().to_string();
    let damaged = dir.path().join("damaged.nc");
    std::fs::write(&damaged, &std::fs::read(sample(GCM)).unwrap()[..2000]).unwrap();
    let damaged = damaged.to_string_lossy().to_string();
    let (gcm, obs) = (sample(GCM), sample(OBS));

    let failures: Vec<(&str, Vec<String>)> = vec![
        ("convert, unknown variable", vec!["convert", "--in", &gcm, "--var", "nope", "--out", &out("a.zarr")]),
        ("convert, damaged input", vec!["convert", "--in", &damaged, "--out", &nested("a.zarr")]),
        (
            "convert, onto the earlier store's array",
            vec!["convert", "--in", &gcm, "--out", &out("earlier.zarr/tasmax")],
        ),
        (
            "regrid, grid without coordinates",
            vec!["regrid", "--in", &gcm, "--grid-like", &sample("stations_sdba/ahccd_1950-2013.nc")]
                .into_iter()
                .chain(["--grid-var", "pr", "--method", "bilinear", "--out", &nested("r.nc")])
                .collect(),
        ),
        (
            "regrid, damaged input",
            vec!["regrid", "--in", &damaged, "--grid-like", &obs, "--method", "nearest", "--out", &out("r.zarr")],
        ),
        (
            "adjust, years outside the data",
            vec!["adjust", "--method", "eqm", "--var", "tasmax", "--ref", &obs, "--hist", &gcm, "--sim", &gcm]
                .into_iter()
                .chain(["--train", "1850", "1860", "--predict", "1970", "1971", "--out", &nested("q.nc")])
                .collect(),
        ),
        (
            "adjust, damaged input",
            vec!["adjust", "--method", "eqm", "--var", "tasmax", "--ref", &obs, "--hist", &damaged, "--sim", &gcm]
                .into_iter()
                .chain(["--train", "1970", "1971", "--predict", "1970", "1971", "--out", &out("q.zarr")])
                .collect(),
        ),
    ]
    .into_iter()
    .map(|(what, args)| (what, args.into_iter().map(str::to_string).collect()))
    .collect();
    for (what, args) in failures {
        let output = downscale().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{what}: {stderr}");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        assert_eq!(snapshot(&folder), before, "{what} changed the output folder: {stderr}");
    }
}

#[test]
fn a_stage_left_by_a_killed_writer_is_removed_when_the_output_is_written_again() {
    let dir = tempfile::tempdir().unwrap();
    // What a writer killed with SIGKILL leaves: its hidden stage, named with a process id no longer running (ids
    // above the kernel's maximum of 4194304 never are).
    let stale = dir.path().join(".x.zarr.partial-4999999-17");
    std::fs::create_dir_all(stale.join("tasmax/c/0")).unwrap();
    std::fs::write(stale.join("tasmax/c/0/0"), b"half a chunk").unwrap();
    let output = convert(&dir.path().join("x.zarr"), &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let names: Vec<String> = snapshot(dir.path()).into_keys().filter(|k| !k.contains('/')).collect();
    assert_eq!(names, ["x.zarr"]);
}
