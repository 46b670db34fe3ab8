//! BCSD's spatial anomalies (methods.md §3.2 step 2): the fine detail the coarse grid cannot hold, per calendar
//! month, `A[m] = mean over the training days of month m of (obs − interpolated coarse obs)`; additive for every
//! variable, as the original (classic BCSD uses ratios for precipitation). Adding them back restores the detail.

use downscale_data::{AttrValue, CoordValues, Coordinate, DataArray, VariableReader};
use downscale_engine::{Budget, TaskError};
use ndarray::{Array3, Axis, Ix3};

use crate::tasks::blocks::time_blocks;

/// The 12 maps `(month, lat, lon)` of `obs` and the interpolated coarse obs, read block of days by block of days
/// (the block's two fields and the maps' sums in memory, blocks as large as `budget` allows); a month without
/// training days is NaN.
pub fn spatial_anomalies(
    obs: &VariableReader,
    interpolated: &VariableReader,
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
    let mut sums = Array3::<f64>::zeros((12, n_lat, n_lon));
    let mut counts = Array3::<u32>::zeros((12, n_lat, n_lon));
    // Blocks in turn, each read by both readers at once.
    let in_turn = Budget { threads: 1, ..budget };
    for days in time_blocks(steps, 2 * 4 * n_lat * n_lon, 1, in_turn) {
        let ranges = [days, 0..n_lat, 0..n_lon];
        let (fine, smooth) = rayon::join(|| obs.read_block(&ranges), || interpolated.read_block(&ranges));
        let (fine, smooth) = (fine?, smooth?);
        let time = fine.time.as_ref().ok_or_else(|| TaskError::new(format!("{}: no time axis", fine.source)))?;
        let fine_days = fine.data.view().into_dimensionality::<Ix3>().map_err(TaskError::new)?;
        let smooth_days = smooth.data.view().into_dimensionality::<Ix3>().map_err(TaskError::new)?;
        let months: Vec<usize> = time.dates.iter().map(|date| date.month as usize - 1).collect();
        // Latitude rows in parallel; each cell still adds its days in time order, so the maps are the same bits
        // whatever the number of threads or the size of the blocks.
        ndarray::Zip::from(sums.axis_iter_mut(Axis(1)))
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
            });
    }
    let maps: Array3<f32> = ndarray::Zip::from(&sums)
        .and(&counts)
        .map_collect(|&sum, &count| if count == 0 { f32::NAN } else { (sum / f64::from(count)) as f32 });
    let mut attrs = template.attrs.clone();
    attrs.insert(
        "long_name".into(),
        AttrValue::Text(format!("BCSD spatial anomaly of {} by calendar month", template.name)),
    );
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

/// BCSD's last step (§3.2 step 5): each day plus its month's anomaly, then NaN off `land`, in place (the daily
/// field is the largest array of the task; a copy would double its memory). No clipping: additive anomalies can make
/// precipitation negative, as in the original.
pub fn add_anomalies_and_mask(
    mut fine: DataArray,
    anomalies: &DataArray,
    land: &ndarray::Array2<bool>,
) -> Result<DataArray, TaskError> {
    let maps = anomalies.data.view().into_dimensionality::<Ix3>().map_err(TaskError::new)?;
    let (source, time) = (&fine.source, &fine.time);
    let time = time.as_ref().ok_or_else(|| TaskError::new(format!("{source}: no time axis")))?;
    let mut data = fine.data.view_mut().into_dimensionality::<Ix3>().map_err(TaskError::new)?;
    if data.shape()[1..] != maps.shape()[1..] || land.shape() != &data.shape()[1..] {
        return Err(TaskError::new(format!("{source}: the anomalies and the land mask are not on this grid")));
    }
    for (step, mut day) in data.axis_iter_mut(Axis(0)).enumerate() {
        let anomaly = maps.index_axis(Axis(0), time.dates[step].month as usize - 1);
        ndarray::Zip::from(&mut day).and(&anomaly).and(land).for_each(|value, &a, &is_land| {
            *value = if is_land { *value + a } else { f32::NAN };
        });
    }
    Ok(fine)
}
