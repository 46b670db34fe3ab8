//! `downscale evaluate`: the skill of a finished run against the observations it was trained on, and the quality
//! checks of its output, written as JSON next to its outputs (or under `--out`) and summarised on stdout.
//!
//! What is compared comes from the run's manifest: the published daily store, the observations the flow read
//! (`get_obs`, on the output's grid), its land mask (`land_mask`), and the raw model it read for the predicted
//! period (`get_experiment_predict*`), whose days are the days the output must hold.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use downscale_data::calendar::CfDateTime;
use downscale_data::validate::validate_store;
use downscale_data::{Location, read_variable};
use downscale_engine::Manifest;
use downscale_evaluate::{
    EvaluateError, Evaluation, ExpectedDays, Field, InvalidStore, Land, Product, QaScan, Quantity, SkillOptions,
    bilinear_baseline, scan, skill,
};

use super::ConfigArgs;
use super::flow_setup::storage_location;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// A run id (its last successful run's manifest under `storage.results`) or a manifest file.
    run: String,
    /// Years (inclusive) to compare with the observations [default: every day the output and the observations
    /// share].
    #[arg(long, num_args = 2, value_names = ["Y0", "Y1"])]
    obs_years: Option<Vec<i32>>,
    /// Folder to write `evaluation.json` to [default: `evaluation` beside the run's daily store].
    #[arg(long, value_name = "DIR")]
    out: Option<String>,
    /// Score daily values (RMSE, correlation) as in phase with the observations even when the driving data is not
    /// a reanalysis (a perfect-model experiment).
    #[arg(long)]
    in_phase: bool,
    /// Exit with status 1 when quality checks find a defect.
    #[arg(long)]
    strict: bool,
}

pub(crate) fn run(args: Args, config: &ConfigArgs) -> Result<ExitCode> {
    let manifest = load_manifest(&args.run, config)?;
    if let Some(failure) = &manifest.failure {
        bail!("run {} failed in task {}: a failed run has no output to evaluate", manifest.run_id, failure.task);
    }
    let text = |key: &str| manifest.parameters.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let variable = text("variable").ok_or_else(|| anyhow!("{}: the parameters have no 'variable'", manifest.run_id))?;
    let daily = dataset(&manifest, "daily")?;
    let observations = intermediate(&manifest, "get_obs")?;
    let output = Field::open(&daily, &variable)?;
    let observed = Field::open(&observations, &variable)?;
    let quantity = Quantity::of_variable(&variable);
    let land = land_mask(&manifest, &observations, &variable)?;
    let in_phase = args.in_phase
        || manifest
            .attrs
            .get("driving_activity_id")
            .and_then(|v| v.as_str())
            .is_some_and(|a| a.eq_ignore_ascii_case("reanalysis"));
    let years = args.obs_years.as_deref().map(|y| (y[0], y[1]));

    let mut qa = QaScan::new(&output, quantity)?;
    let options = SkillOptions { quantity, years, in_phase };
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
        None => coverage(&observations, &variable)?,
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
        qa,
        producer: format!("downscale {}", env!("CARGO_PKG_VERSION")),
    };
    let folder = match &args.out {
        Some(out) => Location::parse(out)?,
        None => Location::parse(&daily)?.sibling("evaluation"),
    };
    let json = folder.child("evaluation.json");
    json.write_bytes(serde_json::to_vec_pretty(&evaluation)?)?;
    print_summary(&evaluation);
    for defect in &evaluation.qa.defects {
        eprintln!("QA: {defect}");
    }
    println!("{}", json.display);
    Ok(if args.strict && !evaluation.qa.defects.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// The manifest `run` names: a manifest file, or the last successful run of a run id under `storage.results`.
fn load_manifest(run: &str, config: &ConfigArgs) -> Result<Manifest> {
    let path = PathBuf::from(run);
    let (bytes, name) = if path.is_file() {
        (std::fs::read(&path).with_context(|| format!("{run}: cannot read the manifest"))?, run.to_string())
    } else if run.ends_with(".json") {
        bail!("{run}: no such manifest file");
    } else {
        let results = storage_location(&config.load()?, "results")?;
        let location = results.child(&format!("runs/{run}/latest.json"));
        let bytes = location.read_bytes()?.ok_or_else(|| {
            anyhow!("run '{run}' has no successful run under {} (no {})", results.display, location.display)
        })?;
        (bytes, location.display)
    };
    serde_json::from_slice(&bytes).map_err(|e| anyhow!("{name}: not a run manifest: {e}"))
}

fn dataset(manifest: &Manifest, name: &str) -> Result<String> {
    manifest.datasets.get(name).cloned().ok_or_else(|| {
        anyhow!("{}: the manifest lists no '{name}' dataset, which an evaluation reads", manifest.run_id)
    })
}

fn intermediate(manifest: &Manifest, task: &str) -> Result<String> {
    manifest.intermediates.get(task).cloned().ok_or_else(|| {
        anyhow!("{}: the manifest lists no '{task}' intermediate, which an evaluation reads", manifest.run_id)
    })
}

/// The name of the bilinear baseline in the evaluation.
const BILINEAR: &str = "bilinear";

/// The raw model's field of the predicted variable for the predicted period, when the flow read one
/// (`get_experiment_predict` in BCSD, `get_experiment_predict_<variable>` in GARD when it is a predictor).
fn raw_model(manifest: &Manifest, variable: &str) -> Option<String> {
    let tasks = ["get_experiment_predict".to_string(), format!("get_experiment_predict_{variable}")];
    tasks.iter().find_map(|task| manifest.intermediates.get(task).cloned())
}

/// The run's land mask, or where the observations have values when the flow made none.
fn land_mask(manifest: &Manifest, observations: &str, variable: &str) -> Result<Land> {
    match manifest.intermediates.get("land_mask") {
        Some(mask) => {
            let array = read_variable(mask, "land")?;
            Ok(Land::from_fraction(&array.data.iter().copied().collect::<Vec<_>>()))
        }
        None => coverage(observations, variable),
    }
}

/// The cells where the observations have at least one value.
fn coverage(observations: &str, variable: &str) -> Result<Land> {
    let matrix = read_variable(observations, variable)?.time_point_matrix();
    Ok(Land::from_flags(matrix.columns().into_iter().map(|c| c.iter().any(|v| v.is_finite())).collect()))
}

/// The days the output must hold: those of the raw model read for the predicted period, in the predicted years.
fn expected_days(manifest: &Manifest) -> Result<Option<ExpectedDays>> {
    let Some((_, model)) = manifest.intermediates.iter().find(|(task, _)| task.starts_with("get_experiment_predict"))
    else {
        return Ok(None);
    };
    let variable = downscale_data::decode::data_variables(&*downscale_data::backend::open(&Location::parse(model)?)?)
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("{model}: no data variable"))?;
    let reader = downscale_data::VariableReader::open(model, &variable)?;
    let Some(time) = &reader.template().time else { return Ok(None) };
    let dates: Vec<&CfDateTime> = time.dates.iter().collect();
    let (Some(first), Some(last)) = (dates.first(), dates.last()) else { return Ok(None) };
    let mut months = [false; 12];
    for date in &dates {
        months[date.month as usize - 1] = true;
    }
    Ok(Some(ExpectedDays { first: **first, last: **last, months }))
}

/// The land-mean numbers on stdout: a row per statistic, the observed value then each product's value and
/// comparison.
fn print_summary(evaluation: &Evaluation) {
    let Some(skill) = &evaluation.skill else {
        if let Some(reason) = &evaluation.skill_skipped {
            println!("no skill against the observations: {reason}");
        }
        return;
    };
    println!(
        "{} against the observations, {} to {} ({} days), land means:",
        evaluation.run_id, skill.period.first, skill.period.last, skill.period.days
    );
    let products: Vec<&String> = skill.pattern_correlation.keys().collect();
    let mut header = format!("{:<18} {:>10}", "statistic", "observed");
    for product in &products {
        header += &format!(" {:>11} {:>11}", product, "comparison");
    }
    println!("{header}  unit");
    for statistic in &skill.statistics {
        let mut row = format!("{:<18} {:>10.4}", statistic.name, statistic.observed.land_mean);
        for product in &products {
            let maps = &statistic.products[*product];
            row += &format!(" {:>11.4} {:>11.4}", maps.value.land_mean, maps.skill.land_mean);
        }
        println!("{row}  {} ({:?})", statistic.units, statistic.comparison);
    }
    for paired in &skill.paired {
        let mut row = format!("{:<18} {:>10}", paired.name, "");
        for product in &products {
            row += &format!(" {:>11} {:>11.4}", "", paired.products[*product].land_mean);
        }
        println!("{row}  {}", paired.units);
    }
    for (product, r) in &skill.pattern_correlation {
        println!("pattern correlation of the mean ({product}): {r:.4}");
    }
}
