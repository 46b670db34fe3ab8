//! The `model` dataset of a GARD-SV run is CarbonPlan's GARD pipeline run with scikit-downscale on the same input
//! files: `scripts/oracles/gard_pipeline.py` coarsens the observations onto the climate model's grid and back and
//! interpolates the model onto the observations' grid with `cdo remapbil`, then at each cell quantile-maps the model
//! onto the interpolated observations (`QuantileMapper(detrend=True)`) and fits `PureRegression`. The run's
//! observation catalog has no predictor product, so the run takes that path (coarsened observations).
//!
//! Tolerance: 1e-4 relative where both are defined (the acceptance bound; observed: 6e-8, float32's precision, as
//! both sides store regridded fields in float32). cdo leaves a cell missing when one of its four source cells is
//! (the coast, the domain's edges), where this tool renormalises over the valid ones or takes the nearest: those
//! cells are compared by neither.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{repo, run_with_shipped_catalogs, sample};
use downscale_data::read_variable;
use serde_json::{Value, json};

/// The shipped observation catalog without its predictor product: the observations' own rows, absolute paths.
fn observations_only_catalog(dir: &Path) -> PathBuf {
    let table = std::fs::read_to_string(repo().join("data/catalog/obs.csv")).unwrap();
    let mut lines = table.lines();
    let mut rows = vec![lines.next().unwrap().to_string()];
    for line in lines.filter(|line| line.starts_with("E-OBS,")) {
        let (head, path) = line.rsplit_once(',').unwrap();
        rows.push(format!("{head},{}", repo().join("data/catalog").join(path).display()));
    }
    std::fs::write(dir.join("obs.csv"), rows.join("\n") + "\n").unwrap();
    let collection = std::fs::read_to_string(repo().join("data/catalog/obs.json")).unwrap();
    let path = dir.join("obs.json");
    std::fs::write(&path, collection).unwrap();
    path
}

fn skdownscale_python() -> PathBuf {
    std::env::var_os("DOWNSCALE_SKDOWNSCALE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv-skdownscale/bin/python"))
}

fn reference(out: &Path) -> Value {
    let python = skdownscale_python();
    let output = Command::new(&python)
        .arg(repo().join("scripts/oracles/gard_pipeline.py"))
        .args([
            &sample("iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc"),
            &sample("iberia/gcm_CNRM-CM5/tas_day_CNRM-CM5_rcp85_r1i1p1_iberia_DJF_20801201-21000228.nc"),
            "tas",
            "1983",
            "1992",
            "2081",
            "2090",
            "35",
            "45",
            "-10",
            "5",
        ])
        .arg(out)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e} (scripts/oracles/generate.sh creates it)", python.display()));
    assert!(output.status.success(), "the reference pipeline failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&std::fs::read(out.join("pipeline.json")).unwrap()).unwrap()
}

fn values(path: &Path) -> Vec<f64> {
    std::fs::read(path).unwrap().chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect()
}

#[test]
fn the_model_dataset_is_the_scikit_downscale_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let document = json!({
        "method": "gard", "obs": "E-OBS", "model": "CNRM-CM5", "member": "r1i1p1", "grid_label": "gn",
        "table_id": "day", "scenario": "rcp85", "features": ["tas"], "variable": "tas",
        "latmin": "35", "latmax": "45", "lonmin": "-10", "lonmax": "5",
        "bias_correction_method": "quantile_mapper", "bias_correction_kwargs": {"tas": {"detrend": true}},
        "model_type": "PureRegression", "model_params": {},
        "train_dates": ["1983", "1992"], "predict_dates": ["2081", "2090"],
    });
    let param_file = dir.path().join("gard_tas.json");
    std::fs::write(&param_file, document.to_string()).unwrap();
    let catalog = format!("data_catalog.obs={}", observations_only_catalog(dir.path()).display());
    let manifest =
        run_with_shipped_catalogs(dir.path(), "results", &param_file, &["--runtime", "ci", "--set", &catalog]);
    let store = manifest["datasets"]["model"].as_str().expect("a model dataset");

    let out = dir.path().join("reference");
    let pipeline = reference(&out);
    assert_eq!(pipeline["versions"]["scikit-downscale"], "0.1.5");
    let mut compared_cells = 0;
    for name in ["pred", "exceedance_prob", "prediction_error"] {
        let ours = read_variable(store, name).unwrap();
        assert_eq!(serde_json::json!(ours.shape()), pipeline["shape"], "{name}");
        let first = &ours.time.as_ref().unwrap().dates[0];
        assert_eq!(format!("{:04}-{:02}-{:02}", first.year, first.month, first.day), pipeline["dates"][0], "{name}");
        let theirs = values(&out.join(format!("{name}.f64")));
        let (mut compared, mut largest) = (0usize, 0.0_f64);
        for (a, b) in ours.data.iter().zip(&theirs) {
            if a.is_finite() && b.is_finite() {
                compared += 1;
                largest = largest.max((f64::from(*a) - b).abs() / b.abs().max(1.0));
            }
        }
        println!("{name}: {compared} values compared, largest relative difference {largest:.1e}");
        assert!(largest <= 1e-4, "{name}: largest relative difference {largest:e}");
        compared_cells = compared / ours.shape()[0];
    }
    let modelled = pipeline["cells"].as_u64().unwrap() as usize;
    // Every cell the reference models is compared: the inland cells, which cdo's rule leaves defined (118 of the
    // 318 land cells).
    assert!(compared_cells > 100 && compared_cells == modelled, "{compared_cells} of {modelled} cells compared");
}
