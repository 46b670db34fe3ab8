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
use downscale_data::validate::validate_store;
use downscale_data::{Location, read_variable};
use downscale_engine::Manifest;
use downscale_evaluate::{
    ChangeFields, ChangeReport, EvaluateError, Evaluation, Field, InvalidStore, Land, Product, QaScan, Quantity,
    SkillOptions, bilinear_baseline, change_signal, html_report, scan, skill,
};
use inputs::{BILINEAR, coverage, expected_days, historical_run, land_mask, observations, predicted_years, raw_model};
pub(in crate::commands) use inputs::{dataset, load_manifest};

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
    /// Exit with status 1 when quality checks find a defect.
    #[arg(long)]
    strict: bool,
}

pub(crate) fn run(args: Args, config: &ConfigArgs) -> Result<ExitCode> {
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
    let quantity = Quantity::of_variable(&variable);
    let land = land_mask(&manifest, &observed)?;
    let in_phase = args.in_phase
        || manifest
            .attrs
            .get("driving_activity_id")
            .and_then(|v| v.as_str())
            .is_some_and(|a| a.eq_ignore_ascii_case("reanalysis"));

    let mut qa = QaScan::new(&output, quantity)?;
    let options = SkillOptions { quantity, years: Some(years), in_phase };
    let baseline = match raw_model(&manifest, &variable) {
        Some(model) => Some(bilinear_baseline(&read_variable(&model, &variable)?, &observed)?),
        None => None,
    };
    let mut products = vec![Product { name: "downscaled", field: &output }];
    if let Some(baseline) = &baseline {
        products.push(Product { name: BILINEAR, field: baseline });
    }
    let (skill_report, skill_skipped) = match skill(&observed, &products, &land, options, Some(&mut qa)) {
        Ok(report) => (Some(report), None),
        Err(reason @ EvaluateError::NoCommonDays { .. }) => {
            scan(&output, &mut qa)?;
            (None, Some(reason.to_string()))
        }
        Err(error) => return Err(error.into()),
    };
    let manifest_file = Path::new(&args.run).is_file().then(|| Path::new(&args.run));
    let (change, change_skipped) = match historical_run(&manifest, manifest_file, args.historical.as_deref(), config)? {
        Ok(historical) => {
            let fields = ChangeInputs { output: &output, observed: &observed, future_model: baseline.as_ref() };
            (Some(fields.change(&historical, &variable, quantity, &land)?), None)
        }
        Err(reason) => (None, Some(reason)),
    };
    let invalid = manifest
        .datasets
        .values()
        .map(|store| -> Result<Option<InvalidStore>> {
            let report = validate_store(&Location::parse(store)?)?;
            Ok((!report.is_complete()).then(|| InvalidStore { store: store.clone(), problems: report.problems }))
        })
        .filter_map(Result::transpose)
        .collect::<Result<Vec<_>>>()?;
    // Values are expected on land where the observations have some: the outputs follow the observations' coverage.
    let covered = match &skill_report {
        Some(report) => report.observed_coverage(),
        None => coverage(&observed)?,
    };
    let expected = land.intersect(&covered);
    let qa = qa.finish(&daily, &expected, expected_days(&manifest)?, invalid)?;

    let evaluation = Evaluation {
        run_id: manifest.run_id.clone(),
        units: output.units().unwrap_or("1").to_string(),
        variable,
        downscaled: daily.clone(),
        observations,
        skill: skill_report,
        skill_skipped,
        change_signal: change,
        change_signal_skipped: change_skipped,
        qa,
        producer: format!("downscale {}", env!("CARGO_PKG_VERSION")),
    };
    let folder = match &args.out {
        Some(out) => Location::parse(out)?,
        None => Location::parse(&daily)?.sibling("evaluation"),
    };
    let json = folder.child("evaluation.json");
    json.write_bytes(serde_json::to_vec_pretty(&evaluation)?)?;
    folder.child("report.html").write_bytes(html_report(&evaluation)?.into_bytes())?;
    summary::print_summary(&evaluation);
    for defect in &evaluation.qa.defects {
        eprintln!("QA: {defect}");
    }
    println!("{}", json.display);
    Ok(if args.strict && !evaluation.qa.defects.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// The scenario run's fields a change-signal check starts from.
struct ChangeInputs<'a> {
    output: &'a Field,
    observed: &'a Field,
    /// The run's raw model on the observations' grid (the bilinear baseline), when it read one.
    future_model: Option<&'a Field>,
}

impl ChangeInputs<'_> {
    /// The change between `historical`'s period and this run's, for the output and the raw model.
    fn change(&self, historical: &Manifest, variable: &str, quantity: Quantity, land: &Land) -> Result<ChangeReport> {
        let future_model =
            self.future_model.ok_or_else(|| anyhow!("the scenario run read no raw model of {variable}"))?;
        let historical_daily = Field::open(&dataset(historical, "daily")?, variable)?;
        let historical_store = raw_model(historical, variable)
            .ok_or_else(|| anyhow!("{}: the historical run read no raw model of {variable}", historical.run_id))?;
        let historical_model = bilinear_baseline(&read_variable(&historical_store, variable)?, self.observed)?;
        let fields = ChangeFields {
            downscaled_historical: &historical_daily,
            downscaled_future: self.output,
            model_historical: &historical_model,
            model_future: future_model,
        };
        Ok(change_signal(&fields, land, quantity, &historical_store)?)
    }
}
