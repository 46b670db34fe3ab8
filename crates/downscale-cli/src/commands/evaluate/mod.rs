//! `downscale evaluate`: the skill of a finished run against the observations it was trained on, and the quality
//! checks of its output, written as JSON next to its outputs (or under `--out`) and summarised on stdout.
//!
//! What is compared comes from the run's manifest: the published daily store, the observations the flow read
//! (`get_obs`, on the output's grid), its land mask (`land_mask`), and the raw model it read for the predicted
//! period (`get_experiment_predict*`), whose days are the days the output must hold.

mod inputs;
mod summary;

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, anyhow, bail};
use downscale_data::validate::{Depth, validate_store_to};
use downscale_data::{Location, OutputKind, Replace, WriteOptions, check_destination, read_variable, write_zarr};
use downscale_evaluate::{
    Evaluation, EvaluationInputs, ExpectedDays, Field, Historical, InvalidStore, QDM_BILINEAR, bilinear_baseline,
    evaluate, html_report,
};
pub(in crate::commands) use inputs::{dataset, load_manifest};
use inputs::{historical_run, land_mask, observations, predicted_years, raw_model, raw_model_train};

use super::ConfigArgs;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// A run id (its last successful run's manifest under `storage.results`) or a manifest file.
    run: String,
    /// Years (inclusive) to compare with the observations [default: the years the run predicted; observations
    /// the flow did not read (held-out years) are read from the observation catalog].
    #[arg(long, num_args = 2, value_names = ["Y0", "Y1"])]
    obs_years: Option<Vec<i32>>,
    /// Folder to write `evaluation.json` to [default: `evaluation` beside the run's daily store].
    #[arg(long, value_name = "DIR")]
    out: Option<String>,
    /// Score daily values (RMSE, correlation) as in phase with the observations even when the driving data is not
    /// a reanalysis (a perfect-model experiment).
    #[arg(long)]
    in_phase: bool,
    /// The historical run (id or manifest file) a scenario run's change is measured from [default: the run under the
    /// same results folder with the same parameters but the scenario and the predicted years].
    #[arg(long, value_name = "RUN")]
    historical: Option<String>,
    /// Also write the QDM baseline's daily field (the raw model bias-corrected at its scale, interpolated) beside
    /// the evaluation, as `qdm_bilinear.zarr`, to inspect it or check the evaluation against it.
    #[arg(long)]
    keep_baselines: bool,
    /// Exit with status 1 when quality checks find a defect.
    #[arg(long)]
    strict: bool,
}

impl Args {
    /// The arguments evaluating the run of the manifest file `manifest` into `out`, with the defaults otherwise.
    pub(crate) fn of_manifest(manifest: &str, out: &str) -> Args {
        Args {
            run: manifest.to_string(),
            obs_years: None,
            out: Some(out.to_string()),
            in_phase: false,
            historical: None,
            keep_baselines: false,
            strict: false,
        }
    }
}

pub(crate) fn run(args: Args, config: &ConfigArgs) -> Result<ExitCode> {
    let (evaluation, json) = evaluate_and_write(&args, config)?;
    summary::print_summary(&evaluation);
    for defect in &evaluation.qa.defects {
        eprintln!("QA: {defect}");
    }
    println!("{json}");
    Ok(if args.strict && !evaluation.qa.defects.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Evaluates the run `args` name and writes `evaluation.json` and `report.html`; returns the evaluation and where
/// its JSON is.
pub(crate) fn evaluate_and_write(args: &Args, config: &ConfigArgs) -> Result<(Evaluation, String)> {
    let manifest = load_manifest(&args.run, config)?;
    if let Some(failure) = &manifest.failure {
        bail!("run {} failed in task {}: a failed run has no output to evaluate", manifest.run_id, failure.task);
    }
    let variable = manifest
        .parameters
        .get("variable")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| anyhow!("{}: the parameters have no 'variable'", manifest.run_id))?;
    let daily = dataset(&manifest, "daily")?;
    let output = Field::open(&daily, &variable)?;
    let years = match &args.obs_years {
        Some(years) => (years[0], years[1]),
        None => predicted_years(&manifest)?,
    };
    let (observations, observed) = observations(&manifest, &variable, years, config)?;
    let land = land_mask(&manifest, &observed)?;
    let in_phase = args.in_phase
        || manifest
            .attrs
            .get("driving_activity_id")
            .and_then(|v| v.as_str())
            .is_some_and(|a| a.eq_ignore_ascii_case("reanalysis"));

    let model_store = raw_model(&manifest, &variable);
    let model = model_store.as_deref().map(|store| read_variable(store, &variable)).transpose()?;
    // The second baseline: the raw model bias-corrected at its own scale against the observations the flow trained on.
    let corrected_model = match (&model, raw_model_train(&manifest, &variable), manifest.intermediates.get("get_obs")) {
        (Some(model), Some(train), Some(observed_train)) => {
            // The observations the flow trained on: those already in memory when they are the ones compared.
            let read_again;
            let observed_train = match observed.in_memory() {
                Some(array) if observations == *observed_train => array,
                _ => {
                    read_again = read_variable(observed_train, &variable)?;
                    &read_again
                }
            };
            let corrected = downscale_flows::baselines::coarse_qdm(
                observed_train,
                &read_variable(&train, &variable)?,
                model,
                &variable,
            );
            Some(corrected.map_err(|e| anyhow!("{}: the QDM baseline: {e}", manifest.run_id))?)
        }
        _ => None,
    };
    let manifest_file = Path::new(&args.run).is_file().then(|| Path::new(&args.run));
    let historical_manifest = historical_run(&manifest, manifest_file, args.historical.as_deref(), config)?;
    let historical_fields = match &historical_manifest {
        Ok(historical) => {
            let store = raw_model(historical, &variable)
                .ok_or_else(|| anyhow!("{}: the historical run read no raw model of {variable}", historical.run_id))?;
            Ok((Field::open(&dataset(historical, "daily")?, &variable)?, read_variable(&store, &variable)?, store))
        }
        Err(reason) => Err(reason.clone()),
    };
    let historical = match &historical_fields {
        Ok((daily, model, store)) => Ok(Historical { daily, model, model_store: store }),
        Err(reason) => Err(reason.clone()),
    };
    let invalid_stores = manifest
        .datasets
        .values()
        .filter(|store| store.ends_with(".zarr"))
        .map(|store| -> Result<Option<InvalidStore>> {
            // The daily store's chunks are all decoded by the evaluation itself: listing them is enough here.
            let depth = if *store == daily { Depth::Listing } else { Depth::EveryChunk };
            let report = validate_store_to(&Location::parse(store)?, depth)?;
            Ok((!report.is_complete()).then(|| InvalidStore { store: store.clone(), problems: report.problems }))
        })
        .filter_map(Result::transpose)
        .collect::<Result<Vec<_>>>()?;
    let evaluation = evaluate(EvaluationInputs {
        run_id: &manifest.run_id,
        variable: &variable,
        output: &output,
        observed: (&observed, &observations),
        land: &land,
        model: model.as_ref(),
        corrected_model: corrected_model.as_ref(),
        years: Some(years),
        in_phase,
        expected_days: model.as_ref().and_then(ExpectedDays::covering),
        invalid_stores,
        historical,
    })?;
    let folder = match &args.out {
        Some(out) => Location::parse(out)?,
        None => Location::parse(&daily)?.sibling("evaluation"),
    };
    if let (true, Some(corrected)) = (args.keep_baselines, &corrected_model) {
        let Field::InMemory(interpolated) = bilinear_baseline(corrected, &observed)? else {
            unreachable!("a baseline is computed in memory")
        };
        let options = WriteOptions { provenance: super::command_line_provenance(), ..WriteOptions::default() };
        write_zarr(&interpolated, &folder.child(&format!("{QDM_BILINEAR}.zarr")), &options)?;
    }
    let json = folder.child("evaluation.json");
    let report = folder.child("report.html");
    // Only an earlier evaluation is replaced: a user's own file of the same name is refused before anything is
    // written.
    check_destination(&json, Replace::OwnOutputs, OutputKind::Document)?;
    check_destination(&report, Replace::OwnOutputs, OutputKind::Page)?;
    let page = html_report(&evaluation)?;
    json.write_bytes(serde_json::to_vec_pretty(&evaluation)?)?;
    report.write_bytes(page.into_bytes())?;
    Ok((evaluation, json.display))
}
