//! BCSD's spatial anomalies (the "spatial disaggregation"): the fine detail the coarse grid cannot hold, one map per
//! calendar month from the training days, restored onto the interpolated bias-corrected field.
//!
//! Two kinds, as [`Detail`] says:
//! - additive, `A[m] = mean over the training days of month m of (obs − interpolated coarse obs)`, added back:
//!   temperature, and every variable in the original system's flow and with the BCSD point models;
//! - multiplicative, `A[m] = Σ obs / Σ interpolated coarse obs` over those days, multiplied back: precipitation by
//!   default, as in classic BCSD (Wood et al. 2004). Added anomalies make precipitation negative wherever the fine
//!   detail is drier than the smoothed field (about 30% of the days over Iberia) and leave no day dry; a ratio keeps
//!   zero at zero and can never turn a value negative.

use downscale_data::{AttrValue, CoordValues, Coordinate, DataArray, TimeAxis, VariableReader};
use downscale_engine::{Budget, TaskError};
use ndarray::{Array3, ArrayD, Axis, Ix3};

use crate::tasks::blocks::time_blocks;
use crate::tasks::regrid::Regridding;

/// How the fine detail is measured and restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Detail {
    /// Differences, added back.
    Additive,
    /// Bounded ratios, multiplied back, and amounts under [`TRACE_PRECIPITATION`] set to 0 (precipitation).
    Multiplicative,
}

impl Detail {
    /// The name in task parameters and output attributes.
    pub fn as_str(self) -> &'static str {
        match self {
            Detail::Additive => "additive",
            Detail::Multiplicative => "multiplicative",
        }
    }
}

/// Bounds of a multiplicative anomaly. Over Iberia's winters the ratios lie in 0.46..1.91; a ratio far outside that
/// arises only where the smoothed field is nearly dry, where it would amplify the coarse field's noise rather than
/// add detail. The same cap of 5 bounds the ratios of this tool's equidistant CDF matching.
pub const RATIO_BOUNDS: (f32, f32) = (0.2, 5.0);

/// Daily amounts below this (mm day-1) are dry. 0.1 mm is the resolution gauge networks and gridded observations such
/// as E-OBS report, so smaller amounts cannot be told from zero in the observations the output is compared with; the
/// bilinear interpolation of the coarse field spreads such drizzle over every fine cell next to a wet one.
pub const TRACE_PRECIPITATION: f32 = 0.1;

/// The 12 maps `(month, lat, lon)` of `detail` between `obs` and the coarse obs interpolated back onto its grid
/// (`interpolated` gives a block of days of it), block of days by block of days (the block's two fields and the
/// maps' sums in memory, blocks as large as `budget` allows); a month without training days is NaN.
pub fn spatial_anomalies(
    obs: &VariableReader,
    interpolated: &Regridding,
    detail: Detail,
    budget: Budget,
) -> Result<DataArray, TaskError> {
    let template = obs.template();
    let &[steps, n_lat, n_lon] = obs.shape() else {
        return Err(TaskError::new(format!("{}: not a (time, lat, lon) field: {:?}", template.source, obs.shape())));
    };
    if interpolated.shape() != obs.shape() {
        return Err(TaskError::new(format!(
            "{}: shape {:?} differs from the interpolated obs {:?}",
            template.source,
            obs.shape(),
            interpolated.shape()
        )));
    }
    // Additive: sums of differences and their counts. Multiplicative: sums of obs and of the smoothed field.
    let mut sums = Array3::<f64>::zeros((12, n_lat, n_lon));
    let mut counts = Array3::<u32>::zeros((12, n_lat, n_lon));
    let mut smooth_sums =
        Array3::<f64>::zeros(if detail == Detail::Multiplicative { (12, n_lat, n_lon) } else { (0, 0, 0) });
    // Blocks in turn, each read by both readers at once.
    let in_turn = Budget { threads: 1, ..budget };
    for days in time_blocks(steps, 2 * 4 * n_lat * n_lon, 1, in_turn) {
        let ranges = [days.clone(), 0..n_lat, 0..n_lon];
        let (fine, smooth) = rayon::join(|| obs.read_block(&ranges), || interpolated.days(days));
        let (fine, smooth) = (fine?, smooth?);
        let time = fine.time.as_ref().ok_or_else(|| TaskError::new(format!("{}: no time axis", fine.source)))?;
        let fine_days = fine.data.view().into_dimensionality::<Ix3>().map_err(TaskError::new)?;
        let smooth_days = smooth.data.view().into_dimensionality::<Ix3>().map_err(TaskError::new)?;
        let months: Vec<usize> = time.dates.iter().map(|date| date.month as usize - 1).collect();
        // Latitude rows in parallel; each cell still adds its days in time order, so the maps are the same bits
        // whatever the number of threads or the size of the blocks.
        match detail {
            Detail::Additive => ndarray::Zip::from(sums.axis_iter_mut(Axis(1)))
                .and(counts.axis_iter_mut(Axis(1)))
                .and(fine_days.axis_iter(Axis(1)))
                .and(smooth_days.axis_iter(Axis(1)))
                .par_for_each(|mut sums, mut counts, fine, smooth| {
                    for (step, &month) in months.iter().enumerate() {
                        let cells = fine.row(step).into_iter().zip(smooth.row(step));
                        for ((&f, &s), (sum, count)) in
                            cells.zip(sums.row_mut(month).into_iter().zip(counts.row_mut(month)))
                        {
                            if !(f.is_nan() || s.is_nan()) {
                                *sum += f64::from(f) - f64::from(s);
                                *count += 1;
                            }
                        }
                    }
                }),
            Detail::Multiplicative => ndarray::Zip::from(sums.axis_iter_mut(Axis(1)))
                .and(smooth_sums.axis_iter_mut(Axis(1)))
                .and(counts.axis_iter_mut(Axis(1)))
                .and(fine_days.axis_iter(Axis(1)))
                .and(smooth_days.axis_iter(Axis(1)))
                .par_for_each(|mut sums, mut smooth_sums, mut counts, fine, smooth| {
                    for (step, &month) in months.iter().enumerate() {
                        let cells = fine.row(step).into_iter().zip(smooth.row(step));
                        let totals = sums.row_mut(month).into_iter().zip(smooth_sums.row_mut(month));
                        for ((&f, &s), ((sum, smooth_sum), count)) in cells.zip(totals.zip(counts.row_mut(month))) {
                            if !(f.is_nan() || s.is_nan()) {
                                *sum += f64::from(f);
                                *smooth_sum += f64::from(s);
                                *count += 1;
                            }
                        }
                    }
                }),
        }
    }
    let maps: Array3<f32> = match detail {
        Detail::Additive => ndarray::Zip::from(&sums)
            .and(&counts)
            .map_collect(|&sum, &count| if count == 0 { f32::NAN } else { (sum / f64::from(count)) as f32 }),
        Detail::Multiplicative => {
            ndarray::Zip::from(&sums).and(&smooth_sums).and(&counts).map_collect(|&sum, &smooth_sum, &count| {
                if count == 0 { f32::NAN } else { bounded_ratio(sum, smooth_sum) }
            })
        }
    };
    let mut attrs = template.attrs.clone();
    attrs.insert(
        "long_name".into(),
        AttrValue::Text(format!("BCSD spatial anomaly of {} by calendar month", template.name)),
    );
    attrs.insert("anomaly_kind".into(), AttrValue::Text(detail.as_str().into()));
    let mut coords: Vec<Coordinate> =
        template.coords.iter().filter(|c| c.dims.len() == 1 && c.dims[0] != "time").cloned().collect();
    coords.push(Coordinate {
        name: "month".into(),
        dims: vec!["month".into()],
        values: CoordValues::Numbers((1..=12).map(f64::from).collect()),
        attrs: [("long_name".to_string(), AttrValue::Text("calendar month".into()))].into_iter().collect(),
        bounds: None,
    });
    let mut dims = template.dims.clone();
    dims[0] = "month".into();
    Ok(DataArray {
        name: template.name.clone(),
        source: template.source.clone(),
        dims,
        data: maps.into_dyn(),
        coords,
        time: None,
        attrs,
        global_attrs: template.global_attrs.clone(),
    })
}

/// The ratio of the observed to the smoothed total, within [`RATIO_BOUNDS`]; 1 where both are dry (nothing to
/// restore) and the upper bound where only the smoothed field is.
fn bounded_ratio(observed: f64, smoothed: f64) -> f32 {
    let (low, high) = RATIO_BOUNDS;
    if smoothed <= 0.0 {
        return if observed <= 0.0 { 1.0 } else { high };
    }
    ((observed / smoothed) as f32).clamp(low, high)
}

/// BCSD's last step: each day of `fine` (the interpolated field of `source` on the days of `time`, or a tile of it)
/// with its month's anomaly restored (`detail`), then NaN off `land`, in place (the daily field is the largest
/// array of the task; a copy would double its memory). Additive detail is not clipped, as in the original;
/// multiplicative detail sets amounts under [`TRACE_PRECIPITATION`] (and any negative value) to 0.
pub fn restore_detail_and_mask(
    mut fine: ArrayD<f32>,
    time: Option<&TimeAxis>,
    source: &str,
    anomalies: &DataArray,
    land: &ndarray::Array2<bool>,
    detail: Detail,
) -> Result<ArrayD<f32>, TaskError> {
    let maps = anomalies.data.view().into_dimensionality::<Ix3>().map_err(TaskError::new)?;
    let time = time.ok_or_else(|| TaskError::new(format!("{source}: no time axis")))?;
    let mut data = fine.view_mut().into_dimensionality::<Ix3>().map_err(TaskError::new)?;
    if data.shape()[1..] != maps.shape()[1..] || land.shape() != &data.shape()[1..] {
        return Err(TaskError::new(format!("{source}: the anomalies and the land mask are not on this grid")));
    }
    for (step, mut day) in data.axis_iter_mut(Axis(0)).enumerate() {
        let anomaly = maps.index_axis(Axis(0), time.dates[step].month as usize - 1);
        let cells = ndarray::Zip::from(&mut day).and(&anomaly).and(land);
        match detail {
            Detail::Additive => cells.for_each(|value, &a, &is_land| {
                *value = if is_land { *value + a } else { f32::NAN };
            }),
            Detail::Multiplicative => cells.for_each(|value, &a, &is_land| {
                let restored = *value * a;
                *value = if !is_land {
                    f32::NAN
                } else if restored < TRACE_PRECIPITATION {
                    0.0
                } else {
                    restored
                };
            }),
        }
    }
    Ok(fine)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_bounded_and_dry_months_restore_nothing() {
        assert_eq!(bounded_ratio(3.0, 2.0), 1.5);
        assert_eq!(bounded_ratio(100.0, 1.0), RATIO_BOUNDS.1);
        assert_eq!(bounded_ratio(0.01, 1.0), RATIO_BOUNDS.0);
        assert_eq!(bounded_ratio(0.0, 0.0), 1.0);
        assert_eq!(bounded_ratio(2.0, 0.0), RATIO_BOUNDS.1);
    }
}
