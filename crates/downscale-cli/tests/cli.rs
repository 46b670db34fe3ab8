//! The `downscale` binary end to end: bad input gives one clear line and a non-zero exit, a killed writer leaves
//! nothing under the final name, `validate` catches damage, and calendar conversion gives the documented lengths.

mod common;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::{Altered, altered_copy, assert_one_line_error, downscale, run, sample};

/// A failure naming `file` and saying `what`.
fn assert_clean_failure(output: &Output, file: &str, what: &str) {
    assert_one_line_error(output, &[file, what]);
}

/// Ten real days of ANUSPLIN tasmax with the given `units` and `calendar`.
fn anusplin_with(dir: &Path, units: &str, calendar: &str) -> String {
    let spec = Altered {
        file: "nunavut_climdown/tiny_obs.nc",
        var: "tasmax",
        days: 10,
        units,
        calendar,
        swap_latitudes: None,
    };
    altered_copy(dir, &format!("tasmax-{units}-{calendar}.nc"), &spec)
}

#[test]
fn bad_input_gives_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.zarr");
    let out = out.to_str().unwrap();

    assert_clean_failure(&run(&["inspect", "/no/such/file.nc"]), "/no/such/file.nc", "not found");

    let readme = sample("README.md");
    assert_clean_failure(&run(&["inspect", &readme]), &readme, "not a NetCDF or Zarr dataset");

    let bytes = std::fs::read(sample("nunavut_climdown/tiny_obs.nc")).unwrap();
    let truncated4 = dir.path().join("truncated4.nc");
    std::fs::write(&truncated4, &bytes[..bytes.len() / 3]).unwrap();
    let truncated4 = truncated4.to_str().unwrap();
    assert_clean_failure(&run(&["inspect", truncated4]), truncated4, "damaged or incomplete file");

    let bytes = std::fs::read(sample("nunavut_climdown/tiny_gcm.nc")).unwrap();
    let truncated3 = dir.path().join("truncated3.nc");
    std::fs::write(&truncated3, &bytes[..bytes.len() / 2]).unwrap();
    let truncated3 = truncated3.to_str().unwrap();
    assert_clean_failure(
        &run(&["convert", "--in", truncated3, "--var", "tasmax", "--out", out]),
        truncated3,
        "damaged or incomplete file",
    );

    let gcm = sample("nunavut_climdown/tiny_gcm.nc");
    assert_clean_failure(
        &run(&["convert", "--in", &gcm, "--var", "tsamax", "--out", out]),
        &gcm,
        "variable 'tsamax' not found",
    );

    let good = anusplin_with(dir.path(), "degC", "standard");
    assert!(
        run(&["convert", "--in", &good, "--var", "tasmax", "--out", out]).status.success(),
        "the fixture itself is valid"
    );
    std::fs::remove_dir_all(out).unwrap();

    let furlongs = anusplin_with(dir.path(), "furlongs", "standard");
    assert_clean_failure(
        &run(&["convert", "--in", &furlongs, "--var", "tasmax", "--out", out]),
        &furlongs,
        "unknown units 'furlongs'",
    );

    let martian = anusplin_with(dir.path(), "degC", "martian");
    assert_clean_failure(&run(&["inspect", &martian]), &martian, "martian");

    assert!(!Path::new(out).exists(), "no output from failed conversions");
}

#[test]
fn killed_writer_leaves_nothing_under_the_final_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pr.zarr");
    let input = sample("quebec_nrcan/nrcan_canada_daily_pr_1990.nc");
    // One-day, 10x10-cell chunks: ~50,000 chunk files, so the writer is still busy when it is killed.
    let args = [
        "convert",
        "--in",
        &input,
        "--var",
        "pr",
        "--out",
        out.to_str().unwrap(),
        "--layout",
        "full-space",
        "--chunk-bytes",
        "400",
    ];
    let mut child = downscale().args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let staging = loop {
        let partial = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(".pr.zarr.partial-")));
        if let Some(staging) = partial
            && staging.join("pr/c").exists()
        {
            break staging;
        }
        assert!(child.try_wait().unwrap().is_none(), "writer finished before it could be killed");
        assert!(Instant::now() < deadline, "no staging directory appeared");
        std::thread::sleep(Duration::from_millis(5));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.exists(), "a killed writer must not leave a store under the final name");
    assert!(staging.exists(), "the partial store stays hidden under its temporary name");

    // Re-running completes and publishes a complete store.
    let done =
        downscale().args(["convert", "--in", &input, "--var", "pr", "--out", out.to_str().unwrap()]).output().unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    assert_eq!(String::from_utf8_lossy(&done.stdout).trim(), out.to_str().unwrap());
    let validate = run(&["validate", out.to_str().unwrap()]);
    assert!(validate.status.success(), "{}", String::from_utf8_lossy(&validate.stdout));
}

#[test]
fn validate_exits_non_zero_on_a_deleted_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tas.zarr");
    let out = out.to_str().unwrap();
    let input = sample("zarr/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.zarr");
    let convert = run(&["convert", "--in", &input, "--out", out, "--layout", "full-space", "--chunk-bytes", "100000"]);
    assert!(convert.status.success(), "{}", String::from_utf8_lossy(&convert.stderr));
    let ok = run(&["validate", out]);
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).contains("complete"));

    std::fs::remove_file(Path::new(out).join("tas/c/7/0/0")).unwrap();
    let damaged = run(&["validate", out]);
    assert_eq!(damaged.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&damaged.stdout);
    assert!(stdout.contains("1 of 40 chunks missing") && stdout.contains("tas/c/7/0/0"), "{stdout}");
}

fn converted_length(input: &str, var: &str, extra: &[&str]) -> (usize, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.zarr");
    let mut args =
        vec!["convert", "--in", input, "--var", var, "--out", out.to_str().unwrap(), "--to-standard-calendar"];
    args.extend_from_slice(extra);
    let convert = run(&args);
    assert!(convert.status.success(), "{}", String::from_utf8_lossy(&convert.stderr));
    let array = downscale_data::read_variable(out.to_str().unwrap(), var).unwrap();
    let time = array.time.unwrap();
    assert_eq!(time.calendar, downscale_data::calendar::Calendar::Standard);
    let last = time.dates.last().unwrap().to_string();
    (time.dates.len(), last)
}

#[test]
fn calendar_conversion_gives_the_documented_lengths() {
    let hadgem = sample("cmip_misc/tasmax_day_HadGEM2-CC_rcp85_r1i1p1_na10kgrid_qm-moving-50bins-detrend_2095.nc");
    // A 360-day year becomes a whole standard year under both alignments.
    assert_eq!(converted_length(&hadgem, "tasmax", &[]), (365, "2095-12-31".to_string()));
    assert_eq!(converted_length(&hadgem, "tasmax", &["--align-360", "date"]), (365, "2095-12-31".to_string()));
    // noleap 1965-01-01 .. 1975-01-01 gains Feb 29 of 1968 and 1972.
    let bnu = sample("nunavut_climdown/tiny_gcm.nc");
    assert_eq!(converted_length(&bnu, "tasmax", &[]), (3653, "1975-01-01 12:00:00".to_string()));
}

#[test]
fn inspect_reports_what_a_user_needs_first() {
    let nrcan = sample("quebec_nrcan/nrcan_canada_daily_pr_1990.nc");
    let gcm = sample("nunavut_climdown/tiny_gcm.nc");
    let zarr = sample("zarr/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.zarr");
    let output = run(&["inspect", &nrcan, &gcm, &zarr]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    for expected in [
        // NRCan: north->south latitudes, the ignored helper array, units, missing share, calendar and span.
        "(NetCDF)",
        "flipped to ascending on read",
        "time_vectors (time=365, ts=3, lon=156, lat=84) [no units] auxiliary (ignored)",
        "pr         (time=365, lat=84, lon=156) [mm s-1]  missing 28.8%",
        "standard calendar, 1990-01-01 .. 1990-12-31 (365 steps)",
        // BNU-ESM: 0-360 longitudes and the noleap calendar at noon.
        "0-360: moved to [-180, 180) on read",
        "noleap calendar, 1965-01-01 12:00:00 .. 1975-01-01 12:00:00 (3651 steps)",
        // The Zarr twin of E-OBS: format, units, 40% sea.
        "(Zarr)",
        "[degC]  missing 40.1%",
    ] {
        assert!(text.contains(expected), "missing '{expected}' in:\n{text}");
    }
}
