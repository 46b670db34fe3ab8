//! The evaluation as tasks of a flow (`run_options.evaluate`), so a batch of runs produces its evaluations with
//! its outputs: `evaluate` scores the daily output against the observations the flow read, beside the raw model
//! interpolated, and checks its quality, reading it once; `evaluation_report` draws the report from that document.
//! Both are published beside the run's stores.
//!
//! The change signal needs the historical run's output, which another run makes: `downscale evaluate` measures it
//! once both are published.

use downscale_engine::{ArtifactKind, Output, Task, TaskContext, TaskError, TaskKind};
use downscale_evaluate::{Evaluation, EvaluationInputs, ExpectedDays, Field, Land, evaluate, html_report};
use serde::{Deserialize, Serialize};

use crate::baselines::coarse_qdm;

/// What `evaluate` scores; with its inputs, the whole of its cache key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluateParams {
    /// The run evaluated (named in the document).
    pub run_id: String,
    /// The variable.
    pub variable: String,
    /// The years the run predicted: the days compared with the observations, where the flow read them.
    pub years: [i32; 2],
    /// Whether the driving data is in phase with the observations (a reanalysis): RMSE and correlation are scored.
    pub in_phase: bool,
}

/// Scores a run's daily output (inputs `daily`, `obs`, `land`, and `model` and `model_train` when the flow read
/// the raw model of the variable), beside the bilinear and the QDM baselines.
pub struct Evaluate;

impl TaskKind for Evaluate {
    const NAME: &'static str = "evaluate";
    const VERSION: u32 = 2;
    const ARTIFACT: ArtifactKind = ArtifactKind::Json;
    type Params = EvaluateParams;

    fn run(&self, ctx: &TaskContext, params: EvaluateParams) -> Result<(), TaskError> {
        let failed = |e: downscale_evaluate::EvaluateError| TaskError::new(e.to_string());
        let output = Field::Stored(ctx.open_input("daily")?);
        let observed = Field::Stored(ctx.open_input("obs")?);
        let observations = observed.source().to_string();
        let land = Land::from_fraction(&ctx.read_array("land")?.data.iter().copied().collect::<Vec<_>>());
        let model = if ctx.input("model").is_ok() { Some(ctx.read_array("model")?) } else { None };
        let corrected_model = match (&model, ctx.input("model_train").is_ok()) {
            (Some(model), true) => {
                Some(coarse_qdm(&ctx.read_array("obs")?, &ctx.read_array("model_train")?, model, &params.variable)?)
            }
            _ => None,
        };
        let evaluation = evaluate(EvaluationInputs {
            run_id: &params.run_id,
            variable: &params.variable,
            output: &output,
            observed: (&observed, &observations),
            land: &land,
            model: model.as_ref(),
            corrected_model: corrected_model.as_ref(),
            years: Some((params.years[0], params.years[1])),
            in_phase: params.in_phase,
            expected_days: model.as_ref().and_then(ExpectedDays::covering),
            // The daily artifact is complete: the engine accepts no other.
            invalid_stores: Vec::new(),
            historical: Err(
                "evaluated in the run's flow; `downscale evaluate` measures the change against the historical run"
                    .into(),
            ),
        })
        .map_err(failed)?;
        ctx.write_json(&evaluation)
    }
}

/// What `evaluation_report` draws: only its input, so it has no parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {}

/// The evaluation's HTML report (input `evaluation`).
pub struct EvaluationReport;

impl TaskKind for EvaluationReport {
    const NAME: &'static str = "evaluation_report";
    const VERSION: u32 = 1;
    const ARTIFACT: ArtifactKind = ArtifactKind::Html;
    type Params = ReportParams;

    fn run(&self, ctx: &TaskContext, _params: ReportParams) -> Result<(), TaskError> {
        let evaluation: Evaluation = ctx.read_json("evaluation")?;
        ctx.write_html(&html_report(&evaluation).map_err(|e| TaskError::new(e.to_string()))?)
    }
}

/// Adds the evaluation's two tasks and outputs to a flow whose tasks include `get_obs` and `land_mask` and whose
/// outputs include `daily`: the evaluation is published as `<daily store's stem>.evaluation.json` and the report as
/// `<stem>.report.html`. A flow without them (none today) is left as it is.
pub fn add_evaluation(
    tasks: &mut Vec<Task>,
    outputs: &mut Vec<Output>,
    params: &EvaluateParams,
) -> Result<(), TaskError> {
    let has = |id: &str| tasks.iter().any(|task| task.id == id);
    let Some(daily) = outputs.iter().find(|o| o.dataset == "daily").cloned() else { return Ok(()) };
    if !has("get_obs") || !has("land_mask") {
        return Ok(());
    }
    let mut evaluate = Task::of::<Evaluate>("evaluate", params)?
        .input("daily", &daily.task_id)
        .input("obs", "get_obs")
        .input("land", "land_mask");
    let model = ["get_experiment_predict".to_string(), format!("get_experiment_predict_{}", params.variable)];
    if let Some(model) = model.iter().find(|id| has(id)) {
        evaluate = evaluate.input("model", model);
    }
    let train = ["get_experiment_train".to_string(), format!("get_experiment_train_{}", params.variable)];
    if let Some(train) = train.iter().find(|id| has(id)) {
        evaluate = evaluate.input("model_train", train);
    }
    tasks.push(evaluate);
    tasks.push(Task::of::<EvaluationReport>("evaluation_report", &ReportParams {})?.input("evaluation", "evaluate"));
    let stem = daily.published_name.trim_end_matches(".zarr");
    outputs.push(Output {
        dataset: "evaluation".into(),
        task_id: "evaluate".into(),
        published_name: format!("{stem}.evaluation.json"),
    });
    outputs.push(Output {
        dataset: "report".into(),
        task_id: "evaluation_report".into(),
        published_name: format!("{stem}.report.html"),
    });
    Ok(())
}
