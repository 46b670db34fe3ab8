//! Pictures of the data: maps and domain-mean series of a run's published stores or of any store inside the
//! storage roots, and a finished run's downscaled-minus-observed climatology. Stores are read and images drawn on
//! a blocking thread (the data layer and the renderer both block), with `downscale-plot`, the same code as
//! `downscale plot`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use downscale_data::decode::data_variables;
use downscale_data::{DataArray, backend, read_variable_at};
use downscale_plot::{
    Coastlines, ColourScale, Field, FieldSelection, ImageFormat, ImageSpec, MapOptions, Mean, SeriesStep, TimeSpec,
    difference, domain_mean_series, mean_over_years, render_map, render_series, select_field,
};
use serde::Deserialize;

use crate::api::published;
use crate::confine::StorageRoots;
use crate::error::ApiError;
use crate::server::AppState;

/// The size of the images served: wide enough for a map's colour bar beside it, small enough for a page.
const IMAGE: (u32, u32) = (760, 480);

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/map.png", get(map_of_store))
        .route("/api/series.png", get(series_of_store))
        .route("/api/runs/{run}/map.png", get(map_of_run))
        .route("/api/runs/{run}/series.png", get(series_of_run))
        .route("/api/runs/{run}/bias.png", get(bias_of_run))
}

/// What to draw of a store: the variable, and a day, a month's, a year's or the record's mean.
#[derive(Deserialize, Default)]
struct Picture {
    /// The store, for `/api/map.png` and `/api/series.png`: a path or URL inside the storage roots.
    store: Option<String>,
    /// One of a run's published datasets (`daily`, `monthly`, `annual`), for the run's pictures.
    dataset: Option<String>,
    /// The variable; by default the store's only data variable, or the run's.
    var: Option<String>,
    /// `YYYY-MM-DD`, `YYYY-MM` or `YYYY`.
    time: Option<String>,
    /// `month`, `year` or `all`: the mean over the month or year of `time`, or over the whole record. A series:
    /// monthly or annual means.
    mean: Option<String>,
}

async fn map_of_store(
    State(state): State<Arc<AppState>>,
    Query(picture): Query<Picture>,
) -> Result<Response, ApiError> {
    let store = picture.store.clone().ok_or_else(|| ApiError::bad_request("store: expected a store's path"))?;
    draw(&state, move |roots| map_png(roots, &store, None, &picture)).await
}

async fn series_of_store(
    State(state): State<Arc<AppState>>,
    Query(picture): Query<Picture>,
) -> Result<Response, ApiError> {
    let store = picture.store.clone().ok_or_else(|| ApiError::bad_request("store: expected a store's path"))?;
    draw(&state, move |roots| series_png(roots, &store, None, &picture)).await
}

async fn map_of_run(
    State(state): State<Arc<AppState>>,
    Path(selector): Path<String>,
    Query(picture): Query<Picture>,
) -> Result<Response, ApiError> {
    let (store, variable) = run_store(&state, selector, picture.dataset.clone()).await?;
    draw(&state, move |roots| map_png(roots, &store, variable.as_deref(), &picture)).await
}

async fn series_of_run(
    State(state): State<Arc<AppState>>,
    Path(selector): Path<String>,
    Query(picture): Query<Picture>,
) -> Result<Response, ApiError> {
    let (store, variable) = run_store(&state, selector, picture.dataset.clone()).await?;
    draw(&state, move |roots| series_png(roots, &store, variable.as_deref(), &picture)).await
}

/// The mean of the run's daily output over its whole period minus the mean of the observations it was trained
/// on over the training period: the bias where the two periods are the same (a historical run), bias plus the
/// model's change signal where they are not, which the title says.
async fn bias_of_run(State(state): State<Arc<AppState>>, Path(selector): Path<String>) -> Result<Response, ApiError> {
    let roots = state.roots.clone();
    let (downscaled, observed, variable, train) = state
        .with_records(move |records| {
            let (record, manifest, parameters) = published(records, &roots, &selector)?;
            let daily = manifest
                .datasets
                .get("daily")
                .cloned()
                .ok_or_else(|| ApiError::not_found(format!("run {} published no daily output", record.id)))?;
            let observed = manifest.intermediates.get("get_obs").cloned().ok_or_else(|| {
                ApiError::not_found(format!("run {} has no observations of a training period", record.id))
            })?;
            let year = |index: usize| {
                parameters["train_dates"][index].as_str().and_then(|text| text.get(..4)?.parse::<i32>().ok())
            };
            let train = year(0).zip(year(1)).ok_or_else(|| {
                ApiError::not_found(format!("run {} has no training period in its parameters", record.id))
            })?;
            let variable = parameters["variable"].as_str().map(str::to_string);
            Ok((daily, observed, variable, train))
        })
        .await?;
    draw(&state, move |roots| {
        let downscaled = read_store(roots, &downscaled, variable.as_deref())?;
        let observed = read_store(roots, &observed, Some(&downscaled.name))?;
        let predicted = select_field(&downscaled, FieldSelection::RecordMean).map_err(plot_error)?;
        let climatology = mean_over_years(&observed, train.0, train.1).map_err(plot_error)?;
        let field = difference(&predicted, &climatology).map_err(plot_error)?;
        let years = |array: &DataArray| {
            let dates = array.time.as_ref().map(|time| time.dates.as_slice()).unwrap_or_default();
            match (dates.first(), dates.last()) {
                (Some(first), Some(last)) => format!("{}–{}", first.year, last.year),
                _ => String::new(),
            }
        };
        let title =
            format!("{} downscaled {} minus observed {}–{}", downscaled.name, years(&downscaled), train.0, train.1);
        let options = MapOptions { scale: ColourScale::Diverging, robust_range: true, title: Some(title) };
        render_field(&field, &options)
    })
    .await
}

/// The store of one of a run's published datasets (`daily` by default) and the run's variable.
async fn run_store(
    state: &Arc<AppState>,
    selector: String,
    dataset: Option<String>,
) -> Result<(String, Option<String>), ApiError> {
    let roots = state.roots.clone();
    state
        .with_records(move |records| {
            let (record, manifest, parameters) = published(records, &roots, &selector)?;
            let dataset = dataset.unwrap_or_else(|| "daily".to_string());
            let store = manifest.datasets.get(&dataset).cloned().ok_or_else(|| {
                let known: Vec<&str> = manifest.datasets.keys().map(String::as_str).collect();
                ApiError::not_found(format!(
                    "run {} has no dataset '{dataset}' (it has {})",
                    record.id,
                    known.join(", ")
                ))
            })?;
            Ok((store, parameters["variable"].as_str().map(str::to_string)))
        })
        .await
}

fn map_png(roots: &StorageRoots, store: &str, variable: Option<&str>, picture: &Picture) -> Result<Vec<u8>, ApiError> {
    let array = read_store(roots, store, picture.var.as_deref().or(variable))?;
    let time = picture.time.as_deref().filter(|t| !t.is_empty()).map(str::parse::<TimeSpec>).transpose();
    let time = time.map_err(|e| ApiError::bad_request(format!("time: {e}")))?;
    let mean = picture.mean.as_deref().filter(|m| !m.is_empty()).map(str::parse::<Mean>).transpose();
    let selection = FieldSelection::from_time_and_mean(time, mean.map_err(plot_error)?).map_err(plot_error)?;
    let field = select_field(&array, selection).map_err(plot_error)?;
    render_field(&field, &MapOptions::default())
}

fn series_png(
    roots: &StorageRoots,
    store: &str,
    variable: Option<&str>,
    picture: &Picture,
) -> Result<Vec<u8>, ApiError> {
    let array = read_store(roots, store, picture.var.as_deref().or(variable))?;
    let mean = picture.mean.as_deref().filter(|m| !m.is_empty()).map(str::parse::<Mean>).transpose();
    let step = match mean.map_err(plot_error)? {
        None | Some(Mean::All) => SeriesStep::Daily,
        Some(Mean::Month) => SeriesStep::Monthly,
        Some(Mean::Year) => SeriesStep::Annual,
    };
    let series = domain_mean_series(&array, step).map_err(plot_error)?;
    let image =
        render_series(&series, None, ImageSpec { format: ImageFormat::Png, width: IMAGE.0, height: IMAGE.1 / 2 })
            .map_err(plot_error)?;
    Ok(image.bytes)
}

fn render_field(field: &Field, options: &MapOptions) -> Result<Vec<u8>, ApiError> {
    let coastlines = Coastlines::natural_earth_near(field).map_err(plot_error)?;
    let spec = ImageSpec { format: ImageFormat::Png, width: IMAGE.0, height: IMAGE.1 };
    Ok(render_map(field, &coastlines, options, spec).map_err(plot_error)?.bytes)
}

/// A store's variable, read from inside the storage roots: `variable` when the store holds it, else its only data
/// variable; several without a choice is an error listing them.
fn read_store(roots: &StorageRoots, store: &str, variable: Option<&str>) -> Result<DataArray, ApiError> {
    let location = roots.open(store)?;
    let unreadable = |e: &downscale_data::DataError| ApiError::bad_request(downscale_message::one_line(e));
    let dataset = backend::open(&location).map_err(|e| unreadable(&e))?;
    let names = data_variables(dataset.as_ref());
    let name = match (variable, names.as_slice()) {
        (Some(variable), _) if names.iter().any(|n| n == variable) => variable.to_string(),
        (_, [only]) => only.clone(),
        _ => {
            return Err(ApiError::bad_request(format!(
                "{}: which variable? it holds {} (add var=NAME)",
                downscale_config::hide_uri_password(store),
                names.join(", ")
            )));
        }
    };
    read_variable_at(&location, &name).map_err(|e| unreadable(&e))
}

fn plot_error(error: downscale_plot::PlotError) -> ApiError {
    ApiError::bad_request(downscale_message::one_line(&error))
}

/// Draws on a blocking thread and answers with the PNG.
async fn draw<F>(state: &Arc<AppState>, make: F) -> Result<Response, ApiError>
where
    F: FnOnce(&StorageRoots) -> Result<Vec<u8>, ApiError> + Send + 'static,
{
    let roots = state.roots.clone();
    let png = tokio::task::spawn_blocking(move || make(&roots)).await.map_err(|error| ApiError::internal(&error))??;
    Ok(([(CONTENT_TYPE, "image/png"), (CACHE_CONTROL, "no-cache")], png).into_response())
}
