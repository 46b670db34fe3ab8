//! `downscale extract` on a real BCSD output (the Iberia tas example, historical winters): the series of every
//! shipped city inside the grid, and of points from a CSV, are exactly those xarray's `.sel(method="nearest")` gives
//! where that cell is on land, and otherwise the nearest land cell's (checked with numpy by great-circle distance);
//! places outside the grid are left out; bad points files are one line; only an earlier extraction is replaced.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{assert_one_line_error, downscale, evaluate_python, repo, run_with_shipped_catalogs};

/// Checks an extraction with xarray and numpy: every place's cell and series.
const CHECK: &str = r#"
import sys
import numpy as np, pandas as pd, xarray as xr
store, land_store, table, places = sys.argv[1:5]
field = xr.open_zarr(store)["tas"].load()
land = xr.open_zarr(land_store)["land"].values >= 0.5
valid = land & np.isfinite(field.values).any(axis=0)
series = pd.read_csv(table, index_col="time", dtype={"time": str})
located = pd.read_csv(places)
lat, lon = np.meshgrid(field.lat.values, field.lon.values, indexing="ij")
def distance(a_lat, a_lon, b_lat, b_lon):
    a_lat, a_lon, b_lat, b_lon = map(np.radians, (a_lat, a_lon, b_lat, b_lon))
    h = np.sin((b_lat - a_lat) / 2) ** 2 + np.cos(a_lat) * np.cos(b_lat) * np.sin((b_lon - a_lon) / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(h))
assert list(series.columns) == list(located["name"]), (series.columns, located["name"])
assert list(series.index) == [str(t)[:10] for t in field.time.values]
on_land = 0
for _, place in located.iterrows():
    nearest = field.sel(lat=place["lat"], lon=place["lon"], method="nearest")
    i = int(np.argmin(np.abs(field.lat.values - float(nearest.lat))))
    j = int(np.argmin(np.abs(field.lon.values - float(nearest.lon))))
    if valid[i, j]:
        on_land += 1
        expected = nearest
    else:
        d = np.where(valid, distance(place["lat"], place["lon"], lat, lon), np.inf)
        i, j = np.unravel_index(np.argmin(d), d.shape)
        expected = field.isel(lat=i, lon=j)
    assert (float(expected.lat), float(expected.lon)) == (place["cell_lat"], place["cell_lon"]), place
    ours = series[place["name"]].to_numpy(dtype=np.float32)
    theirs = expected.values.astype(np.float32)
    assert np.array_equal(ours, theirs, equal_nan=True), place["name"]
print(f"{len(located)} places, {on_land} at xarray's nearest cell, the others at the nearest land cell")
"#;

fn check(store: &str, land: &str, table: &Path, places: &Path) -> String {
    let output = Command::new(evaluate_python())
        .args(["-c", CHECK, store, land])
        .arg(table)
        .arg(places)
        .output()
        .expect("the evaluation venv's python runs");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).to_string()
}

#[test]
fn cities_and_points_match_xarray_on_land() {
    let dir = tempfile::tempdir().unwrap();
    let example = repo()
        .join("examples/iberia/bcsd/bcsd_E-OBS_CNRM-CM5_r1i1p1_historical_tas_35_45_-10_5_1983_2002_1983_2002.json");
    let manifest = run_with_shipped_catalogs(dir.path(), "results", &example, &["--runtime", "ci"]);
    let store = manifest["datasets"]["daily"].as_str().unwrap();
    let land = manifest["intermediates"]["land_mask"].as_str().unwrap();
    let manifest_path = dir.path().join("results/runs").join(manifest["run_id"].as_str().unwrap()).join("latest.json");

    // The shipped cities, by default beside the daily store with its name.
    let output = downscale().arg("extract").arg(&manifest_path).arg("--cities").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let table = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    assert_eq!(table, PathBuf::from(store.trim_end_matches(".zarr").to_string() + ".csv"));
    let places = PathBuf::from(store.trim_end_matches(".zarr").to_string() + ".places.csv");
    let names: Vec<String> = std::fs::read_to_string(&places)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Madrid", "Algiers", "Lisbon"], "the shipped cities inside 35-45 N, 10 W-5 E");
    println!("cities: {}", check(store, land, &table, &places));

    // Points: two coastal cities whose nearest cell is sea, an inland one, and one outside the grid.
    let points = dir.path().join("points.csv");
    std::fs::write(&points, "name,lat,lon,note\nPorto,41.15,-8.61,coast\nSeville,37.39,-5.98,inland\nValencia,39.47,-0.38,coast\nMarseille,43.30,5.37,outside\n").unwrap();
    let out = dir.path().join("points_series.csv");
    let output =
        downscale().arg("extract").arg(store).arg("--points").arg(&points).arg("--out").arg(&out).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stderr).contains("3 of 4 places inside the grid"));
    let report = check(store, land, &out, &dir.path().join("points_series.places.csv"));
    println!("points: {report}");
    assert!(report.starts_with("3 places"), "{report}");
}

#[test]
fn bad_points_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = repo().join("data/samples/zarr/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.zarr");
    let cases = [
        ("no_lat.csv", "name,latitude,lon\nA,40,0\n", vec!["no_lat.csv", "no 'lat' column"]),
        ("bad_lat.csv", "name,lat,lon\nA,40,0\nB,north,0\n", vec!["bad_lat.csv", "line 3", "lat 'north'"]),
        ("far.csv", "name,lat,lon\nA,-60,120\n", vec!["none of the 1 places"]),
        ("empty.csv", "name,lat,lon\n", vec!["empty.csv", "no place"]),
    ];
    for (name, text, expected) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let output = downscale().arg("extract").arg(&store).arg("--points").arg(&file).output().unwrap();
        assert_one_line_error(&output, &expected);
    }
    let neither = downscale().arg("extract").arg(&store).output().unwrap();
    assert!(!neither.status.success(), "--points or --cities is required");
}

#[test]
fn only_an_earlier_extraction_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let store = repo().join("data/samples/zarr/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.zarr");
    let points = dir.path().join("points.csv");
    let points_text = "name,lat,lon\nSeville,37.39,-5.98\n";
    std::fs::write(&points, points_text).unwrap();
    let extract = |out: &Path| {
        downscale().arg("extract").arg(&store).arg("--points").arg(&points).arg("--out").arg(out).output().unwrap()
    };

    // The points file itself, named as the output by mistake.
    assert_one_line_error(&extract(&points), &["points.csv", "columns 'time'", "nothing was written"]);
    assert_eq!(std::fs::read_to_string(&points).unwrap(), points_text);
    assert!(!dir.path().join("points.places.csv").exists());
    // A station's series of the user's: a time column, but no places file of an extraction beside it.
    let station = dir.path().join("station.csv");
    std::fs::write(&station, "time,tas\n1983-01-01,281.2\n").unwrap();
    assert_one_line_error(&extract(&station), &["station.csv", "a table this tool did not write"]);
    assert!(std::fs::read_to_string(&station).unwrap().contains("281.2"));

    // An extraction, then the same again: replaced.
    let out = dir.path().join("series.csv");
    for _ in 0..2 {
        let output = extract(&out);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("time,Seville\n"));
}
