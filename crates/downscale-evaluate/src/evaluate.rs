//! One evaluation of a run's output, from the fields a caller found for it (the command line through the run's
//! manifest, a flow's task through its inputs): skill against the observations beside the bilinear baseline, the
//! change signal when a historical run is given, and the quality checks, read in one pass over the output.

use downscale_data::DataArray;

use crate::baseline::bilinear_baseline;
use crate::change::{ChangeFields, change_signal};
use crate::error::EvaluateError;
use crate::field::Field;
use crate::metrics::Quantity;
use crate::qa::{ExpectedDays, InvalidStore, QaScan, scan};
use crate::report::Evaluation;
use crate::skill::{Land, Product, SkillOptions, skill};

/// The name of the bilinear baseline in evaluations.
pub const BILINEAR: &str = "bilinear";

/// The name of the second baseline in evaluations: the raw model bias-corrected at its own scale, interpolated.
pub const QDM_BILINEAR: &str = "qdm_bilinear";

/// The name of the output in evaluations.
pub const DOWNSCALED: &str = "downscaled";

/// The historical run a scenario run's change is measured from.
pub struct Historical<'a> {
    /// Its daily output.
    pub daily: &'a Field,
    /// The raw model it read for its predicted period.
    pub model: &'a DataArray,
    /// Where that raw model is stored.
    pub model_store: &'a str,
}

/// What an evaluation reads and how.
pub struct EvaluationInputs<'a> {
    /// The run.
    pub run_id: &'a str,
    /// Its variable.
    pub variable: &'a str,
    /// Its daily output.
    pub output: &'a Field,
    /// The observations on the output's grid, and where they are.
    pub observed: (&'a Field, &'a str),
    /// The run's land mask.
    pub land: &'a Land,
    /// The raw model the run read for its predicted period, for the bilinear baseline and the change signal.
    pub model: Option<&'a DataArray>,
    /// The raw model of the predicted period bias-corrected at its own scale (quantile delta mapping against the
    /// coarsened observations), for the second baseline once interpolated.
    pub corrected_model: Option<&'a DataArray>,
    /// Years (inclusive) to compare with the observations; every shared day when `None`.
    pub years: Option<(i32, i32)>,
    /// Whether the output's days are in phase with the observations'.
    pub in_phase: bool,
    /// The days the output must hold.
    pub expected_days: Option<ExpectedDays>,
    /// Published stores of the run that do not validate.
    pub invalid_stores: Vec<InvalidStore>,
    /// The historical run (for a scenario run), or why there is none.
    pub historical: Result<Historical<'a>, String>,
}

/// Evaluates a run's output.
pub fn evaluate(inputs: EvaluationInputs<'_>) -> Result<Evaluation, EvaluateError> {
    let quantity = Quantity::of_variable(inputs.variable);
    let (observed, observations) = inputs.observed;
    let baseline = inputs.model.map(|model| bilinear_baseline(model, observed)).transpose()?;
    let mut products = vec![Product { name: DOWNSCALED, field: inputs.output }];
    if let Some(baseline) = &baseline {
        products.push(Product { name: BILINEAR, field: baseline });
    }
    let corrected = inputs.corrected_model.map(|model| bilinear_baseline(model, observed)).transpose()?;
    if let Some(corrected) = &corrected {
        products.push(Product { name: QDM_BILINEAR, field: corrected });
    }
    let mut qa = QaScan::new(inputs.output, quantity)?;
    let options = SkillOptions { quantity, years: inputs.years, in_phase: inputs.in_phase };
    let (skill_report, skill_skipped) = match skill(observed, &products, inputs.land, options, Some(&mut qa)) {
        Ok(report) => (Some(report), None),
        Err(reason @ EvaluateError::NoCommonDays { .. }) => {
            scan(inputs.output, &mut qa)?;
            (None, Some(reason.to_string()))
        }
        Err(error) => return Err(error),
    };
    let (change, change_skipped) = match (inputs.historical, &baseline) {
        (Ok(historical), Some(future_model)) => {
            let historical_model = bilinear_baseline(historical.model, observed)?;
            let fields = ChangeFields {
                downscaled_historical: historical.daily,
                downscaled_future: inputs.output,
                model_historical: &historical_model,
                model_future: future_model,
            };
            (Some(change_signal(&fields, inputs.land, quantity, historical.model_store)?), None)
        }
        (Ok(_), None) => (None, Some(format!("the run read no raw model of {}", inputs.variable))),
        (Err(reason), _) => (None, Some(reason)),
    };
    // Values are expected on land where the observations have some: the outputs follow the observations' coverage.
    let covered = match &skill_report {
        Some(report) => report.observed_coverage(),
        None => Land::from_flags(observed.cells_with_values()?),
    };
    let expected = inputs.land.intersect(&covered);
    let qa = qa.finish(inputs.output.source(), &expected, inputs.expected_days, inputs.invalid_stores)?;
    Ok(Evaluation {
        run_id: inputs.run_id.to_string(),
        variable: inputs.variable.to_string(),
        units: inputs.output.units().unwrap_or("1").to_string(),
        downscaled: inputs.output.source().to_string(),
        observations: observations.to_string(),
        skill: skill_report,
        skill_skipped,
        change_signal: change,
        change_signal_skipped: change_skipped,
        qa,
        producer: format!("downscale {}", env!("CARGO_PKG_VERSION")),
    })
}
