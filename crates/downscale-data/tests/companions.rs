//! A store with companion variables (`WriteOptions::companions`): several data variables of one shape written
//! block by block from the same pass, each read back with its own values and attributes, by this crate and by a
//! real xarray (`xr.open_zarr(path)`, no arguments), and published only when every variable is complete.

mod common;

use std::path::Path;
use std::process::Command;

use common::sample;
use downscale_data::validate::validate_store;
use downscale_data::{
    AttrValue, Attributes, Companion, DataArray, Location, WriteOptions, ZarrWriter, read_variable, read_variable_at,
};
use ndarray::{ArrayD, Slice};
use serde_json::Value;

fn location(path: &Path) -> Location {
    Location::parse(path.to_str().unwrap()).unwrap()
}

fn companion(name: &str, units: &str) -> Companion {
    let mut attrs = Attributes::new();
    attrs.insert("units".into(), AttrValue::Text(units.into()));
    attrs.insert("long_name".into(), AttrValue::Text(format!("{name} of the model")));
    Companion { name: name.into(), attrs }
}

/// E-OBS tas as the main variable, with an error (its absolute value) and a probability (a rescaling) beside it.
fn three_variables() -> (DataArray, [ArrayD<f32>; 2], WriteOptions) {
    let tas =
        read_variable(&sample("iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc"), "tas")
            .unwrap();
    let error = tas.data.mapv(f32::abs);
    let probability = tas.data.mapv(|v| (v + 30.0) / 60.0);
    let options = WriteOptions {
        companions: vec![companion("prediction_error", "degC"), companion("exceedance_prob", "1")],
        ..WriteOptions::default()
    };
    (tas, [error, probability], options)
}

/// Writes the three variables tile by tile (every variable of a tile from the same pass).
fn write_tiles(writer: &ZarrWriter, tas: &DataArray, companions: &[ArrayD<f32>; 2], skip_last: bool) {
    let shape = tas.shape().to_vec();
    let mut tiles = Vec::new();
    for y in (0..shape[1]).step_by(7) {
        for x in (0..shape[2]).step_by(11) {
            tiles.push(vec![0..shape[0], y..(y + 7).min(shape[1]), x..(x + 11).min(shape[2])]);
        }
    }
    for (i, tile) in tiles.iter().enumerate() {
        let offset: Vec<usize> = tile.iter().map(|r| r.start).collect();
        let cut =
            |data: &ArrayD<f32>| data.slice_each_axis(|axis| Slice::from(tile[axis.axis.index()].clone())).to_owned();
        writer.write_block(&offset, cut(&tas.data).view()).unwrap();
        writer.write_companion_block("prediction_error", &offset, cut(&companions[0]).view()).unwrap();
        if !(skip_last && i == tiles.len() - 1) {
            writer.write_companion_block("exceedance_prob", &offset, cut(&companions[1]).view()).unwrap();
        }
    }
}

#[test]
fn every_variable_reads_back_with_its_values_and_attributes() {
    let (tas, companions, options) = three_variables();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("model.zarr");
    let writer = ZarrWriter::create(&tas, tas.shape(), &location(&store), &options).unwrap();
    write_tiles(&writer, &tas, &companions, false);
    let unknown = writer.write_companion_block("pred", &[0, 0, 0], companions[0].view()).unwrap_err();
    assert!(unknown.to_string().contains("no companion variable 'pred'"), "{unknown}");
    writer.finish().unwrap();

    assert!(validate_store(&location(&store)).unwrap().is_complete());
    let main = read_variable_at(&location(&store), "tas").unwrap();
    assert_eq!(common::count_differing(&main.data, &tas.data), 0);
    for (expected, name, units) in
        [(&companions[0], "prediction_error", "degC"), (&companions[1], "exceedance_prob", "1")]
    {
        let back = read_variable_at(&location(&store), name).unwrap();
        assert_eq!(common::count_differing(&back.data, expected), 0, "{name}");
        assert_eq!(back.attrs.get("units"), Some(&AttrValue::Text(units.into())), "{name}");
        assert_eq!(back.time.as_ref().unwrap().dates, tas.time.as_ref().unwrap().dates, "{name}");
    }

    // What a user opening the dataset sees: the three variables on the same coordinates.
    let python = std::env::var("DOWNSCALE_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/xarray_read.py");
    for (name, values) in
        [("tas", &tas.data), ("prediction_error", &companions[0]), ("exceedance_prob", &companions[1])]
    {
        let raw = dir.path().join(format!("{name}.f32"));
        let output = Command::new(&python)
            .arg(&script)
            .args([store.to_str().unwrap(), name, raw.to_str().unwrap()])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {python}: {e} (set DOWNSCALE_PYTHON to a Python with xarray)"));
        assert!(output.status.success(), "xarray failed on {name}: {}", String::from_utf8_lossy(&output.stderr));
        let seen: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(seen["dims"], serde_json::json!(["time", "lat", "lon"]), "{name}");
        let bytes = std::fs::read(&raw).unwrap();
        let read: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let ours: Vec<f32> = values.iter().copied().collect();
        assert_eq!(common::count_differing(&read, &ours), 0, "{name} as xarray reads it");
    }
}

#[test]
fn a_companion_with_a_missing_chunk_publishes_nothing() {
    let (tas, companions, options) = three_variables();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("model.zarr");
    let writer = ZarrWriter::create(&tas, tas.shape(), &location(&store), &options).unwrap();
    write_tiles(&writer, &tas, &companions, true);
    let error = writer.finish().unwrap_err().to_string();
    assert!(error.contains("were never written") && error.contains("exceedance_prob"), "{error}");
    assert!(!store.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no staging directory left");
}

#[test]
fn a_companion_named_like_the_main_variable_is_refused() {
    let (tas, _, mut options) = three_variables();
    options.companions.push(companion("tas", "degC"));
    let dir = tempfile::tempdir().unwrap();
    let error = ZarrWriter::create(&tas, tas.shape(), &location(&dir.path().join("x.zarr")), &options).err().unwrap();
    assert!(error.to_string().contains("the data variable 'tas' is named twice"), "{error}");
}
