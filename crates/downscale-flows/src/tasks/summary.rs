//! Monthly and annual summaries of a daily output (the original's `time_summary`): the mean for
//! temperatures, the sum for precipitation, stamped at the start of each month or year.
//!
//! Missing values are skipped, as xarray's `resample(...).mean()/sum()` skips them, except that a cell with no
//! value in a period is NaN in both; xarray's sum would give 0 there, which turns masked ocean into dry land.

use downscale_data::calendar::CfDateTime;
use downscale_data::{AttrValue, DataArray, TimeAxis};
use downscale_engine::TaskError;
use ndarray::{Array2, Array3, ArrayView3, Axis};
use serde::{Deserialize, Serialize};

/// The length of a summary's steps (the original's `month` and `year` stores).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// Calendar months.
    Month,
    /// Calendar years.
    Year,
}

/// How a summary combines the days of a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Statistic {
    /// The mean of the period's valid days (temperatures).
    Mean,
    /// The total over the period (precipitation: mm day-1 summed to mm).
    Sum,
}

impl Statistic {
    /// The original's rule: sums for precipitation, means for everything else.
    pub fn for_variable(variable: &str) -> Statistic {
        if variable == "pr" { Statistic::Sum } else { Statistic::Mean }
    }
}

/// The labels of `daily`'s summary (its data left empty; `daily` may be a reader's template) and the steps of
/// each period, in time order.
pub fn summary_labels(
    daily: &DataArray,
    period: Period,
    statistic: Statistic,
) -> Result<(DataArray, Vec<Vec<usize>>), TaskError> {
    let time = daily.time.as_ref().ok_or_else(|| TaskError::new(format!("{}: no time axis", daily.source)))?;
    let start_of = |d: &CfDateTime| match period {
        Period::Month => CfDateTime::ymd(d.year, d.month, 1),
        Period::Year => CfDateTime::ymd(d.year, 1, 1),
    };
    let mut periods: Vec<(CfDateTime, Vec<usize>)> = Vec::new();
    for (step, date) in time.dates.iter().enumerate() {
        let start = start_of(date);
        match periods.last_mut() {
            Some((last, steps)) if *last == start => steps.push(step),
            _ => periods.push((start, vec![step])),
        }
    }
    let mut summary = daily.with_data(ndarray::ArrayD::zeros(vec![0; daily.dims.len()]));
    summary.time = Some(TimeAxis {
        calendar: time.calendar,
        units: time.units.clone(),
        dates: periods.iter().map(|(start, _)| *start).collect(),
    });
    let (frequency, method) = match (period, statistic) {
        (Period::Month, Statistic::Mean) => ("mon", "time: mean within months"),
        (Period::Month, Statistic::Sum) => ("mon", "time: sum within months"),
        (Period::Year, Statistic::Mean) => ("yr", "time: mean within years"),
        (Period::Year, Statistic::Sum) => ("yr", "time: sum within years"),
    };
    summary.attrs.insert("cell_methods".into(), AttrValue::Text(method.into()));
    summary.global_attrs.insert("frequency".into(), AttrValue::Text(frequency.into()));
    // A sum of daily rates is an amount: CF writes precipitation amounts in mm (kg m-2).
    if statistic == Statistic::Sum && summary.units() == Some("mm day-1") {
        summary.attrs.insert("units".into(), AttrValue::Text("mm".into()));
    }
    Ok((summary, periods.into_iter().map(|(_, steps)| steps).collect()))
}

/// The summary of a `(time, lat, lon)` block of daily values over `periods` (the steps of each), in f64.
pub fn summary_values(data: ArrayView3<f32>, periods: &[Vec<usize>], statistic: Statistic) -> Array3<f32> {
    let (_, n_lat, n_lon) = data.dim();
    let mut out = Array3::<f32>::from_elem((periods.len(), n_lat, n_lon), f32::NAN);
    for (steps, mut slot) in periods.iter().zip(out.axis_iter_mut(Axis(0))) {
        let mut sums = Array2::<f64>::zeros((n_lat, n_lon));
        let mut counts = Array2::<u32>::zeros((n_lat, n_lon));
        for &step in steps {
            ndarray::Zip::from(&mut sums).and(&mut counts).and(data.index_axis(Axis(0), step)).for_each(
                |sum, count, &value| {
                    if !value.is_nan() {
                        *sum += f64::from(value);
                        *count += 1;
                    }
                },
            );
        }
        ndarray::Zip::from(&mut slot).and(&sums).and(&counts).for_each(|cell, &sum, &count| {
            if count > 0 {
                *cell = match statistic {
                    Statistic::Mean => (sum / f64::from(count)) as f32,
                    Statistic::Sum => sum as f32,
                };
            }
        });
    }
    out
}
