//! The JSON API under `/api/` that the page reads (documented in `docs/dashboard-api.md`): runs, one run with its
//! tasks, its log lines, its resource samples and its manifest. A run is named by its record number or its run id
//! (the newest run of that id).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use downscale_config::hide_uri_password;
use downscale_engine::records::{LogFilter, RunFilter};
use downscale_engine::{LogLevel, Manifest, Records, RunRecord, RunState, TaskState};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::confine::StorageRoots;
use crate::error::ApiError;
use crate::server::AppState;

/// The most runs or log lines one request returns: pages beyond it are asked for with `before` or `after`.
const MAX_PAGE: usize = 1000;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/runs", get(runs))
        .route("/api/runs/{run}", get(run))
        .route("/api/runs/{run}/logs", get(logs))
        .route("/api/runs/{run}/resources", get(resources))
        .route("/api/runs/{run}/manifest", get(manifest))
}

#[derive(Deserialize)]
struct RunsQuery {
    state: Option<String>,
    flow: Option<String>,
    q: Option<String>,
    before: Option<i64>,
    limit: Option<usize>,
}

/// `GET /api/runs`: the newest runs first, filtered by state, flow and text.
async fn runs(State(state): State<Arc<AppState>>, Query(query): Query<RunsQuery>) -> Result<Json<Value>, ApiError> {
    let run_state = query
        .state
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<RunState>())
        .transpose()
        .map_err(|e| ApiError::bad_request(format!("state: {e}")))?;
    let filter = RunFilter {
        state: run_state,
        flow: query.flow.filter(|f| !f.is_empty()),
        text: query.q,
        before: query.before,
        limit: query.limit.unwrap_or(100).clamp(1, MAX_PAGE),
    };
    let summaries = state.with_records(move |records| Ok(records.run_summaries(&filter)?)).await?;
    let runs: Vec<Value> = summaries
        .into_iter()
        .map(|summary| {
            let mut run = run_json(&summary.run);
            run["tasks_total"] = json!(summary.tasks_total);
            run["tasks_ended"] = json!(summary.tasks_ended);
            run
        })
        .collect();
    Ok(Json(json!({ "runs": runs })))
}

/// `GET /api/runs/{run}`: the run, its tasks (with the edges of the flow's graph), the failure and the outputs.
async fn run(State(state): State<Arc<AppState>>, Path(selector): Path<String>) -> Result<Json<Value>, ApiError> {
    let roots = state.roots.clone();
    let (record, tasks, manifest) = state
        .with_records(move |records| {
            let record = find(records, &selector)?;
            let tasks = records.tasks(record.id)?;
            let manifest = read_manifest(&roots, &record);
            Ok((record, tasks, manifest))
        })
        .await?;
    let failure = tasks
        .iter()
        .find(|task| task.state == TaskState::Failed)
        .map(|task| json!({ "task": task.task_id, "error": task.error }))
        .or_else(|| record.error.as_ref().map(|error| json!({ "task": null, "error": error })));
    let outputs = match manifest {
        Some(Ok(manifest)) => json!(manifest.datasets),
        _ => json!({}),
    };
    let mut run = run_json(&record);
    run["parameters"] = serde_json::from_str(&record.parameters).unwrap_or(Value::Null);
    Ok(Json(json!({ "run": run, "tasks": tasks, "failure": failure, "outputs": outputs })))
}

#[derive(Deserialize)]
struct LogsQuery {
    level: Option<String>,
    task: Option<String>,
    after: Option<i64>,
    limit: Option<usize>,
}

/// `GET /api/runs/{run}/logs`: the last lines, or those after `after`, filtered by level and task.
async fn logs(
    State(state): State<Arc<AppState>>,
    Path(selector): Path<String>,
    Query(query): Query<LogsQuery>,
) -> Result<Json<Value>, ApiError> {
    let level = query
        .level
        .filter(|l| !l.is_empty())
        .map(|l| l.parse::<LogLevel>())
        .transpose()
        .map_err(|e| ApiError::bad_request(format!("level: {e}")))?;
    let filter = LogFilter {
        level,
        task: query.task.filter(|t| !t.is_empty()),
        after: query.after,
        limit: query.limit.unwrap_or(500).clamp(1, MAX_PAGE),
    };
    let lines = state
        .with_records(move |records| {
            let record = find(records, &selector)?;
            Ok(records.log_page(record.id, &filter)?)
        })
        .await?;
    Ok(Json(json!({ "lines": lines })))
}

/// `GET /api/runs/{run}/resources`: CPU and memory of the run's process over time, and each task's measurements.
async fn resources(State(state): State<Arc<AppState>>, Path(selector): Path<String>) -> Result<Json<Value>, ApiError> {
    let samples = state
        .with_records(move |records| {
            let record = find(records, &selector)?;
            Ok(records.samples(record.id)?)
        })
        .await?;
    Ok(Json(json!({ "samples": samples })))
}

/// `GET /api/runs/{run}/manifest`: the run's manifest as written, once there is one.
async fn manifest(State(state): State<Arc<AppState>>, Path(selector): Path<String>) -> Result<Json<Value>, ApiError> {
    let roots = state.roots.clone();
    let manifest = state
        .with_records(move |records| {
            let (_, manifest, _) = published(records, &roots, &selector)?;
            Ok(manifest)
        })
        .await?;
    Ok(Json(json!(manifest)))
}

/// The run a path names: its record number, or the newest run of a run id.
pub(crate) fn find(records: &Records, selector: &str) -> Result<RunRecord, ApiError> {
    records.find_run(selector)?.ok_or_else(|| ApiError::not_found(format!("no run '{selector}' in the records")))
}

/// The run `selector` names, its manifest (404 until it is written) and its parameters as JSON: what every view of
/// a run's outputs starts from. Blocks, like [`read_manifest`].
pub(crate) fn published(
    records: &Records,
    roots: &StorageRoots,
    selector: &str,
) -> Result<(RunRecord, Manifest, Value), ApiError> {
    let record = find(records, selector)?;
    let manifest = read_manifest(roots, &record)
        .unwrap_or_else(|| Err(ApiError::not_found(format!("run {} has no manifest yet", record.id))))?;
    let parameters = serde_json::from_str(&record.parameters).unwrap_or_default();
    Ok((record, manifest, parameters))
}

/// The run's manifest, read only from inside the storage roots; `None` before it is written. Blocks (the data
/// layer's reads do), so it runs where [`AppState::with_records`] runs its queries.
pub(crate) fn read_manifest(roots: &StorageRoots, record: &RunRecord) -> Option<Result<Manifest, ApiError>> {
    let path = record.manifest.as_deref()?;
    Some((|| {
        let location = roots.open(path)?;
        let unreadable =
            |detail: String| ApiError::not_found(format!("the manifest {}: {detail}", hide_uri_password(path)));
        let bytes = location
            .read_bytes()
            .map_err(|e| unreadable(downscale_message::one_line(&e)))?
            .ok_or_else(|| unreadable("not found".into()))?;
        serde_json::from_slice(&bytes).map_err(|e| unreadable(e.to_string()))
    })())
}

/// A run as the API shows it: its record with passwords in URLs hidden, a one-line summary of its parameters and
/// how long it took (or has taken so far).
fn run_json(record: &RunRecord) -> Value {
    let mut run = json!(record);
    for field in ["dashboard", "manifest", "parameter_file"] {
        if let Some(text) = run[field].as_str() {
            run[field] = json!(hide_uri_password(text));
        }
    }
    if let Value::Object(fields) = &mut run {
        fields.remove("parameters");
    }
    run["summary"] = json!(parameters_summary(&record.parameters));
    run["duration_seconds"] = json!(duration_seconds(record));
    run
}

/// The parameters people tell runs apart by: variable, model, scenario, member, observations and periods.
pub(crate) fn parameters_summary(parameters: &str) -> String {
    let Ok(Value::Object(parameters)) = serde_json::from_str::<Value>(parameters) else { return String::new() };
    let text = |key: &str| parameters.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    let period = |key: &str| match parameters.get(key).and_then(Value::as_array).map(Vec::as_slice) {
        Some([Value::String(from), Value::String(to)]) => {
            format!("{key_name} {from}–{to}", key_name = &key[..key.len() - 6])
        }
        _ => String::new(),
    };
    let model = [text("model"), text("scenario"), text("member")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    [text("variable"), model, text("obs"), period("train_dates"), period("predict_dates")]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Seconds from start to end, or to now for a run still running; `None` when a time cannot be read.
fn duration_seconds(record: &RunRecord) -> Option<f64> {
    let parse = |text: &str| chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&chrono::Utc));
    let started = parse(&record.started_at)?;
    let ended = match &record.ended_at {
        Some(ended) => parse(ended)?,
        None if record.state == RunState::Running => chrono::Utc::now(),
        None => return None,
    };
    Some((ended - started).num_milliseconds() as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_names_what_tells_runs_apart() {
        let parameters = r#"{"method": "bcsd", "obs": "E-OBS", "model": "CNRM-CM5", "member": "r1i1p1",
            "scenario": "rcp85", "variable": "pr", "train_dates": ["1983", "2002"], "predict_dates": ["2081", "2100"]}"#;
        assert_eq!(
            parameters_summary(parameters),
            "pr · CNRM-CM5 rcp85 r1i1p1 · E-OBS · train 1983–2002 · predict 2081–2100"
        );
        assert_eq!(parameters_summary("{}"), "");
        assert_eq!(parameters_summary("not json"), "");
    }
}
