//! `downscale catalog`: the catalogs of what the runs of a results folder published, built from their manifests:
//! an intake-esm collection (`catalog.json` and `catalog.csv`) and the web catalog (`web-catalog.json`).
//!
//! Each run id's last successful run (`runs/<run_id>/latest.json`) is read, so a run id appears once, with its
//! newest outputs; failed runs publish nothing and are not listed. Every store is validated (every chunk there,
//! metadata consistent) and one that is not complete, or is gone, is left out and named on stderr.

use std::process::ExitCode;

use anyhow::{Result, anyhow, bail};
use downscale_catalog::{COLLECTION_ID, PUBLISHED_COLUMNS, PublishedCatalog, PublishedStore, WEB_CATALOG_TITLE};
use downscale_data::validate::validate_store;
use downscale_data::{Location, OutputKind, Replace, check_destination};
use downscale_engine::Manifest;
use serde_json::Value;

use super::ConfigArgs;
use super::flow_setup::storage_location;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The results folder or URL whose runs to list [default: the configuration's `storage.results`].
    #[arg(long, value_name = "URI")]
    results: Option<String>,
    /// Where to write the catalogs [default: `catalog/` in the results folder].
    #[arg(long, value_name = "DIR")]
    out: Option<String>,
}

pub(crate) fn run(args: Args, config: &ConfigArgs) -> Result<ExitCode> {
    let results = match &args.results {
        Some(uri) => Location::parse(&absolute(uri))?,
        None => {
            let configured = storage_location(&config.load()?, "results")?;
            Location::parse(&absolute(&configured.display))?
        }
    };
    let folder = match &args.out {
        Some(out) => Location::parse(&absolute(out))?,
        None => results.child("catalog"),
    };
    // Only earlier catalogs are replaced: a user's own file of the same name is refused before any run is read.
    check_destination(&folder.child("catalog.csv"), Replace::OwnOutputs, OutputKind::Table(&PUBLISHED_COLUMNS))?;
    for (document, pointer, value) in
        [("catalog.json", "/id", COLLECTION_ID), ("web-catalog.json", "/title", WEB_CATALOG_TITLE)]
    {
        check_destination(&folder.child(document), Replace::OwnOutputs, OutputKind::MarkedDocument { pointer, value })?;
    }
    let run_ids = results.child("runs").child_folders()?;
    if run_ids.is_empty() {
        bail!("{}: no runs/ with a run's manifest (expected runs/<run_id>/latest.json)", results.display);
    }
    let mut stores = Vec::new();
    let mut left_out = 0;
    for run_id in &run_ids {
        let manifest_location = results.child(&format!("runs/{run_id}/latest.json"));
        let Some(bytes) = manifest_location.read_bytes()? else { continue };
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| anyhow!("{}: not a run manifest: {e}", manifest_location.display))?;
        if manifest.failure.is_some() {
            continue;
        }
        // The stores (a run's evaluation document and report are published beside them, not catalogued).
        for uri in manifest.datasets.values().filter(|uri| uri.ends_with(".zarr")) {
            let recorded = Location::parse(uri)?;
            let name = recorded.file_name();
            // The store where this results folder has it (a folder moved or mounted elsewhere still lists), or
            // where the manifest says.
            let here = results.child(&format!("{run_id}/{name}"));
            let location = if here.child("zarr.json").version()?.is_some() { here } else { recorded };
            match check(&location) {
                Ok(version) => {
                    if let Some(store) = PublishedStore::from_name(&name, &uri_of(&location), &version, run_id) {
                        stores.push(store);
                    }
                }
                Err(problem) => {
                    left_out += 1;
                    eprintln!("left out {}: {problem}", location.display);
                }
            }
        }
    }
    let catalog = PublishedCatalog::new(stores);
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    folder.child("catalog.csv").write_bytes(catalog.csv().into_bytes())?;
    let collection = catalog.collection_json(COLLECTION_ID, "catalog.csv", &now);
    folder.child("catalog.json").write_bytes(serde_json::to_vec_pretty(&collection)?)?;
    folder.child("web-catalog.json").write_bytes(serde_json::to_vec_pretty(&catalog.web_catalog(&now))?)?;
    eprintln!("{} stores of {} runs listed, {left_out} left out", catalog.stores.len(), run_ids.len());
    println!("{}", folder.child("catalog.json").display);
    Ok(ExitCode::SUCCESS)
}

/// A store's version (`downscale_version` of its group), once it validates; why it is left out otherwise.
fn check(location: &Location) -> Result<String, String> {
    let report = validate_store(location).map_err(|e| e.to_string())?;
    if !report.is_complete() {
        return Err(report.problems.join("; "));
    }
    let root = location.child("zarr.json").read_bytes().map_err(|e| e.to_string())?.unwrap_or_default();
    let metadata: Value = serde_json::from_slice(&root).map_err(|e| format!("zarr.json: {e}"))?;
    Ok(metadata["attributes"]["downscale_version"].as_str().unwrap_or("unknown").to_string())
}

/// The `uri` column of a store: a `file://` URL of its absolute path on the local disk (intake-esm hands storage
/// options to zarr, which takes them only with a URL), its URL otherwise.
fn uri_of(location: &Location) -> String {
    match &location.local_path {
        Some(path) => format!("file://{}", std::path::absolute(path).unwrap_or_else(|_| path.clone()).display()),
        None => location.display.clone(),
    }
}

/// A local path made absolute (so the catalog's `uri` column opens from anywhere); URLs as they are.
fn absolute(uri: &str) -> String {
    if uri.contains("://") {
        return uri.to_string();
    }
    std::path::absolute(uri).map_or_else(|_| uri.to_string(), |p| p.display().to_string())
}
