//! The evaluation's HTML report in a real browser (headless Chromium through chromedriver), for a BCSD run of the
//! Iberia example and for a GARD run by perfect prognosis (trained on NCEP-R1 over the winters 1983–1992, applied to
//! the reanalysis of the held-out winters 1993–2002, scored against E-OBS of those winters, which the flow never
//! read): the page loads every image, makes no request and runs no script; the GARD run is scored in phase (RMSE and
//! correlation), and its numbers agree with the independent numpy/scipy/xclim check. The BCSD report's screenshot
//! is written to `$DOWNSCALE_SCREENSHOTS` when it is set (`docs/images` for the README's).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::browser::{Driver, browser, eval, keep_screenshot};
use common::skill::reanalysis_catalog;
use common::{downscale, evaluate_python, manifest_file, repo, run_with_shipped_catalogs, shipped_catalog_settings};
use serde_json::{Value, json};

/// `downscale evaluate` of `manifest` with the shipped catalogs; returns the evaluation and its folder.
fn evaluate(dir: &Path, manifest: &Path) -> (Value, PathBuf) {
    let output = downscale()
        .arg("evaluate")
        .arg(manifest)
        .arg("--keep-baselines")
        .args(shipped_catalog_settings(dir, "results"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let json = PathBuf::from(String::from_utf8_lossy(&output.stdout).lines().last().unwrap());
    let evaluation = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    (evaluation, json.parent().unwrap().to_path_buf())
}

/// A GARD-SV tas run by perfect prognosis: NCEP-R1 as the model, trained 1983–1992, predicting 1993–2002.
fn gard_perfect_prognosis(dir: &Path) -> Value {
    let document = json!({
        "method": "gard", "obs": "E-OBS", "model": "NCEP-R1", "member": "r1i1p1", "grid_label": "gn",
        "table_id": "day", "scenario": "historical", "features": ["tas"], "variable": "tas",
        "latmin": "35", "latmax": "45", "lonmin": "-10", "lonmax": "5",
        "bias_correction_method": "none", "model_type": "PureRegression", "model_params": {},
        "train_dates": ["1983", "1992"], "predict_dates": ["1993", "2002"],
    });
    let param_file = dir.join("gard_perfect_prognosis.json");
    std::fs::write(&param_file, document.to_string()).unwrap();
    let catalog = format!("data_catalog.model={}", reanalysis_catalog(dir).display());
    run_with_shipped_catalogs(dir, "results", &param_file, &["--runtime", "ci", "--set", &catalog])
}

/// What the page is: its images (loaded or not), scripts, external references and network requests.
async fn page_facts(report: &Path) -> (Value, Vec<u8>) {
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;
    client.goto(&format!("file://{}", report.display())).await.unwrap();
    let facts = eval(
        &client,
        "const images = [...document.images];
         return {
           title: document.title,
           images: images.length,
           loaded: images.filter(i => i.complete && i.naturalWidth > 0).length,
           embedded: images.filter(i => i.src.startsWith('data:image/png;base64,')).length,
           scripts: document.scripts.length,
           external: [...document.querySelectorAll('[src],[href]')]
             .map(e => e.getAttribute('src') || e.getAttribute('href'))
             .filter(u => !u.startsWith('data:') && u !== 'evaluation.json'),
           requests: performance.getEntriesByType('resource').map(r => r.name),
           tables: document.querySelectorAll('table').length,
         };",
    )
    .await;
    let screenshot = client.screenshot().await.unwrap();
    client.close().await.unwrap();
    (facts, screenshot)
}

fn check_page(label: &str, facts: &Value, run_id: &str, minimum_images: u64) {
    assert!(facts["title"].as_str().unwrap().contains(run_id), "{label}: {facts}");
    let images = facts["images"].as_u64().unwrap();
    assert!(images >= minimum_images, "{label}: {facts}");
    assert_eq!(facts["loaded"], images, "{label}: every image loads: {facts}");
    assert_eq!(facts["embedded"], images, "{label}: every image is embedded: {facts}");
    assert_eq!(facts["scripts"], 0, "{label}: {facts}");
    assert_eq!(facts["external"], json!([]), "{label}: {facts}");
    assert_eq!(facts["requests"], json!([]), "{label}: no request: {facts}");
    assert!(facts["tables"].as_u64().unwrap() >= 2, "{label}: {facts}");
}

#[test]
fn reports_of_a_bcsd_and_a_perfect_prognosis_gard_run_open_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let example = repo()
        .join("examples/iberia/bcsd/bcsd_E-OBS_CNRM-CM5_r1i1p1_historical_tas_35_45_-10_5_1983_2002_1983_2002.json");
    let bcsd = run_with_shipped_catalogs(dir.path(), "results", &example, &["--runtime", "ci"]);
    let (_, bcsd_folder) = evaluate(dir.path(), &manifest_file(dir.path(), &bcsd));

    let gard = gard_perfect_prognosis(dir.path());
    let gard_manifest = manifest_file(dir.path(), &gard);
    let (evaluation, gard_folder) = evaluate(dir.path(), &gard_manifest);
    let skill = &evaluation["skill"];
    assert_eq!(skill["in_phase"], true, "a reanalysis-driven run is in phase with the observations");
    assert_eq!(skill["period"]["first"], "1993-01-01", "scored on the held-out winters");
    assert!(evaluation["observations"].as_str().unwrap().ends_with(".nc"), "E-OBS read from the catalog");
    let paired = |name: &str, product: &str| {
        skill["paired"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap()["products"][product]
            ["land_mean"]
            .as_f64()
            .unwrap()
    };
    // The regression's daily values follow the observed weather (correlation 0.73 over land, median 0.727 in the
    // GARD skill test) and miss it by less than the reanalysis' own field does.
    assert!(paired("correlation", "downscaled") > 0.6, "{}", paired("correlation", "downscaled"));
    assert!(paired("rmse", "downscaled") < paired("rmse", "bilinear"));
    let check = Command::new(evaluate_python())
        .arg(repo().join("scripts/oracles/evaluate_check.py"))
        .arg(&gard_manifest)
        .arg(gard_folder.join("evaluation.json"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    println!("gard: {report}");
    assert!(check.status.success(), "{report}{}", String::from_utf8_lossy(&check.stderr));

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let (facts, screenshot) = page_facts(&bcsd_folder.join("report.html")).await;
        check_page("bcsd", &facts, bcsd["run_id"].as_str().unwrap(), 9);
        keep_screenshot(&screenshot, "evaluation-report.png");
        let (facts, _) = page_facts(&gard_folder.join("report.html")).await;
        check_page("gard", &facts, gard["run_id"].as_str().unwrap(), 9);
    });
}
